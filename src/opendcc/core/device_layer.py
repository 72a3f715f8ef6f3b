"""Device layers for the Data Service: what a DCC with the Transform but no reachable devices
answers to device SRVs (DUIS 5.4 §3.2 Command Variants, §3.5 response codes).

`TransformOnly` runs the DCC Transform (`core.transform`) on every authorised device SRV, so
the user gets what does not need the device: the Pre-Command of a critical SRV (CV 4,
serviceT) and the command for local delivery (CV 2, 3, 6, 7). Whatever must cross the SM WAN
(CV 1, 3, 5, 7) is acknowledged (I99) and then answered asynchronously with E20, "unable to
communicate with the device".

`WanDeviceLayer` does the same and then sends the WAN part to emulated devices
(`core.routing.WanRouter`); `demo_device_side` builds it over a demo estate.
"""

from __future__ import annotations

import base64
import copy
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from lxml import etree
from sqlalchemy.engine import Connection

from opendcc.clock import Clock
from opendcc.core.alerts import AlertRouter, Deliver, Parties
from opendcc.core.commissioning import (
    DeviceEffect,
    apply_device_success,
    device_effect,
    record_han_join,
)
from opendcc.core.routing import RoutedCommand, WanRouter, execution_time
from opendcc.core.scheduler import (
    FREQUENCIES,
    DccSchedule,
    DccSchedules,
    Scheduler,
    TimerThread,
    dsp_body,
    first_run,
    on_demand_body,
    schedule_end,
    schedule_start,
)
from opendcc.core.service import DataService, NonDeviceHandler, Outcome
from opendcc.core.transform import TransformResult, finish_signed_precommand, transform
from opendcc.devices.estate import Estate
from opendcc.devices.events import Alert
from opendcc.devices.gbcs import DeviceGbcsEndpoint
from opendcc.devices.gbcs.keys import DeviceCredentials, EstateKeyStore
from opendcc.devices.wan import ZERO_LATENCY, LinkProfile
from opendcc.duis.catalogue import ServiceRequestVariant, load_catalogue
from opendcc.duis.request import SR, DuisRequest, read_request
from opendcc.duis.response import (
    acknowledgement,
    build_response,
    error_response,
    payload_element,
    success,
)
from opendcc.duis.response_codes import DeviceUnknown, DuisError, ResponseCode
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64, RequestID
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.lifecycle import DeviceType as InventoryType
from opendcc.inventory.model import Device, Registration
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import KeyStore
from opendcc.smki.repository import CertificateRepository
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store

_log = logging.getLogger(__name__)

#: `sr:PreCommand/sr:GBCSVersion`: the GBCS version the RTDS 4.5 vectors are written to.
GBCS_VERSION: Final = "4.0"
_SIGNED: Final = frozenset({5, 6, 7})


class ScheduleUnknown(DuisError):
    """SRV 5.3 names a DCC schedule the user does not hold. E050301, the first SRV-specific
    error of 5.3 in the DUIS schema's code list (its wording not checked against DUIS §3.5)."""

    code = ResponseCode.E050301


class NoScheduleToRead(ScheduleUnknown):
    """SRV 5.2 selects no DCC schedule of the user: E050201 (first SRV-specific error of 5.2,
    its wording likewise not checked)."""

    code = ResponseCode.E050201


