"""An emulated SMETS2 estate: premises of Communications Hub + ESME + GSME/GPF (+ PPMIDs).

`Estate.demo(premises=100, seed=1)` builds a deterministic estate: the same seed gives the same
device IDs, MPANs/MPRNs and consumption. With `boxed=True` (the default) it also hosts the
devices of DCC Boxed / RTDS (00-DB-12-34-56-78-90-A0 ESME, -A1 GSME, -A2 CHF, -A3 GPF,
-A4 PPMID and the further IDs the published DUIS templates name), so those templates can
target it unchanged.

`execute` runs an operation on a device directly over the HAN rules (whitelist, GSME via GPF);
`send` carries it over the simulated WAN with latency, loss, outages and deadlines; `schedule`
holds a future-dated command on the device and runs it when the clock gets there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from opendcc.clock import SimulatedClock
from opendcc.devices import han
from opendcc.devices.chf import CHF, HanEntry
from opendcc.devices.device import Device, DeviceType, PendingCommand
from opendcc.devices.errors import UnknownDevice, WrongDevice
from opendcc.devices.esme import ESME
from opendcc.devices.events import Alert
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import CONTACT_INTERVAL, GSME
from opendcc.devices.ihd import CAD, HCALCS, IHD
from opendcc.devices.load_model import DEFAULT_MODEL, LoadModel, unit
from opendcc.devices.meter import Meter
from opendcc.devices.ppmid import PPMID
from opendcc.devices.results import Result
from opendcc.devices.scheduler import Scheduler
from opendcc.devices.security import (
    ACCEPT_ALL,
    CommandAuthenticator,
    CommandHeader,
    RemotePartyRole,
    TrustAnchor,
    TrustAnchors,
)
from opendcc.devices.use_cases import UseCase, use_case
from opendcc.devices.wan import Delivery, Wan
from opendcc.ids import EUI64, MPxN

T = TypeVar("T")
R = TypeVar("R")

#: The ZAZ1 test organisations (reference keys/dccboxed-keystore.json) as default trust anchors.
ZAZ1_SUPPLIER = "90-B3-D5-1F-30-01-00-00"
ZAZ1_NETWORK_OPERATOR = "90-B3-D5-1F-30-02-00-00"
ZAZ1_ACCESS_CONTROL_BROKER = "90-B3-D5-1F-30-00-00-02"
ZAZ1_WAN_PROVIDER = "90-B3-D5-1F-30-00-00-07"
ZAZ1_RECOVERY = "90-B3-D5-1F-30-00-00-01"
ZAZ1_TRANSITIONAL_COS = "90-B3-D5-1F-30-00-00-04"

DEFAULT_ANCHORS = TrustAnchors((
    (RemotePartyRole.SUPPLIER, TrustAnchor(ZAZ1_SUPPLIER)),
    (RemotePartyRole.NETWORK_OPERATOR, TrustAnchor(ZAZ1_NETWORK_OPERATOR)),
    (RemotePartyRole.ACCESS_CONTROL_BROKER, TrustAnchor(ZAZ1_ACCESS_CONTROL_BROKER)),
    (RemotePartyRole.WAN_PROVIDER, TrustAnchor(ZAZ1_WAN_PROVIDER)),
    (RemotePartyRole.RECOVERY, TrustAnchor(ZAZ1_RECOVERY)),
    (RemotePartyRole.TRANSITIONAL_COS, TrustAnchor(ZAZ1_TRANSITIONAL_COS)),
))
#: The DCC Boxed GPF is DCC-controlled for its network operator cell (RTDS 6.21: the DCC holds
#: it until it hands it over to the network operator with CS02b).
BOXED_GPF_ANCHORS = DEFAULT_ANCHORS.with_anchor(
    RemotePartyRole.NETWORK_OPERATOR, TrustAnchor(ZAZ1_ACCESS_CONTROL_BROKER))

#: DCC Boxed / RTDS device IDs: the main premises, then further devices the templates name.
#: Types and MPxNs agree with the inventory's demo estate (`opendcc.inventory.demo`).
BOXED_PREMISES = {
    DeviceType.ESME: "00-DB-12-34-56-78-90-A0",
    DeviceType.GSME: "00-DB-12-34-56-78-90-A1",
    DeviceType.CHF: "00-DB-12-34-56-78-90-A2",
    DeviceType.GPF: "00-DB-12-34-56-78-90-A3",
    DeviceType.PPMID: "00-DB-12-34-56-78-90-A4",
}
BOXED_MPXN = {
    "00-DB-12-34-56-78-90-A0": "1312345678111",
    "00-DB-12-34-56-78-90-A1": "1000999888",
    "00-DB-12-34-56-78-90-A5": "1312345678444",
    "00-DB-12-34-56-78-90-A6": "1312345678555",
}
BOXED_EXTRA: tuple[tuple[str, DeviceType, str], ...] = (
    # (device ID, type, why the templates need it); all are on the hub's HAN.
    ("00-DB-12-34-56-78-90-A5", DeviceType.ESME, "CS03A2: joins HCALCS -93"),
    ("00-DB-12-34-56-78-90-A6", DeviceType.ESME, "ECS46d: auxiliary proportional controller"),
    ("00-DB-12-34-56-78-90-93", DeviceType.HCALCS, "joined to A5 by CS03A2"),
    ("00-DB-12-34-56-78-90-94", DeviceType.IHD, "joined to A4 by CS03C"),
    ("00-DB-12-34-56-78-90-97", DeviceType.HCALCS, "HCALCS of ECS46c"),
    ("00-DB-12-34-56-78-90-98", DeviceType.PPMID, "joined to A1 by CS03C"),
    ("00-DB-12-34-56-78-90-99", DeviceType.PPMID, "joined to A0; CS04AC unjoins it"),
    ("00-DB-12-34-56-78-90-9A", DeviceType.PPMID, "joined to A0 by CS03A1"),
    ("01-02-03-04-05-06-07-08", DeviceType.CAD, "joined to A4 and A1; CS04AC/CS04B unjoin it"),
)
BOXED_CAD = "01-02-03-04-05-06-07-08"
#: A replaced hub whose device logs CCS03 / GCS59 restore from.
BOXED_OLD_CHF = "00-DB-12-34-56-78-90-95"
BOXED_OLD_GPF = "00-DB-12-34-56-78-90-B3"

#: Response deadlines for `Estate.send`: on-demand commands, and commands waiting for a GSME.
DEFAULT_DEADLINE_S = 60.0
GSME_DEADLINE_S = 2 * CONTACT_INTERVAL.total_seconds() + 60.0

#: Share of generated premises with rooftop PV (2.5-4 kWp) exporting through the ESME.
PV_SHARE = 0.1

_MPAN_WEIGHTS = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 53)


def mpan_with_check_digit(first12: str) -> str:
    """An MPAN core: 12 digits and the MRA check digit (sum of digit x prime, mod 11, mod 10)."""
    total = sum(int(d) * w for d, w in zip(first12, _MPAN_WEIGHTS, strict=True))
    return first12 + str(total % 11 % 10)


@dataclass(slots=True, eq=False)
class Premises:
    """One premises: hub (CHF + GPF), ESME, GSME and any PPMIDs, with its MPAN and MPRN."""

    index: int
    chf: CHF
    esme: ESME
    gpf: GPF | None = None
    gsme: GSME | None = None
    others: tuple[Device, ...] = ()

    def devices(self) -> Iterator[Device]:
        """Every device of the premises, hub first."""
        yield self.chf
        if self.gpf is not None:
            yield self.gpf
        yield self.esme
        if self.gsme is not None:
            yield self.gsme
        yield from self.others

    def device(self, device_id: str) -> Device | None:
        """The device of this premises with `device_id` (hyphenated or compact hex)."""
        compact = device_id.replace("-", "").upper()
        for d in self.devices():
            if d.eui.hex == compact:
                return d
        return None

    @property
    def hub(self) -> str:
        """The hub's ID (the CHF's), by which the WAN knows the premises."""
        return self.chf.id


class _Devices:
    """Read-only mapping view of a premises' devices by ID, for the HAN."""

    __slots__ = ("_p",)

    def __init__(self, p: Premises) -> None:
        self._p = p

    def get(self, key: str, default: Device | None = None) -> Device | None:
        return self._p.device(key) or default


