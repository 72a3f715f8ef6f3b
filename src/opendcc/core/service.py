"""The DCC Data Service: what happens to an authenticated DUIS request.

`DataService.handle` runs, in one database transaction:

1. the signer is a DUIS user and the RequestID's originator (E1);
2. replay protection: the RequestID counter must exceed the originator's last (atomic);
3. access control (`core.access_control`): Command Variant, URL, role, device, registration;
4. the answer: non-device SRVs (CV 8) from the inventory and registration data, synchronously;
   device SRVs from the `DeviceLayer`. The default, `UnreachableDevices`, answers as DUIS
   specifies for a device the DCC cannot reach: an acknowledgement (I99) now and the
   asynchronous E20 "unable to communicate with device". Never a fabricated success.

Every request that reaches `handle` is audited: an accepted one in its own transaction. A
rejected request changes nothing else: its transaction (counter advance included) is rolled
back, so the originator may reuse the counter, and its audit record is written in a
transaction of its own. The gateway signs `Outcome.sync` and puts
`Outcome.deferred` into the outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, Protocol

from lxml import etree
from sqlalchemy.engine import Connection

from opendcc.clock import Clock
from opendcc.core import access_control, change_of_supplier, commissioning
from opendcc.core.anomaly_detection import AnomalyDetector, Thresholds
from opendcc.core.read_inventory import dsp_inventory, read_query
from opendcc.duis.catalogue import Catalogue, CommandVariant, ServiceRequestVariant
from opendcc.duis.request import SR, DuisRequest
from opendcc.duis.response import acknowledgement, build_response, success
from opendcc.duis.response_codes import (
    DeviceNotReachable,
    DeviceUnknown,
    DuisError,
    ResponseCode,
    ServiceNotImplemented,
)
from opendcc.ids import EUI64, InvalidIdentifier, MPxN
from opendcc.inventory.model import Device
from opendcc.store import audit
from opendcc.store import inventory as inventory_repo
from opendcc.store.counters import advance_counter
from opendcc.store.engine import Store
from opendcc.store.users import get_user

Endpoint = Literal["serviceD", "serviceS", "serviceT"]

# Command Variants whose command goes over the SM WAN: acknowledged now, answered later.
_WAN_VARIANTS: Final = frozenset(
    {CommandVariant.SEND, CommandVariant.SEND_AND_LOCAL, CommandVariant.SIGNED_SEND,
     CommandVariant.SIGNED_SEND_AND_LOCAL}
)


@dataclass(frozen=True)
class Outcome:
    """The Data Service's answer: the synchronous response and any async ones (all unsigned)."""

    sync: etree._Element
    deferred: list[etree._Element] = field(default_factory=list)

    @property
    def code(self) -> str:
        """The synchronous ResponseCode."""
        return _code_of(self.sync)


def _code_of(response: etree._Element) -> str:
    return response.findtext(f"{{{SR}}}Header/{{{SR}}}ResponseCode") or "?"


NonDeviceHandler = Callable[[Connection, DuisRequest, datetime], etree._Element]