class MillisecondCounter:
    """Originator counters for commands the DCC originates: strictly rising, at least the
    current time in milliseconds (so they keep rising across restarts, as the DCC tool's do)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, int(self._clock.now().timestamp() * 1000))
            return self._last


def _b64(octets: bytes) -> str:
    return base64.b64encode(octets).decode("ascii")


def _message(name: str, gbcs: bytes, version: str | None = None) -> etree._Element:
    element = payload_element(name)
    if version is not None:
        element.append(payload_element("GBCSVersion", version))
    element.append(payload_element("GBCSPayload", _b64(gbcs)))
    return element


#: A Transform run ahead: the request, device type and time it was for, and what it gave.
_Prepared = tuple[DuisRequest, str, datetime, "TransformResult | DuisError"]


class TransformOnly:
    """A `DeviceLayer`: the DCC Transform in front of devices the DCC cannot reach."""

    def __init__(self, keys: KeyLookup, counter: Callable[[], int]) -> None:
        self.keys = keys
        self.counter = counter
        self._prepared = threading.local()

    def prepare(self, request: DuisRequest, device_type: str, now: datetime) -> None:
        """Run the Transform for `request` ahead of its transaction (the Data Service calls
        this before taking the store's write turn): `submit` for the same request object,
        device type and time then uses the result, or raises the Transform's refusal, at the
        point of the checks it would have reached anyway. The Transform is pure (request,
        time, keys, tables), so only where it runs changes; two gateway processes sharing an
        SQLite file no longer wait for each other's Transform."""
        try:
            result: TransformResult | DuisError = self._run_transform(request, device_type, now)
        except DuisError as exc:
            result = exc
        self._prepared.value = (request, device_type, now, result)

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        """DUIS 5.4 §3.2: transform the request, return what needs no device, E20 for the rest."""
        result = self._transform(request, device, now)
        if result.pre_command:
            return Outcome(success(request, now, _message("PreCommand", result.gbcs, GBCS_VERSION)))
        if result.deliver_locally:
            sync = success(request, now, _message("LocalCommand", result.gbcs))
        else:
            sync = acknowledgement(request, now)
        deferred = []
        if result.send_over_wan:
            deferred.append(build_response(
                str(request.request_id), ResponseCode.E20, now=now,
                service_reference=request.service_reference,
                variant=request.service_reference_variant,
            ))
        return Outcome(sync, deferred)

    def _transform(self, request: DuisRequest, device: Device, now: datetime) -> TransformResult:
        device_type = device.device_type.value
        ahead: _Prepared | None = getattr(self._prepared, "value", None)
        self._prepared.value = None
        if ahead is not None and ahead[0] is request and ahead[1] == device_type \
                and ahead[2] == now:
            if isinstance(ahead[3], DuisError):
                raise ahead[3]
            return ahead[3]
        return self._run_transform(request, device_type, now)

    def _run_transform(self, request: DuisRequest, device_type: str, now: datetime
                       ) -> TransformResult:
        if request.command_variant in _SIGNED:
            return finish_signed_precommand(request, keys=self.keys)
        return transform(request, now=now, counter=self.counter(), keys=self.keys,
                         device_type=device_type)


class WanDeviceLayer(TransformOnly):
    """A `DeviceLayer` with devices behind it: the Transform, then the SM WAN to the device.

    What needs no device is answered as `TransformOnly` does (Pre-Command, command for local
    delivery); what crosses the WAN is acknowledged (I99) and handed to the `WanRouter`, which
    delivers the device's answer, or the WAN's failure code, to the user later.
    """

    def __init__(self, keys: KeyLookup, counter: Callable[[], int], router: WanRouter) -> None:
        super().__init__(keys, counter)
        self.router = router
        self.schedules = DccSchedules(router.clock)
        self._pre_command_effects: dict[tuple[EUI64, EUI64, str], DeviceEffect] = {}
        #: Non-device SRVs this layer answers (the Data Service asks it after its own table).
        self.non_device_handlers: dict[str, NonDeviceHandler] = {
            "5.1": self._create_schedule,
            "5.2": self._read_schedule,
            "5.3": self._delete_schedule,
        }

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        """DUIS 5.4 §3.2: transform; Pre-Command or local command now; the device's answer later."""
        result = self._transform(request, device, now)
        if result.pre_command:
            self._effect(request, result)
            return Outcome(success(request, now, _message("PreCommand", result.gbcs, GBCS_VERSION)))
        if result.deliver_locally:
            sync = success(request, now, _message("LocalCommand", result.gbcs))
        else:
            sync = acknowledgement(request, now)
        if result.send_over_wan:
            self.router.send(result.gbcs, RoutedCommand(
                request.request_id, request.service_reference, request.service_reference_variant,
                execution_time(request.execution_datetime), effect=self._effect(request, result),
                # Future Dated Response Pattern "Device" (or "DSP & Device"): the device holds it.
                held_by_device="Device" in (srv.future_dated_pattern or "")))
        return Outcome(sync)

    def _effect(self, request: DuisRequest, result: TransformResult) -> DeviceEffect | None:
        """The inventory change of `request`; a signed Pre-Command's other device (8.7) is the
        one the DCC's Pre-Command for the same user, device and SRV named (CV 4)."""
        effect = device_effect(request)
        if effect is None:
            return None
        key = (request.request_id.originator, effect.target, effect.srv)
        if result.pre_command:
            self._pre_command_effects[key] = effect
        elif effect.other is None:
            return self._pre_command_effects.pop(key, effect)
        return effect

    # DCC-scheduled SRVs (DUIS 5.4 §3.2) ----------------------------------------------------

    def _create_schedule(self, conn: Connection, request: DuisRequest, now: datetime
                         ) -> etree._Element:
        """SRV 5.1 Create Schedule: hold it and answer its DSPScheduleID."""
        create = request.body
        reference = _field(create, "DSPScheduledServiceReference")
        variant = _field(create, "DSPScheduledServiceReferenceVariant")
        device_id = EUI64.parse(_field(create, "DeviceID"))
        device = inventory_repo.get_device(conn, device_id)
        if device is None:
            raise DeviceUnknown(f"no device {device_id} in the Smart Metering Inventory")
        period = FREQUENCIES[_field(create, "ScheduleFrequency")]
        dsp = copy.deepcopy(dsp_body(create))
        user = request.request_id.originator
        device_type = device.device_type.value
        ids: list[int] = []

        def fire(at: datetime) -> None:
            self._run_scheduled(ids[0], user, device_id, device_type, reference, variant, dsp, at)

        schedule = self.schedules.create(user.hyphenated,
                                         first_run(schedule_start(create), period, now),
                                         period, fire, until=schedule_end(create),
                                         details=copy.deepcopy(create))
        ids.append(schedule.schedule_id)
        return success(request, now, payload_element("DSPScheduleID", str(schedule.schedule_id)))

    def _selected(self, request: DuisRequest,
                  missing: type[ScheduleUnknown] = ScheduleUnknown) -> list[DccSchedule]:
        """The user's schedules a 5.2 / 5.3 body selects: by DSPScheduleID, else by DeviceID."""
        user = request.request_id.originator.hyphenated
        wanted = (request.body.findtext(f"{{{SR}}}DSPScheduleID") or "").strip()
        device = (request.body.findtext(f"{{{SR}}}DeviceID") or "").strip()
        found = [s for s in self.schedules.of(user)
                 if (str(s.schedule_id) == wanted if wanted else
                     s.details is not None and _field(s.details, "DeviceID") == device)]
        if not found:
            raise missing(f"{user} holds no DCC schedule {wanted or 'for ' + device}")
        return found

    def _read_schedule(self, conn: Connection, request: DuisRequest, now: datetime
                       ) -> etree._Element:
        """SRV 5.2 Read Schedule: the selected schedules with what was asked for each."""
        read = payload_element("DSPSchedulesRead")
        for schedule in self._selected(request, NoScheduleToRead)[:99]:
            entry = etree.SubElement(read, f"{{{SR}}}DSPSchedules")
            etree.SubElement(entry, f"{{{SR}}}DSPScheduleID").text = str(schedule.schedule_id)
            details = etree.SubElement(entry, f"{{{SR}}}DSPScheduleDetails")
            details.extend(copy.deepcopy(list(schedule.details)))
        return success(request, now, read)

    def _delete_schedule(self, conn: Connection, request: DuisRequest, now: datetime
                         ) -> etree._Element:
        """SRV 5.3 Delete Schedule: by DSPScheduleID, or every schedule of the user for a device."""
        ids = [s.schedule_id for s in self._selected(request)]
        for schedule_id in ids:
            self.schedules.delete(schedule_id)
        return success(request, now)

    def _run_scheduled(self, schedule_id: int, user: EUI64, device: EUI64, device_type: str,
                       reference: str, variant: str, dsp: etree._Element, at: datetime) -> None:
        root = etree.Element(f"{{{SR}}}Request", nsmap={"sr": SR})
        root.set("schemaVersion", "5.4")
        header = etree.SubElement(root, f"{{{SR}}}Header")
        request_id = RequestID(user, device, self.counter())
        for name, text in (("RequestID", str(request_id)), ("CommandVariant", "1"),
                           ("ServiceReference", reference), ("ServiceReferenceVariant", variant)):
            etree.SubElement(header, f"{{{SR}}}{name}").text = text
        etree.SubElement(root, f"{{{SR}}}Body").append(on_demand_body(dsp, at))
        routed = RoutedCommand(request_id, reference, variant, schedule_id=schedule_id)
        try:
            result = transform(read_request(root), now=at, counter=self.counter(), keys=self.keys,
                               device_type=device_type)
        except DuisError as exc:
            _log.warning("DCC schedule %s: SRV %s cannot be sent: %s", schedule_id, variant, exc)
            if exc.code is not None:
                self.router.deliver(user, error_response(exc, str(request_id), at,
                                                         service_reference=reference,
                                                         variant=variant))
            return
        self.router.send(result.gbcs, routed)


@dataclass
class DeviceSide:
    """An emulated estate wired to the DCC: WAN router, device layer and alert routing."""

    estate: Estate
    keys: KeyStore
    router: WanRouter
    layer: WanDeviceLayer
    alerts: AlertRouter | None = None

    def connect(self, deliver: Deliver, parties: Parties | None = None) -> None:
        """Send device answers and alerts to `deliver` (the gateway's `Services.deliver`)."""
        self.router.deliver = deliver
        if parties is not None:
            self.alerts = AlertRouter(deliver, parties, self.keys, self.layer.counter,
                                      lambda hub: self.estate.premises_of(hub).esme.id)

    def follow_inventory(self, store: Store) -> None:
        """When a device carries out 8.11, 8.1.1 or 8.7, apply the inventory change
        (`commissioning.apply_device_success`) in its own transaction; when a whitelisted
        device joins a hub's HAN, record the join (`commissioning.record_han_join`:
        InstalledNotCommissioned)."""

        def apply(routed: RoutedCommand) -> None:
            effect = routed.effect
            assert effect is not None
            try:
                with store.begin() as conn:
                    apply_device_success(conn, effect.srv, effect.target, self.router.clock.now(),
                                         effect.other)
            except DuisError as exc:  # the inventory moved meanwhile: the device's word stands
                _log.warning("SRV %s carried out by %s, inventory not updated: %s",
                             effect.srv, effect.target, exc)

        def joined(device_id: str, at: datetime) -> None:
            try:
                with store.begin() as conn:
                    record_han_join(conn, EUI64.parse(device_id), at)
            except DuisError as exc:  # e.g. a device the inventory does not hold: the hub's word
                _log.warning("HAN join of %s not recorded in the inventory: %s", device_id, exc)

        self.router.on_effect = apply
        for premises in self.estate.premises:
            premises.chf.on_join = joined

    def close(self) -> None:
        """Stop the wall-clock scheduler the devices run on, if it is a `TimerThread`."""
        if isinstance(self.router.clock, TimerThread):
            self.router.clock.stop()


def demo_device_side(clock: Scheduler, remote_parties: KeyStore, *, premises: int = 0,
                     seed: int = 1, device_seed: bytes | None = None,
                     authority: Authority | None = None) -> DeviceSide:
    """The demo estate (the DCC Boxed devices plus `premises` generated premises) behind the
    DCC: devices manufactured with SMKI credentials (`devices.gbcs.keys.DeviceCredentials`:
    keys derived from the estate secret `device_seed`, random unless given, and certificates
    issued into the authority's repository when first needed), the DCC Transform MACing for
    them, the WAN on `clock`. Call `connect` to deliver what comes back."""
    side: DeviceSide | None = None

    def on_alert(alert: Alert) -> None:
        if side is not None and side.alerts is not None:
            side.alerts.on_alert(alert)

    estate = Estate.demo(premises, seed=seed, clock=clock, alert_sink=on_alert)
    if authority is None:
        authority = Authority.open(CertificateRepository("sqlite://"))
    devices = DeviceCredentials.open(authority, estate.hosts, manufactured_at=clock.now(),
                                     secret=device_seed)
    keys = EstateKeyStore(devices, remote_parties)
    router = WanRouter(estate, DeviceGbcsEndpoint(estate, keys, clock), clock)
    side = DeviceSide(estate, keys, router, WanDeviceLayer(keys, MillisecondCounter(clock), router))
    return side


def _field(parent: etree._Element, name: str) -> str:
    value = parent.findtext(f"{{{SR}}}{name}")
    if not value or not value.strip():
        raise ValueError(f"{etree.QName(parent).localname} has no {name}")
    return value.strip()


#: Who is registered for the generated premises' meter points (the ZAZ1 test users).
DEMO_SUPPLIER: Final = EUI64.parse("90-B3-D5-1F-30-01-00-00")
DEMO_NETWORK_OPERATOR: Final = EUI64.parse("90-B3-D5-1F-30-02-00-00")


def serve_device_side(store: Store, remote_parties: KeyStore, *, premises: int = 10,
                      clock: Scheduler | None = None, link: LinkProfile = ZERO_LATENCY,
                      authority: Authority | None = None) -> tuple[DataService, DeviceSide]:
    """For `opendcc serve`: the demo estate (the DCC Boxed premises and `premises` generated
    ones, added to the inventory with the ZAZ1 supplier and network operator registered) on
    the wall clock (`TimerThread`) behind a Data Service over `store`, its WAN links `link`
    (default: no added latency, HTTP has its own).
    Build the gateway with this service, then `side.connect` it to `Services.deliver` (with
    `alerts.registered_parties(store, ...)`). With the `authority` of the gateway's SMKI
    repository, the devices' certificates are published there (and their secret kept there,
    so a restart derives the same keys)."""
    scheduler = clock or TimerThread()
    side = demo_device_side(scheduler, remote_parties, premises=premises, authority=authority)
    side.estate.wan.profile = link
    seed_demo(store)  # the DCC Boxed premises as the inventory knows them (idempotent)
    register_estate(store, side.estate, DEMO_SUPPLIER, DEMO_NETWORK_OPERATOR,
                    scheduler.now() - timedelta(days=1))
    side.follow_inventory(store)
    return DataService(store, load_catalogue(), scheduler, devices=side.layer), side


def register_estate(store: Store, estate: Estate, supplier: EUI64, network_operator: EUI64,
                    at: datetime) -> int:
    """Put the estate's devices that the inventory lacks (the generated premises) into the
    Smart Metering Inventory, commissioned, with `supplier` and `network_operator` registered
    for their meter points from `at`; returns how many devices were added."""
    added = 0
    with store.begin() as conn:
        for premises in estate.premises:
            hub = premises.chf.eui
            for device in premises.devices():
                if inventory_repo.get_device(conn, device.eui) is not None:
                    continue
                mpxn = getattr(device, "mpxn", None)
                inventory_repo.put_device(conn, Device(
                    device_id=device.eui, device_type=InventoryType(device.kind.value),
                    status=DeviceStatus.COMMISSIONED, manufacturer="opendcc",
                    model=f"OPENDCC-{device.kind.value}", firmware="00010000",
                    chf_id=hub, mpxn=mpxn, csp_region="Central",
                    date_commissioned=at.date()))
                if mpxn is not None:
                    inventory_repo.register(conn, Registration(mpxn, supplier, network_operator,
                                                               at))
                added += 1
    return added
