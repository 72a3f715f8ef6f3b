"""Change of supplier: the new supplier's credentials replace the old one's on the devices.

When registration data (the registration feed) makes a new supplier responsible for a meter
point, access control follows at once (the old supplier gets E4 at the DCC from the effective
date). The devices still trust the old supplier until their supplier trust anchors are
replaced: GBCS CS02b (SRV 6.23, Update Security Credentials (CoS)), a command the DCC's
Transitional CoS party signs on the new supplier's behalf. From then on the device acts on the
new supplier's commands and refuses the old supplier's signatures.

Each meter point's switch is a durable state machine (`inventory.switches`):

    detected -> credentials (one committed step per device: CS02b, then recorded) -> completed

Every step commits on its own and each device step is idempotent (a device already trusting
the new supplier is not sent CS02b again), so a worker killed between any two steps resumes
to completion on restart (`run_switches`) and no meter is left half-switched
(`check_switched`). Before each device step the DCC checks the registration data again: the
supplier the credentials are replaced for must be the registered supplier of the meter point
at that time.

`core.transitional_cos.TransitionalCoS` is the target that does it in GBCS: the new supplier's
SRV 6.23, CS02b signed by the Transitional CoS party, over the SM WAN, the meter's signed
Response checked and delivered to the new supplier.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from itertools import pairwise
from typing import Final, Protocol

from sqlalchemy.engine import Connection

from opendcc.duis.request import DuisRequest
from opendcc.duis.response_codes import NotRegisteredParty
from opendcc.ids import EUI64, MPxN
from opendcc.inventory import switches
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.model import Device
from opendcc.inventory.switches import Step, Switch
from opendcc.store import inventory as inventory_repo
from opendcc.store._sql import as_utc
from opendcc.store.engine import Store
from opendcc.store.tables import registration

# DCC Boxed / ZAZ1: the DCC's Transitional Change of Supplier party.
TRANSITIONAL_COS: Final = EUI64.parse("90-B3-D5-1F-30-00-00-04")
# Devices out of the estate keep their MPxN in the inventory but take no part in a switch.
_GONE: Final = frozenset({DeviceStatus.DECOMMISSIONED, DeviceStatus.WITHDRAWN})
_log = logging.getLogger(__name__)


class CredentialsNotReplaced(Exception):
    """A meter did not take the new supplier's credentials (no answer, or it refused them):
    its switch stays under way and the next run tries again."""


class CredentialTarget(Protocol):
    """The devices, as the Transitional CoS party reaches them."""

    def supplier_anchor(self, device_id: EUI64) -> EUI64 | None:
        """The supplier the device trusts now."""
        ...

    def replace_supplier(self, device_id: EUI64, new_supplier: EUI64, now: datetime) -> None:
        """GBCS CS02b from the Transitional CoS party: replace the supplier anchors (raise
        `CredentialsNotReplaced` when the device did not)."""
        ...


def meters_of(conn: Connection, mpxn: MPxN) -> list[Device]:
    """The meters whose Import MPxN is `mpxn`: they hold that meter point's supplier's anchors.

    A twin-element or export MPAN registered to another supplier does not move a meter's
    anchors: the import supplier's do.
    """
    return [d for d in inventory_repo.devices_for_mpxn(conn, mpxn)
            if d.mpxn == mpxn and d.status not in _GONE]


def detect_switches(conn: Connection, now: datetime, mpxns: Iterable[MPxN] | None = None) -> int:
    """Record a switch for every registration change in force by `now` not yet recorded."""
    stmt = registration.select().order_by(registration.c.mpxn, registration.c.effective_from)
    if mpxns is not None:
        stmt = stmt.where(registration.c.mpxn.in_([str(m) for m in mpxns]))
    rows = list(conn.execute(stmt).mappings())
    added = 0
    for before, after in pairwise(rows):
        if before["mpxn"] != after["mpxn"] or before["supplier_id"] == after["supplier_id"]:
            continue
        reg = inventory_repo.registration_exactly_at(
            conn, MPxN.parse(after["mpxn"]), as_utc(after["effective_from"]))  # type: ignore[arg-type]
        assert reg is not None
        if reg.effective_from > now:
            continue
        added += switches.add(conn, reg.mpxn, reg.effective_from,
                              EUI64.parse(before["supplier_id"]), reg.supplier_id, now)
    return added


def request_switch(conn: Connection, supplier: EUI64, mpxn: MPxN, now: datetime) -> Switch:
    """The new supplier asks for its CoS (SRV 6.23): it must be the registered supplier now.

    E4 for a meter point without registration, or a supplier other than the registered one
    (the old supplier after the switch, or a supplier racing the registered one).
    """
    reg = inventory_repo.registration_at(conn, mpxn, now)
    if reg is None:
        raise NotRegisteredParty(f"{mpxn} has no registration data; no change of supplier")
    if reg.supplier_id != supplier:
        raise NotRegisteredParty(
            f"{supplier} is not the registered supplier of {mpxn} (registered: {reg.supplier_id}"
            f" from {reg.effective_from.isoformat()})")
    detect_switches(conn, now, [mpxn])
    found = [s for s in switches.of_mpxn(conn, mpxn) if s.new_supplier == supplier]
    if not found:
        raise NotRegisteredParty(
            f"{supplier} has been the supplier of {mpxn} since {reg.effective_from.isoformat()}:"
            " there is no change of supplier to carry out")
    return found[-1]


def check_cos_request(conn: Connection, request: DuisRequest, variant: str, now: datetime) -> None:
    """DUIS SRV 6.23 at the DCC, after access control: the meter point the request names
    (ImportMPxN) must be one of the device's, and the sender its registered supplier now
    (the supplier registered for that MPxN from that date). E4 otherwise."""
    if variant != "6.23":
        return
    text = (request.body.findtext("{*}ImportMPxN") or "").strip()
    if not text:
        return
    mpxn = MPxN.parse(text)
    sender = request.request_id.originator
    device = inventory_repo.get_device(conn, request.request_id.target)
    if device is None or mpxn not in inventory_repo.responsible_mpxns(conn, device):
        raise NotRegisteredParty(f"{mpxn} is not a meter point of {request.request_id.target}")
    reg = inventory_repo.registration_at(conn, mpxn, now)
    if reg is None or reg.supplier_id != sender:
        raise NotRegisteredParty(f"{sender} is not the registered supplier of {mpxn} at "
                                 f"{now.isoformat()}: no change of supplier for it")


StepHook = Callable[[str, Switch], None]


def _reload(conn: Connection, switch_id: int) -> Switch:
    switch = switches.get(conn, switch_id)
    assert switch is not None, f"no change of supplier {switch_id}"
    return switch


def advance_switch(store: Store, devices: CredentialTarget, switch_id: int, now: datetime,
                   hook: StepHook | None = None) -> Step:
    """Run one switch to completion, one committed transaction per step; its final step.

    `hook(label, switch)` runs between steps (tests use it to kill the worker there).
    """
    def reached(label: str, switch: Switch) -> None:
        if hook is not None:
            hook(label, switch)

    with store.begin() as conn:
        switch = switches.get(conn, switch_id)
        assert switch is not None, f"no change of supplier {switch_id}"
        if switch.step is Step.DETECTED:
            switches.advance(conn, switch, Step.CREDENTIALS, switch.devices_done, now)
            switch = _reload(conn, switch_id)
        meters = meters_of(conn, switch.mpxn)
        registered = inventory_repo.registration_at(conn, switch.mpxn, now)
    if switch.step is Step.COMPLETED:
        return switch.step
    if registered is None or registered.supplier_id != switch.new_supplier:
        # DUIS 6.23: only the supplier registered for the meter point from that date may have
        # its credentials put on the meters.
        raise NotRegisteredParty(f"{switch.new_supplier} is not the registered supplier of "
                                 f"{switch.mpxn} at {now.isoformat()}")
    reached("credentials", switch)
    for meter in meters:
        key = meter.device_id.hyphenated
        if key in switch.devices_done:
            continue
        if devices.supplier_anchor(meter.device_id) != switch.new_supplier:
            devices.replace_supplier(meter.device_id, switch.new_supplier, now)
        reached("device replaced", switch)
        with store.begin() as conn:
            switches.advance(conn, switch, Step.CREDENTIALS, switch.devices_done | {key}, now)
            switch = _reload(conn, switch_id)
        reached("device recorded", switch)
    with store.begin() as conn:
        switches.advance(conn, switch, Step.COMPLETED, switch.devices_done, now)
    return Step.COMPLETED


def run_switches(store: Store, devices: CredentialTarget, now: datetime,
                 hook: StepHook | None = None, *, worker: int = 0, workers: int = 1) -> int:
    """Detect new switches and run every unfinished one (also those a dead worker left).

    Several workers share the work by switch ID (`worker` of `workers`), so each switch has
    one worker; any worker restarted picks up its share where the last one stopped.
    """
    with store.begin() as conn:
        detect_switches(conn, now)
        pending = [s for s in switches.unfinished(conn) if s.switch_id % workers == worker]
    for switch in pending:
        try:
            advance_switch(store, devices, switch.switch_id, now, hook)
        except (CredentialsNotReplaced, NotRegisteredParty) as exc:
            _log.warning("change of supplier %s for %s not finished: %s", switch.switch_id,
                         switch.mpxn, exc)
    return len(pending)


def check_switched(store: Store, devices: CredentialTarget, now: datetime) -> list[str]:
    """The invariant: every meter of a registered meter point trusts its registered supplier,
    unless a switch for it is still under way. The problems found (empty: none)."""
    problems: list[str] = []
    with store.begin() as conn:
        in_progress = {s.mpxn.value for s in switches.unfinished(conn)}
        points = sorted({r["mpxn"] for r in conn.execute(registration.select()).mappings()})
        for value in points:
            if value in in_progress:
                continue
            mpxn = MPxN.parse(value)
            reg = inventory_repo.registration_at(conn, mpxn, now)
            if reg is None:
                continue
            for meter in meters_of(conn, mpxn):
                trusted = devices.supplier_anchor(meter.device_id)
                if trusted is not None and trusted != reg.supplier_id:
                    problems.append(f"{mpxn}: {meter.device_id} trusts {trusted}, registered "
                                    f"supplier is {reg.supplier_id}")
    return problems
