"""Migration progress: per-cohort and per-provider counts, read from the SMETS1 tables."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from opendcc.smets1 import tables as t
from opendcc.smets1.states import IN_DOUBT, State
from opendcc.store.engine import Store


@dataclass
class Counts:
    """Devices by outcome: planned (authorised or waiting in a cohort), migrated, failed
    (failed attempts, including ones later retried), rolled back (now), dormant recovered
    (migrated meters that were dormant), in doubt (mid-swap)."""

    planned: int = 0
    migrated: int = 0
    failed: int = 0
    rolled_back: int = 0
    dormant_recovered: int = 0
    in_doubt: int = 0
    total: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain mapping (for JSON)."""
        return dict(vars(self))


@dataclass
class CohortProgress:
    """One cohort's schedule, approvals and counts."""

    cohort_id: int
    provider: str
    model: str
    firmware: str
    status: str
    scheduled_at: str
    approvers: list[str]
    counts: Counts


@dataclass
class Progress:
    """All counts: per cohort, per provider, and in total."""

    cohorts: list[CohortProgress] = field(default_factory=list)
    providers: dict[str, Counts] = field(default_factory=dict)
    totals: Counts = field(default_factory=Counts)


def _add(c: Counts, state: str, dormant: bool, n: int) -> None:
    c.total += n
    if state in (State.AUTHORISED, State.PLANNED):
        c.planned += n
    elif state == State.MIGRATED:
        c.migrated += n
        if dormant:
            c.dormant_recovered += n
    elif state == State.ROLLED_BACK:
        c.rolled_back += n
    elif state in IN_DOUBT or state == State.REPLACED:
        c.in_doubt += n


def counts(store: Store) -> Progress:
    """Current progress of SMETS1 enrolment and adoption."""
    t.create_tables(store.engine)
    progress = Progress()
    d = t.devices
    with store.connect() as conn:
        per_cohort: dict[int, Counts] = {}
        for cohort_id, provider, state, dormant, n in conn.execute(
                select(d.c.cohort_id, d.c.provider, d.c.state, d.c.dormant, func.count()).group_by(
                    d.c.cohort_id, d.c.provider, d.c.state, d.c.dormant)):
            for c in (progress.totals, progress.providers.setdefault(provider, Counts()),
                      per_cohort.setdefault(cohort_id or 0, Counts())):
                _add(c, state, bool(dormant), n)
        tr = t.transitions
        for cohort_id, provider, n in conn.execute(
                select(tr.c.cohort_id, d.c.provider, func.count()).join(d, d.c.device_id == tr.c.device_id)
                .where(tr.c.to_state == State.ROLLED_BACK.value).group_by(tr.c.cohort_id, d.c.provider)):
            progress.totals.failed += n
            progress.providers.setdefault(provider, Counts()).failed += n
            per_cohort.setdefault(cohort_id or 0, Counts()).failed += n
        for row in conn.execute(select(t.cohorts).order_by(t.cohorts.c.id)).mappings():
            # a device's current row names its latest cohort: earlier cohorts keep their failures only
            progress.cohorts.append(CohortProgress(
                row["id"], row["provider"], row["model"], row["firmware"], row["status"],
                str(row["scheduled_at"]), [a for a in (row["approver_1"], row["approver_2"]) if a],
                per_cohort.get(row["id"], Counts())))
    return progress


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """One device's outcome in a cohort: where it ended and why."""

    device_id: str
    mpxn: str
    provider: str
    model: str
    firmware: str
    state: str
    reason: str | None
    attempts: int
    dormant: bool


def device_report(store: Store, cohort_id: int) -> list[DeviceReport]:
    """Per-device report of a cohort: every device last planned into it, in device order."""
    t.create_tables(store.engine)
    d = t.devices
    with store.connect() as conn:
        rows = conn.execute(select(d.c.device_id, d.c.mpxn, d.c.provider, d.c.model, d.c.firmware,
                                   d.c.state, d.c.reason, d.c.attempts, d.c.dormant)
                            .where(d.c.cohort_id == cohort_id).order_by(d.c.device_id)).all()
    return [DeviceReport(r[0], r[1], r[2], r[3], r[4], r[5], r[6], int(r[7]), bool(r[8])) for r in rows]
