"""SMETS1 enrolment and adoption: authorisation checks, cohort runs, rollback and resumption.

Every state change of a device is written, with a row in `smets1_transitions`, in one
transaction before the next provider call, so a crash at any point leaves each device in a
known state; `resume()` asks the provider about devices left in doubt and finishes the job.
The provider's credential swap is a compare-and-set, so a meter always has exactly one holder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from opendcc.clock import Clock
from opendcc.ids import EUI64, InvalidIdentifier, MPxN
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.smets1 import cohorts as cohort_ops
from opendcc.smets1 import tables as t
from opendcc.smets1.adapters.base import MeterInfo, ProviderAdapter, ProviderError, Result
from opendcc.smets1.cohorts import CohortError, CohortStatus
from opendcc.smets1.models import eligible
from opendcc.smets1.states import IN_DOUBT, PLANNABLE, State, check_move
from opendcc.store import inventory
from opendcc.store.engine import Store

DCC_ID = "90B3D51F30000002"  # the DCC's own EUI-64: holder of adopted meters' credentials


class SimulatedCrash(RuntimeError):
    """Raised by the crash hook in tests: the engine stops as if the process died."""


# Why an authorisation line is refused.
NOT_REGISTERED = "the supplier is not the registered supplier of the MPxN"
UNKNOWN_DEVICE = "the provider does not know the device"
WRONG_MPXN = "the device does not measure the MPxN given"
NOT_ELIGIBLE = "the device model or firmware is not eligible for enrolment"
ALREADY_MIGRATED = "the device is already enrolled with the DCC"
DUPLICATE = "a migration authorisation for the device is already pending"
NO_PROVIDER = "no such SMETS1 service provider"
BAD_IDENTIFIER = "malformed device id or MPxN"


@dataclass(frozen=True, slots=True)
class AuthorisationLine:
    """One meter in a supplier's migration authorisation."""

    device_id: str  # EUI-64, any usual spelling
    mpxn: str
    provider: str


@dataclass(frozen=True, slots=True)
class AuthorisationOutcome:
    """The DCC's answer for one authorisation line: accepted, or refused with the reason."""

    device_id: str
    accepted: bool
    reason: str | None = None


@dataclass
class CohortReport:
    """What a cohort run did, per device."""

    cohort_id: int
    migrated: list[str] = field(default_factory=list)
    rolled_back: dict[str, str] = field(default_factory=dict)  # device -> reason
    in_doubt: list[str] = field(default_factory=list)


def _hex(text: str) -> str:
    return EUI64.parse(text).hex.upper()


