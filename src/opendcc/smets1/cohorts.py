"""Cohort planning and dual-control approval for SMETS1 migration.

A cohort holds devices of one provider, one model and one firmware, at most `size_limit` of
them, and starts at its scheduled time. Before it runs, two distinct people must approve it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from opendcc.smets1 import tables as t


class CohortStatus(StrEnum):
    """Where a cohort is."""

    PLANNED = "planned"
    APPROVED = "approved"
    RUNNING = "running"
    DONE = "done"


class CohortError(Exception):
    """A cohort operation that is not allowed now; the message says why."""


@dataclass(frozen=True, slots=True)
class CohortPlan:
    """One cohort to create: whose devices, which, and when."""

    provider: str
    model: str
    firmware: str
    device_ids: tuple[str, ...]
    scheduled_at: datetime


def plan(devices: Iterable[tuple[str, str, str, str]], *, size_limit: int, start: datetime,
         interval: timedelta) -> list[CohortPlan]:
    """Group (device, provider, model, firmware) into cohorts of at most `size_limit`, one every `interval`."""
    if size_limit < 1:
        raise CohortError(f"cohort size limit must be positive, not {size_limit}")
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for device_id, provider, model, firmware in devices:
        groups[(provider, model, firmware)].append(device_id)
    plans: list[CohortPlan] = []
    for key in sorted(groups):
        ids = sorted(groups[key])
        for s in range(0, len(ids), size_limit):
            plans.append(CohortPlan(*key, tuple(ids[s:s + size_limit]), start + interval * len(plans)))
    return plans


def create(conn: Connection, cohort: CohortPlan) -> int:
    """Persist a planned cohort; returns its id."""
    result = conn.execute(insert(t.cohorts).values(
        provider=cohort.provider, model=cohort.model, firmware=cohort.firmware,
        size=len(cohort.device_ids), scheduled_at=cohort.scheduled_at,
        status=CohortStatus.PLANNED.value))
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def approve(conn: Connection, cohort_id: int, approver: str) -> CohortStatus:
    """Record one approval; the second, by a different approver, makes the cohort APPROVED."""
    row = conn.execute(select(t.cohorts).where(t.cohorts.c.id == cohort_id)).mappings().first()
    if row is None:
        raise CohortError(f"no SMETS1 cohort {cohort_id}")
    if row["status"] != CohortStatus.PLANNED:
        raise CohortError(f"cohort {cohort_id} is {row['status']}, approvals are closed")
    if not approver:
        raise CohortError("an approval needs the approver's name")
    if row["approver_1"] is None:
        conn.execute(update(t.cohorts).where(t.cohorts.c.id == cohort_id).values(approver_1=approver))
        return CohortStatus.PLANNED
    if row["approver_1"] == approver:
        raise CohortError(f"cohort {cohort_id}: dual control needs a second, different approver "
                          f"({approver} already approved)")
    conn.execute(update(t.cohorts).where(t.cohorts.c.id == cohort_id).values(
        approver_2=approver, status=CohortStatus.APPROVED.value))
    return CohortStatus.APPROVED