class Estate:
    """Premises indexed by device ID, a WAN, and a clock."""

    def __init__(self, clock: Scheduler, *, seed: int = 0, model: LoadModel = DEFAULT_MODEL,
                 wan: Wan | None = None, alert_sink: Callable[[Alert], None] | None = None) -> None:
        self.clock = clock
        self.seed = seed
        self.model = model
        self.wan = wan or Wan(clock, seed, alert_sink=alert_sink)
        self.premises: list[Premises] = []
        self._index: dict[str, Premises] = {}
        self._spare: dict[str, Device] = {}

    # Building ------------------------------------------------------------------------------

    @classmethod
    def demo(cls, premises: int = 100, seed: int = 0, *, clock: Scheduler | None = None,
             boxed: bool = True,
             origin: datetime | None = None, ppmid_share: float = 0.25,
             model: LoadModel = DEFAULT_MODEL,
             alert_sink: Callable[[Alert], None] | None = None) -> Estate:
        """A deterministic estate of `premises` premises (plus the DCC Boxed devices).

        Without a clock it runs on a `SimulatedClock` starting at `origin` (default 2026-01-01).
        """
        if clock is None:
            clock = SimulatedClock(origin)
        estate = cls(clock, seed=seed, model=model, alert_sink=alert_sink)
        start = origin or clock.now()
        if boxed:
            estate._add_boxed(start)
        for i in range(premises):
            estate._add_generated(i, start, ppmid_share)
        return estate

    def _eui(self, index: int, slot: int) -> EUI64:
        return EUI64(f"{(0x0A << 56) | ((self.seed & 0xFFFF) << 40) | (index << 4) | slot:016X}")

    def _add_generated(self, i: int, origin: datetime, ppmid_share: float) -> Premises:
        s = self.seed
        mpan = mpan_with_check_digit(f"{10 + int(unit(s, i, 1) * 14):02d}{int(unit(s, i, 2) * 1e10):010d}")
        mprn = f"{int(1e9 + unit(s, i, 3) * 8e9):010d}"
        pv = unit(s, i, 8) < PV_SHARE
        # Consumption seeds differ by estate seed as well as by premises.
        base = ((s & 0xFFFF) << 32) | (2 * i)
        esme = ESME(self._eui(i, 1), anchors=DEFAULT_ANCHORS, seed=base, origin=origin,
                    opening_wh=int(unit(s, i, 4) * 40_000_000), mpxn=MPxN(mpan), model=self.model,
                    pv_peak_w=2500 + 100 * int(unit(s, i, 9) * 16) if pv else 0,
                    export_wh=int(unit(s, i, 10) * 8_000_000) if pv else 0)
        gsme = GSME(self._eui(i, 2), anchors=DEFAULT_ANCHORS, seed=base + 1, origin=origin,
                    opening_wh=int(unit(s, i, 5) * 150_000_000), mpxn=MPxN(mprn), model=self.model,
                    contact_phase_s=int(unit(s, i, 6) * 1800))
        others: tuple[Device, ...] = ()
        if unit(s, i, 7) < ppmid_share:
            ppmid = PPMID(self._eui(i, 4), anchors=DEFAULT_ANCHORS)
            others = (ppmid,)
            esme.han_devices = gsme.han_devices = (ppmid.id,)
        return self._add(i, CHF(self._eui(i, 0), anchors=DEFAULT_ANCHORS), esme,
                         GPF(self._eui(i, 3), anchors=DEFAULT_ANCHORS), gsme, others)

    def _add(self, index: int, chf: CHF, esme: ESME, gpf: GPF | None, gsme: GSME | None,
             others: tuple[Device, ...], joined: tuple[tuple[str, DeviceType], ...] = ()) -> Premises:
        if gpf is not None:
            gpf.gsme = gsme
            if gsme is not None:
                gpf.device_log = (gsme.id, *(d.id for d in others if d.kind is DeviceType.PPMID))
        entries = [(d.id, d.kind) for d in (gpf, esme, gsme, *others) if d is not None]
        chf.device_log = tuple(HanEntry(i, t, None, True) for i, t in (*entries, *joined))
        p = Premises(index, chf, esme, gpf, gsme, others)
        self.premises.append(p)
        for d in p.devices():
            self._index[d.eui.hex] = p
        return p

    def _add_boxed(self, origin: datetime) -> Premises:
        ids = {t: EUI64.parse(i) for t, i in BOXED_PREMISES.items()}
        esme = ESME(ids[DeviceType.ESME], anchors=DEFAULT_ANCHORS, seed=0xB0, origin=origin,
                    opening_wh=12_345_000, mpxn=MPxN(BOXED_MPXN[BOXED_PREMISES[DeviceType.ESME]]),
                    model=self.model)
        gsme = GSME(ids[DeviceType.GSME], anchors=DEFAULT_ANCHORS, seed=0xB1, origin=origin,
                    opening_wh=54_321_000, mpxn=MPxN(BOXED_MPXN[BOXED_PREMISES[DeviceType.GSME]]),
                    model=self.model)
        ppmid = PPMID(ids[DeviceType.PPMID], anchors=DEFAULT_ANCHORS, han_devices=(BOXED_CAD,))
        extra: list[Device] = [ppmid]
        other_types = {DeviceType.IHD: IHD, DeviceType.HCALCS: HCALCS, DeviceType.CAD: CAD,
                       DeviceType.PPMID: PPMID}
        for device_id, kind, _why in BOXED_EXTRA:
            eui = EUI64.parse(device_id)
            if kind is DeviceType.ESME:
                extra.append(ESME(eui, anchors=DEFAULT_ANCHORS, seed=int(eui.hex[-2:], 16),
                                  origin=origin, mpxn=MPxN(BOXED_MPXN[device_id]),
                                  model=self.model))
            else:
                extra.append(other_types[kind](eui, anchors=DEFAULT_ANCHORS))
        esme.han_devices = (ppmid.id, "00-DB-12-34-56-78-90-99")
        gsme.han_devices = (ppmid.id, BOXED_CAD)
        p = self._add(-1, CHF(ids[DeviceType.CHF], anchors=DEFAULT_ANCHORS), esme,
                      GPF(ids[DeviceType.GPF], anchors=BOXED_GPF_ANCHORS), gsme, tuple(extra))
        old_chf = CHF(EUI64.parse(BOXED_OLD_CHF), anchors=DEFAULT_ANCHORS,
                      device_log=p.chf.device_log, powered=False, wan_connected=False)
        old_gpf = GPF(EUI64.parse(BOXED_OLD_GPF), anchors=DEFAULT_ANCHORS,
                      device_log=p.gpf.device_log if p.gpf else ())
        self._spare = {old_chf.id: old_chf, old_gpf.id: old_gpf}
        return p

    # Lookup --------------------------------------------------------------------------------

    def premises_of(self, device_id: str) -> Premises:
        """The premises hosting `device_id`."""
        try:
            return self._index[EUI64.parse(device_id).hex]
        except KeyError:
            raise UnknownDevice(f"no device {device_id} in the estate") from None

    def device(self, device_id: str) -> Device:
        """Any hosted device (including spare/replaced hubs) by ID."""
        spare = self._spare.get(EUI64.parse(device_id).hyphenated)
        if spare is not None:
            return spare
        d = self.premises_of(device_id).device(EUI64.parse(device_id).hyphenated)
        assert d is not None
        return d

    def __contains__(self, device_id: str) -> bool:
        try:
            self.device(device_id)
        except UnknownDevice:
            return False
        return True

    def __len__(self) -> int:
        return len(self.premises)

    def hosts(self, device: EUI64) -> bool:
        """Whether the estate hosts the device (including spare/replaced hubs); cheap, so key
        lookups can ask it for every entity (`devices.gbcs.keys.DeviceCredentials`)."""
        return device.hex in self._index or device.hyphenated in self._spare

    def device_ids(self) -> Iterator[str]:
        """Every hosted device ID."""
        for p in self.premises:
            for d in p.devices():
                yield d.id
        yield from self._spare

    # Running commands ----------------------------------------------------------------------

    def reach(self, device_id: str) -> tuple[Premises, Device]:
        """The premises and device, if the hub may talk to it (HAN whitelist and joining)."""
        p = self.premises_of(device_id)
        return p, han.reach(p.chf, EUI64.parse(device_id).hyphenated, _Devices(p))

    def execute(self, device_id: str, op: Callable[[Any, datetime], Result[T]],
                now: datetime | None = None) -> Result[T]:
        """Run `op(device, now)` at once over the HAN rules (no WAN, no GSME wait)."""
        _, device = self.reach(device_id)
        return op(device, now or self.clock.now())

    def dispatch(self, use_case_code: str, device_id: str, now: datetime | None = None,
                 **arguments: Any) -> Result[Any]:
        """Run the operation serving a GBCS use case (see `use_cases`) on a device, at once.

        Reads of GSME data addressed to the GSME are answered by its GPF, as GBCS routes them.
        """
        p, device = self.reach(device_id)
        return _run_use_case(p, device, use_case(use_case_code), now or self.clock.now(),
                             arguments)

    def command(self, device_id: str, use_case_code: str, header: CommandHeader | None = None,
                *, execute_at: datetime | None = None,
                authenticator: CommandAuthenticator = ACCEPT_ALL, deadline_s: float | None = None,
                on_done: Callable[[Delivery[Result[Any]]], None] | None = None,
                **arguments: Any) -> Delivery[Result[Any]]:
        """A GBCS command end to end over the WAN: when it reaches the device, authenticate it
        (`Device.accept`), then run the use case at once or, with `execute_at`, hold it until
        then. A refusal arrives as `Delivery.error`; the device is unchanged by it.
        """
        row = use_case(use_case_code)
        p = self.premises_of(device_id)

        def op(device: Device, t: datetime) -> Result[Any]:
            if header is not None:
                device.accept(header, t, authenticator)
            if execute_at is None:
                return _run_use_case(p, device, row, t, arguments)
            ref = f"{header.originator}:{header.counter}" if header else f"{use_case_code}@{t}"
            held = device.schedule(ref, use_case_code, execute_at,
                                   lambda u: _run_use_case(p, device, row, u, arguments), t)
            self.clock.call_later((execute_at - t).total_seconds(),
                                  lambda: self._run_due(p, device))
            return held

        mirror = row.device is DeviceType.GPF and not row.changes_state
        return self.send(device_id, op, deadline_s=deadline_s, answered_by_mirror=mirror,
                         on_done=on_done)

    def send(self, device_id: str, op: Callable[[Any, datetime], R], *,
             deadline_s: float | None = None, retry_after_s: float = 10.0, max_attempts: int = 3,
             answered_by_mirror: bool = False,
             on_done: Callable[[Delivery[R]], None] | None = None) -> Delivery[R]:
        """Carry `op(device, time)` over the WAN to the device's hub and the HAN beyond it.

        The response deadline defaults to 60 s, or to `GSME_DEADLINE_S` for a command that
        must wait for the battery-powered GSME to wake.
        """
        p = self.premises_of(device_id)
        target = EUI64.parse(device_id).hyphenated
        if deadline_s is None:
            waits = p.gsme is not None and p.gsme.id == target and not answered_by_mirror
            deadline_s = GSME_DEADLINE_S if waits else DEFAULT_DEADLINE_S

        def at_hub(t: datetime) -> R:
            device = han.reach(p.chf, target, _Devices(p))
            result = op(device, t)
            self.wan.forward_alerts(p.hub, list(p.devices()))
            return result

        def delay(t: datetime) -> float:
            device = p.device(target)
            return 0.0 if device is None else han.execution_delay(device, p.gpf, t, answered_by_mirror)

        return self.wan.send(p.hub, at_hub, deadline_s=deadline_s, retry_after_s=retry_after_s,
                             max_attempts=max_attempts, execution_delay=delay, on_done=on_done)

    def schedule(self, device_id: str, ref: str, use_case: str, execute_at: datetime,
                 op: Callable[[Any, datetime], Result[Any]], *,
                 alert: bool = True) -> Result[PendingCommand]:
        """Hold a future-dated command on the device; the clock runs it when due (with
        `alert` False the device raises no 0x8F66 of its own: the caller sends it)."""
        p, device = self.reach(device_id)
        now = self.clock.now()
        result = device.schedule(ref, use_case, execute_at, lambda t: op(device, t), now,
                                 alert=alert)
        # The execution time is on the device's own clock (GBCS §7.2.10).
        delay = (execute_at - device.device_time(now)).total_seconds()
        self.clock.call_later(delay, lambda: self._run_due(p, device))
        return result

    def _run_due(self, p: Premises, device: Device) -> None:
        if not p.chf.powered and device.kind is not DeviceType.GSME:
            # Mains power is off: the device keeps the command (non-volatile, like the rest
            # of its configuration) and runs it when power returns (`power_restore`). The
            # battery-powered GSME runs its own on time.
            return
        device.run_due(self.clock.now())
        self.wan.forward_alerts(p.hub, [device])

    # WAN outages and power -----------------------------------------------------------------

    def wan_outage(self, hub_id: str, start: datetime, end: datetime) -> None:
        """The hub's WAN link is down in [start, end); the CHF's WAN state follows."""
        p = self.premises_of(hub_id)
        self.wan.schedule_outage(p.hub, start, end)
        now = self.clock.now()

        def set_connected(value: bool) -> Callable[[], None]:
            def run() -> None:
                p.chf.wan_connected = value

            return run

        self.clock.call_later(max(0.0, (start - now).total_seconds()), set_connected(False))
        self.clock.call_later(max(0.0, (end - now).total_seconds()), set_connected(True))

    def power_fail(self, hub_id: str) -> Alert:
        """Mains power fails at the premises: the hub goes dark and the meter stops measuring."""
        p = self.premises_of(hub_id)
        now = self.clock.now()
        p.chf.powered = False
        p.esme.power_lost(now)
        return self.wan.power_fail(p.hub)

    def power_restore(self, hub_id: str) -> Alert | None:
        """Power returns: the ESME reports the outage (0x8F35 / 0x8F36)."""
        p = self.premises_of(hub_id)
        now = self.clock.now()
        p.chf.powered = True
        p.esme.power_restored(now)
        alert = self.wan.power_restore(p.hub, p.esme)
        for device in p.devices():  # future-dated commands that fell due during the outage
            due = device.next_due()
            if due is not None and due <= device.device_time(now):
                self._run_due(p, device)
        return alert

    def meters(self) -> Iterator[Meter]:
        """Every ESME and GSME."""
        for p in self.premises:
            yield p.esme
            if p.gsme is not None:
                yield p.gsme


def _run_use_case(p: Premises, device: Device, row: UseCase, now: datetime,
                  arguments: dict[str, Any]) -> Result[Any]:
    """Call the operation of `row` on `device` (GSME reads go to its GPF)."""
    if device.kind is not row.device:
        if row.device is DeviceType.GPF and device.kind is DeviceType.GSME and p.gpf:
            device = p.gpf
        else:
            raise WrongDevice(f"{row.code} is for a {row.device.value}, "
                              f"not the {device.kind.value} {device.id}")
    method: Callable[..., Result[Any]] = getattr(device, row.method)
    return method(now=now, **arguments)