class MigrationEngine:
    """Runs SMETS1 enrolment and adoption over a store and one adapter per provider."""

    def __init__(self, store: Store, adapters: Mapping[str, ProviderAdapter], clock: Clock, *,
                 dcc_id: str = DCC_ID, batch_size: int = 500,
                 on_batch: Callable[[int, int], None] | None = None,
                 crash_after_replace: int | None = None) -> None:
        self.store = store
        self.adapters = adapters
        self.clock = clock
        self.dcc_id = dcc_id
        self.batch_size = batch_size
        self.on_batch = on_batch  # (cohort id, batch number) before each batch: tests inject faults
        self.crash_after_replace = crash_after_replace  # crash after the n-th credential swap call
        self._replace_calls = 0
        t.create_tables(store.engine)

    # --- state changes -----------------------------------------------------------------------

    def _move(self, conn: Connection, ids: Sequence[str], old: State, new: State,
              reason: str | None = None, cohort_id: int | None = None,
              reasons: Mapping[str, str] | None = None) -> None:
        """Move devices old -> new in this transaction, one transition row each."""
        if not ids:
            return
        check_move(old, new)
        now = self.clock.now()
        values: dict[str, object] = {"state": new.value, "updated_at": now}
        if new is State.PLANNED:
            values["cohort_id"] = cohort_id
            values["reason"] = None
        if reasons is None:
            if reason is not None or new in (State.PLANNED, State.MIGRATED):
                values["reason"] = reason
            for s in range(0, len(ids), 500):
                conn.execute(update(t.devices).where(t.devices.c.device_id.in_(ids[s:s + 500]),
                                                     t.devices.c.state == old.value).values(**values))
        else:
            conn.execute(update(t.devices).where(
                t.devices.c.device_id == bindparam("d"), t.devices.c.state == old.value).values(
                state=new.value, updated_at=now, reason=bindparam("r")),
                [{"d": d, "r": reasons[d]} for d in ids])
        conn.execute(insert(t.transitions), [
            {"device_id": d, "cohort_id": cohort_id, "from_state": old.value, "to_state": new.value,
             "reason": reasons[d] if reasons else reason, "at": now} for d in ids])

    # --- authorisation -----------------------------------------------------------------------

    def authorise(self, supplier: str, lines: Sequence[AuthorisationLine]) -> list[AuthorisationOutcome]:
        """Check a supplier's migration authorisation line by line; accepted lines become AUTHORISED.

        A refused line changes nothing but the authorisation log.
        """
        supplier_hex = _hex(supplier)
        now = self.clock.now()
        outcomes: dict[int, AuthorisationOutcome] = {}
        parsed: list[tuple[int, str, str, str]] = []
        for i, line in enumerate(lines):
            try:
                parsed.append((i, _hex(line.device_id), MPxN.parse(line.mpxn).value, line.provider))
            except InvalidIdentifier:
                outcomes[i] = AuthorisationOutcome(line.device_id, False, BAD_IDENTIFIER)
        infos: dict[str, MeterInfo | Result] = {}
        for provider in {p for *_, p in parsed}:
            if provider in self.adapters:
                infos.update(self.adapters[provider].query([d for _, d, _, p in parsed if p == provider]))
        with self.store.begin() as conn:
            known = {r.device_id: r.state for r in conn.execute(select(
                t.devices.c.device_id, t.devices.c.state).where(
                t.devices.c.device_id.in_([d for _, d, _, _ in parsed])))} if parsed else {}
            seen: set[str] = set()
            rows = []
            log: list[dict[str, object]] = []
            for i, device_id, mpxn, provider in parsed:
                info = infos.get(device_id)
                registration = inventory.registration_at(conn, MPxN.parse(mpxn), now)
                reason: str | None = None
                if provider not in self.adapters:
                    reason = NO_PROVIDER
                elif registration is None or registration.supplier_id.hex.upper() != supplier_hex:
                    reason = NOT_REGISTERED
                elif not isinstance(info, MeterInfo):
                    reason = UNKNOWN_DEVICE
                elif info.mpxn != mpxn:
                    reason = WRONG_MPXN
                elif not eligible(info.model, info.firmware):
                    reason = NOT_ELIGIBLE
                elif known.get(device_id) == State.MIGRATED or info.owner == self.dcc_id:
                    reason = ALREADY_MIGRATED
                elif device_id in known or device_id in seen:
                    reason = DUPLICATE
                outcomes[i] = AuthorisationOutcome(device_id, reason is None, reason)
                log.append({"supplier": supplier_hex, "device_id": device_id, "mpxn": mpxn,
                            "provider": provider, "submitted_at": now, "accepted": reason is None,
                            "reason": reason})
                if reason is None and isinstance(info, MeterInfo):
                    seen.add(device_id)
                    rows.append({
                        "device_id": device_id, "provider": provider, "model": info.model,
                        "firmware": info.firmware, "fuel": info.fuel, "mpxn": mpxn,
                        "authorised_by": supplier_hex, "previous_owner": info.owner,
                        "dormant": info.owner != supplier_hex, "state": State.AUTHORISED.value,
                        "attempts": 0, "updated_at": now})
            if log:
                conn.execute(insert(t.authorisations), log)
            if rows:
                conn.execute(insert(t.devices), rows)
                conn.execute(insert(t.transitions), [
                    {"device_id": r["device_id"], "cohort_id": None, "from_state": "",
                     "to_state": State.AUTHORISED.value, "reason": None, "at": now} for r in rows])
        return [outcomes[i] for i in range(len(lines))]

    # --- cohorts -------------------------------------------------------------------------------

    def plan_cohorts(self, *, size_limit: int, start: datetime | None = None,
                     interval: timedelta = timedelta(hours=1)) -> list[int]:
        """Plan every authorised (or rolled-back, retryable) device into cohorts; returns their ids."""
        with self.store.begin() as conn:
            rows = conn.execute(select(t.devices.c.device_id, t.devices.c.provider, t.devices.c.model,
                                       t.devices.c.firmware, t.devices.c.state).where(
                t.devices.c.state.in_([s.value for s in PLANNABLE]))).all()
            plans = cohort_ops.plan([(r[0], r[1], r[2], r[3]) for r in rows], size_limit=size_limit,
                                    start=start or self.clock.now(), interval=interval)
            state_of = {r[0]: State(r[4]) for r in rows}
            ids = []
            for p in plans:
                cohort_id = cohort_ops.create(conn, p)
                ids.append(cohort_id)
                for old in PLANNABLE:
                    self._move(conn, [d for d in p.device_ids if state_of[d] is old], old,
                               State.PLANNED, cohort_id=cohort_id)
        return ids

    def approve(self, cohort_id: int, approver: str) -> CohortStatus:
        """Dual control: one of the two distinct approvals a cohort needs before it runs."""
        with self.store.begin() as conn:
            return cohort_ops.approve(conn, cohort_id, approver)

    def run_due(self) -> list[CohortReport]:
        """Run every approved cohort whose scheduled time has come, in schedule order."""
        with self.store.connect() as conn:
            due = conn.execute(select(t.cohorts.c.id).where(
                t.cohorts.c.status == CohortStatus.APPROVED.value,
                t.cohorts.c.scheduled_at <= self.clock.now()).order_by(
                t.cohorts.c.scheduled_at, t.cohorts.c.id)).scalars().all()
        return [self.run_cohort(c) for c in due]

    def run_cohort(self, cohort_id: int) -> CohortReport:
        """Migrate an approved cohort's devices, batch by batch."""
        with self.store.begin() as conn:
            row = conn.execute(select(t.cohorts).where(t.cohorts.c.id == cohort_id)).mappings().first()
            if row is None:
                raise CohortError(f"no SMETS1 cohort {cohort_id}")
            if row["status"] not in (CohortStatus.APPROVED, CohortStatus.RUNNING):
                raise CohortError(f"cohort {cohort_id} is {row['status']}: it needs two approvals to run")
            conn.execute(update(t.cohorts).where(t.cohorts.c.id == cohort_id).values(
                status=CohortStatus.RUNNING.value, started_at=row["started_at"] or self.clock.now()))
            ids = conn.execute(select(t.devices.c.device_id).where(
                t.devices.c.cohort_id == cohort_id, t.devices.c.state == State.PLANNED.value).order_by(
                t.devices.c.device_id)).scalars().all()
        provider = str(row["provider"])
        report = CohortReport(cohort_id)
        for number, s in enumerate(range(0, len(ids), self.batch_size)):
            if self.on_batch is not None:
                self.on_batch(cohort_id, number)
            self._migrate_batch(cohort_id, provider, list(ids[s:s + self.batch_size]))
        self._settle(cohort_id, provider)
        return self._finish(cohort_id, report)

    def _finish(self, cohort_id: int, report: CohortReport) -> CohortReport:
        with self.store.begin() as conn:
            for r in conn.execute(select(t.devices.c.device_id, t.devices.c.state, t.devices.c.reason).where(
                    t.devices.c.cohort_id == cohort_id)):
                if r.state == State.MIGRATED:
                    report.migrated.append(r.device_id)
                elif r.state == State.ROLLED_BACK:
                    report.rolled_back[r.device_id] = r.reason or ""
                else:
                    report.in_doubt.append(r.device_id)
            if not report.in_doubt:
                conn.execute(update(t.cohorts).where(t.cohorts.c.id == cohort_id).values(
                    status=CohortStatus.DONE.value, finished_at=self.clock.now()))
        return report

    # --- one batch ---------------------------------------------------------------------------

    def _migrate_batch(self, cohort_id: int, provider: str, ids: list[str]) -> None:
        adapter = self.adapters[provider]
        with self.store.connect() as conn:
            previous = {r.device_id: r.previous_owner for r in conn.execute(select(
                t.devices.c.device_id, t.devices.c.previous_owner).where(t.devices.c.device_id.in_(ids)))}
        try:
            infos = adapter.query(ids)
        except ProviderError as exc:  # a read: nothing changed at the provider
            with self.store.begin() as conn:
                self._move(conn, ids, State.PLANNED, State.ROLLED_BACK, exc.reason, cohort_id)
            return
        refused: dict[str, str] = {}
        for d in ids:
            info = infos.get(d)
            if not isinstance(info, MeterInfo):
                refused[d] = f"provider query: {info or Result.GARBAGE}"
            elif info.owner != previous[d]:
                refused[d] = f"credential mismatch: held by {info.owner}, expected {previous[d]}"
        go = [d for d in ids if d not in refused]
        with self.store.begin() as conn:
            self._move(conn, list(refused), State.PLANNED, State.ROLLED_BACK, cohort_id=cohort_id,
                       reasons=refused)
            self._move(conn, go, State.PLANNED, State.REPLACING, cohort_id=cohort_id)
            if go:
                conn.execute(update(t.devices).where(t.devices.c.device_id.in_(go)).values(
                    attempts=t.devices.c.attempts + 1))
        if not go:
            return
        try:
            results = adapter.replace_credentials(self.dcc_id, [(d, previous[d]) for d in go])
        except ProviderError as exc:
            if exc.outcome_unknown:
                self._reconcile(cohort_id, provider, go, exc.reason)
            else:
                with self.store.begin() as conn:
                    self._move(conn, go, State.REPLACING, State.ROLLED_BACK, exc.reason, cohort_id)
            return
        self._replace_calls += 1
        if self.crash_after_replace is not None and self._replace_calls >= self.crash_after_replace:
            raise SimulatedCrash(f"crash after credential swap call {self._replace_calls}")
        done = [d for d in go if d in results and results[d].result is Result.OK]
        failed = {d: f"credential replacement: {results[d].result if d in results else 'no answer'}"
                  for d in go if d not in done}
        with self.store.begin() as conn:
            self._move(conn, done, State.REPLACING, State.REPLACED, cohort_id=cohort_id)
            self._move(conn, list(failed), State.REPLACING, State.ROLLING_BACK, cohort_id=cohort_id,
                       reasons=failed)
        self._commission(cohort_id, done)
        self._roll_back(cohort_id, provider, list(failed))

    def _roll_back(self, cohort_id: int, provider: str, ids: list[str]) -> None:
        """Hand ROLLING_BACK devices back to their previous holder; what fails stays in doubt."""
        if not ids:
            return
        with self.store.connect() as conn:
            rows = {r.device_id: r for r in conn.execute(select(
                t.devices.c.device_id, t.devices.c.previous_owner, t.devices.c.reason).where(
                t.devices.c.device_id.in_(ids)))}
        try:
            results = self.adapters[provider].restore_credentials(
                self.dcc_id, [(d, rows[d].previous_owner) for d in ids])
        except ProviderError:
            return  # in doubt: settled by _settle or resume()
        back = [d for d in ids if d in results and results[d].result is Result.OK]
        with self.store.begin() as conn:
            self._move(conn, back, State.ROLLING_BACK, State.ROLLED_BACK, cohort_id=cohort_id,
                       reasons={d: rows[d].reason or "rolled back" for d in back})

    def _commission(self, cohort_id: int, ids: list[str]) -> None:
        """REPLACED -> MIGRATED with the inventory record, in one transaction (S1SP, CSPRegion SMETS1)."""
        if not ids:
            return
        today = self.clock.now().date()
        with self.store.begin() as conn:
            rows = conn.execute(select(t.devices).where(t.devices.c.device_id.in_(ids))).mappings().all()
            inventory.put_devices(conn, [_inventory_device(r, today) for r in rows])
            self._move(conn, ids, State.REPLACED, State.MIGRATED, cohort_id=cohort_id)

    def _reconcile(self, cohort_id: int | None, provider: str, ids: list[str], reason: str) -> None:
        """Settle in-doubt devices by asking the provider who holds their credentials."""
        with self.store.connect() as conn:
            rows = {r.device_id: r for r in conn.execute(select(
                t.devices.c.device_id, t.devices.c.state, t.devices.c.previous_owner,
                t.devices.c.cohort_id, t.devices.c.reason).where(t.devices.c.device_id.in_(ids)))}
        try:
            self.adapters[provider].settle()  # a swap that timed out may still be running
            infos = self.adapters[provider].query(ids)
        except ProviderError:
            return  # still in doubt
        to_replaced, to_rolled, to_restore = [], {}, []
        for d, r in rows.items():
            info = infos.get(d)
            if not isinstance(info, MeterInfo):
                continue
            if r.state == State.REPLACING:
                if info.owner == self.dcc_id:
                    to_replaced.append(d)
                elif info.owner == r.previous_owner:
                    to_rolled[d] = reason
            elif r.state == State.ROLLING_BACK:
                if info.owner == self.dcc_id:
                    to_restore.append(d)
                elif info.owner == r.previous_owner:
                    to_rolled[d] = r.reason or reason
        with self.store.begin() as conn:
            self._move(conn, to_replaced, State.REPLACING, State.REPLACED, cohort_id=cohort_id)
            replacing = [d for d in to_rolled if rows[d].state == State.REPLACING]
            self._move(conn, replacing, State.REPLACING, State.ROLLED_BACK, cohort_id=cohort_id,
                       reasons={d: to_rolled[d] for d in replacing})
            rolling = [d for d in to_rolled if rows[d].state == State.ROLLING_BACK]
            self._move(conn, rolling, State.ROLLING_BACK, State.ROLLED_BACK, cohort_id=cohort_id,
                       reasons={d: to_rolled[d] for d in rolling})
        self._commission(cohort_id or 0, to_replaced)
        self._roll_back(cohort_id or 0, provider, to_restore)

    def _settle(self, cohort_id: int, provider: str) -> None:
        """Finish what a cohort left: commission REPLACED, reconcile what is in doubt."""
        with self.store.connect() as conn:
            rows = conn.execute(select(t.devices.c.device_id, t.devices.c.state, t.devices.c.reason).where(
                t.devices.c.cohort_id == cohort_id,
                t.devices.c.state.in_([State.REPLACED.value, *(s.value for s in IN_DOUBT)]))).all()
        self._commission(cohort_id, [r.device_id for r in rows if r.state == State.REPLACED])
        doubt = [r.device_id for r in rows if r.state != State.REPLACED]
        if doubt:
            self._reconcile(cohort_id, provider, doubt, "interrupted; credentials unchanged")

    def resume(self) -> list[CohortReport]:
        """After a restart: settle every running cohort and run those still with planned devices."""
        with self.store.connect() as conn:
            running = conn.execute(select(t.cohorts.c.id, t.cohorts.c.provider).where(
                t.cohorts.c.status == CohortStatus.RUNNING.value).order_by(t.cohorts.c.id)).all()
        reports = []
        for cohort_id, provider in running:
            self._settle(cohort_id, provider)
            reports.append(self.run_cohort(cohort_id))
        return reports


def _inventory_device(row: Any, today: date) -> Device:
    """The SMI record of an adopted SMETS1 meter."""
    mpxn = MPxN.parse(str(row["mpxn"]))
    return Device(
        device_id=EUI64.parse(str(row["device_id"])),
        device_type=DeviceType.ESME if row["fuel"] == "E" else DeviceType.GSME,
        status=DeviceStatus.COMMISSIONED, manufacturer=str(row["provider"]),
        model=str(row["model"]), firmware=str(row["firmware"]), mpxn=mpxn,
        smets="SMETS1", csp_region="SMETS1", s1sp=str(row["provider"]), date_commissioned=today)