def _read_inventory(conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
    """SRV 8.2 Read Inventory: the devices matching the selector, with their comms hub peers."""
    query = read_query(request.body)
    try:
        if query.by == "DeviceID":
            device = inventory_repo.get_device(conn, EUI64.parse(query.value))
            devices = [] if device is None else inventory_repo.devices_for_device(conn, device)
        elif query.by == "MPxN":
            devices = inventory_repo.devices_for_mpxn(conn, MPxN.parse(query.value))
        elif query.by == "UPRN":
            devices = inventory_repo.devices_for_uprn(conn, query.value)
        else:
            devices = inventory_repo.devices_for_address(
                conn, query.value, query.address_identifier or ""
            )
    except InvalidIdentifier:
        devices = []
    if not devices:
        raise DeviceUnknown(f"no device in the Smart Metering Inventory for {query.by} {query.value!r}")
    return success(request, now, dsp_inventory(devices))


# Non-device SRVs answered from the store, by Service Reference Variant.
NON_DEVICE_HANDLERS: Final[dict[str, NonDeviceHandler]] = {
    "8.2": _read_inventory,
    **commissioning.NON_DEVICE_HANDLERS,
}


class DeviceLayer(Protocol):
    """What lies behind the DCC for device SRVs (transform, WAN, devices).

    Called after replay protection and access control have passed, inside the request's
    transaction; it answers with an `Outcome` or raises the `DuisError` for the request.
    """

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        """Act on an authorised device SRV addressed to `device`."""
        ...


class UnreachableDevices:
    """The device layer of a DCC with no devices behind it: every device is unreachable."""

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        """DUIS 5.4 §3.5: I99 now, E20 (unable to communicate with the device) later.

        Command Variants that return a command or Pre-Command synchronously (2, 4, 6) are
        refused with E20 at once: there is no transform behind this layer.
        """
        if request.command_variant not in _WAN_VARIANTS:
            raise DeviceNotReachable(
                f"SRV {srv.variant} with Command Variant {request.command_variant} needs the "
                "DUIS-to-GBCS transform, which this DCC does not provide yet"
            )
        failure = build_response(
            str(request.request_id), ResponseCode.E20, now=now,
            service_reference=request.service_reference,
            variant=request.service_reference_variant,
        )
        return Outcome(acknowledgement(request, now), [failure])


class DataService:
    """DUIS 5.4 §3: replay protection, access control and the DCC's answer to each request."""

    def __init__(self, store: Store, catalogue: Catalogue, clock: Clock,
                 devices: DeviceLayer | None = None, *,
                 anomaly: AnomalyDetector | None = None) -> None:
        self.store = store
        self.catalogue = catalogue
        self.clock = clock
        self.devices: DeviceLayer = devices or UnreachableDevices()
        # Step 5, after access control: quarantine what exceeds a threshold (off by default).
        self.anomaly = anomaly or AnomalyDetector(Thresholds(), clock)

    def handle(self, request: DuisRequest, signer: EUI64, endpoint: Endpoint | str, *,
               on_outcome: Callable[[Connection, Outcome], None] | None = None) -> Outcome:
        """Decide one authenticated request; raise its `DuisError` if it is rejected.

        `signer` is the entity of the certificate that verified the request's signature.
        `on_outcome` runs inside the same transaction (the gateway queues the deferred
        responses there, so they are stored if and only if the request is).
        """
        now = self.clock.now()
        self._prepare_device_layer(request, now)
        try:
            with self.store.begin() as conn:
                outcome = self._decide(conn, request, signer, endpoint, now)
                self._audit(conn, request, endpoint, now, outcome.code,
                            None if not outcome.deferred else
                            "deferred: " + " ".join(_code_of(d) for d in outcome.deferred))
                if on_outcome is not None:
                    on_outcome(conn, outcome)
                return outcome
        except DuisError as exc:
            # The transaction rolled back (counter advance included); only the audit record of
            # the rejection is kept, in a transaction of its own. No savepoint on the accepted
            # path: SAVEPOINT + RELEASE cost ~100 us of CPU per request (SQLite, benchmark).
            code = exc.code.value if exc.code else f"HTTP {int(exc.http_status)}"
            with self.store.begin() as conn:
                self._audit(conn, request, endpoint, now, code,
                            f"{type(exc).__name__}: {exc.detail}")
            raise

    def _prepare_device_layer(self, request: DuisRequest, now: datetime) -> None:
        """Let a device layer that can (`prepare`) run its Transform before the transaction:
        the store's write turn is then held for the checks and writes alone, not for the
        Transform (~1/3 of a device SRV's CPU), so gateway processes sharing a store overlap.
        The device type is read outside the transaction; the layer uses its result only if
        the transaction finds the same type, and raises any refusal where it would have."""
        prepare = getattr(self.devices, "prepare", None)
        if prepare is None:
            return
        try:
            srv = self.catalogue.for_request(request.service_reference,
                                             request.service_reference_variant)
        except DuisError:
            return
        if srv.non_device:
            return
        with self.store.peek() as conn:
            device_type = inventory_repo.device_type_of(conn, request.request_id.target)
        if device_type is not None:
            prepare(request, device_type.value, now)

    def _decide(self, conn: Connection, request: DuisRequest, signer: EUI64, endpoint: str,
                now: datetime) -> Outcome:
        srv = self.catalogue.for_request(request.service_reference, request.service_reference_variant)
        user = access_control.check_user(get_user(conn, signer), signer, request.request_id)
        advance_counter(conn, request.request_id.originator, request.request_id.counter)
        access_control.check_command_variant(srv, request.command_variant, endpoint)
        eligible = access_control.check_role(user, srv)
        if srv.non_device:
            handler = NON_DEVICE_HANDLERS.get(srv.variant)
            if handler is None:  # the device layer may answer some (e.g. DCC schedules, 5.x)
                handler = getattr(self.devices, "non_device_handlers", {}).get(srv.variant)
            if handler is None:
                raise ServiceNotImplemented(
                    f"non-device SRV {srv.variant} ({srv.name}) is not provided by opendcc yet"
                )
            self.anomaly.check(request.request_id.originator, srv.variant)
            return Outcome(handler(conn, request, now))
        target = request.request_id.target
        # E4 is "not authorised for the device at the required date and time": a future-dated
        # request must find the user registered both now and when it executes.
        instants = [now]
        if request.execution_datetime is not None and request.execution_datetime > now:
            instants.append(request.execution_datetime)
        for when in instants:
            device = access_control.check_device(
                user, srv, eligible, target, self._device_access(conn, target, when)
            )
        effect = commissioning.device_effect(request)
        if effect is not None:  # an inventory-changing SRV that could not take effect: E19 / E5
            commissioning.check_device_srv(conn, effect.srv, effect.target, effect.other)
        change_of_supplier.check_cos_request(conn, request, srv.variant, now)  # 6.23: E4
        self.anomaly.check(request.request_id.originator, srv.variant)
        return self.devices.submit(request, srv, device, now)

    @staticmethod
    def _device_access(conn: Connection, target: EUI64, now: datetime) -> access_control.DeviceAccess:
        device = inventory_repo.get_device(conn, target)
        if device is None:
            return access_control.DeviceAccess(None, ())
        mpxns = inventory_repo.responsible_mpxns(conn, device)
        registrations = inventory_repo.registrations_at(conn, mpxns, now)
        return access_control.DeviceAccess(device, tuple(registrations))

    @staticmethod
    def _audit(conn: Connection, request: DuisRequest, endpoint: str, now: datetime, code: str,
               detail: str | None) -> None:
        audit.append(conn, audit.AuditRecord(
            at=now,
            response_code=code,
            originator=request.request_id.originator.hyphenated,
            request_id=str(request.request_id),
            service_reference_variant=request.service_reference_variant,
            endpoint=endpoint,
            detail=detail,
        ))
