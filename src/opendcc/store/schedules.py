"""DCC schedules: the DCC-scheduled Service Requests users created with SRV 5.1 (DUIS 5.4 §3.2).

One row per schedule (table `dcc_schedules`). Every function works inside the caller's
transaction: 5.1 / 5.2 / 5.3 call them on the request's own connection, so a schedule exists
if and only if the request that created it was committed. `claim_run` marks one run as sent
with a conditional UPDATE, so of two processes (or a process and its restarted self) over
one database exactly one sends each run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from opendcc.store._sql import as_utc, require_utc
from opendcc.store.tables import dcc_schedules as _t


@dataclass(frozen=True, slots=True)
class StoredSchedule:
    """One DCC schedule as the store keeps it (XML bodies as text)."""

    schedule_id: int
    owner: str
    device_id: str
    device_type: str
    service_reference: str
    service_reference_variant: str
    frequency: str
    start_at: datetime
    first_run_at: datetime
    end_at: datetime | None
    dsp_body: str
    details: str
    last_run_at: datetime | None
    created_at: datetime


def add(conn: Connection, *, owner: str, device_id: str, device_type: str,
        service_reference: str, service_reference_variant: str, frequency: str,
        start_at: datetime, first_run_at: datetime, end_at: datetime | None, dsp_body: str,
        details: str, created_at: datetime) -> int:
    """Store a new schedule; its DSPScheduleID (the table's key)."""
    result = conn.execute(insert(_t).values(
        owner=owner, device_id=device_id, device_type=device_type,
        service_reference=service_reference, service_reference_variant=service_reference_variant,
        frequency=frequency, start_at=require_utc(start_at),
        first_run_at=require_utc(first_run_at),
        end_at=None if end_at is None else require_utc(end_at), dsp_body=dsp_body,
        details=details, last_run_at=None, created_at=require_utc(created_at),
    ).returning(_t.c.schedule_id))
    return int(result.scalar_one())


def get(conn: Connection, schedule_id: int) -> StoredSchedule | None:
    """One schedule by its DSPScheduleID."""
    row = conn.execute(select(_t).where(_t.c.schedule_id == schedule_id)).mappings().first()
    return None if row is None else _schedule(row)


def of_owner(conn: Connection, owner: str, *, device_id: str | None = None
             ) -> list[StoredSchedule]:
    """The schedules `owner` holds (for one device, if given), oldest first."""
    query = select(_t).where(_t.c.owner == owner)
    if device_id is not None:
        query = query.where(_t.c.device_id == device_id)
    rows = conn.execute(query.order_by(_t.c.schedule_id)).mappings()
    return [_schedule(row) for row in rows]


def every(conn: Connection) -> list[StoredSchedule]:
    """Every schedule the DCC holds (loaded when the DCC starts)."""
    return [_schedule(row) for row in conn.execute(select(_t).order_by(_t.c.schedule_id)).mappings()]


def remove(conn: Connection, schedule_id: int) -> bool:
    """Delete one schedule; True if it existed."""
    return conn.execute(delete(_t).where(_t.c.schedule_id == schedule_id)).rowcount == 1


def claim_run(conn: Connection, schedule_id: int, at: datetime) -> bool:
    """Record the run due `at` as sent, if no run at or after `at` was recorded yet; True if
    this caller claimed it (and so must send it), False if it was claimed before or the
    schedule is gone. The comparison is inside the UPDATE, so concurrent claims of one run
    give it to exactly one caller on SQLite and PostgreSQL."""
    at = require_utc(at)
    claimed = conn.execute(
        update(_t)
        .where(_t.c.schedule_id == schedule_id,
               or_(_t.c.last_run_at.is_(None), _t.c.last_run_at < at))
        .values(last_run_at=at)
    )
    return claimed.rowcount == 1


def _schedule(row: Any) -> StoredSchedule:
    start, first, created = (as_utc(row[k]) for k in ("start_at", "first_run_at", "created_at"))
    assert start is not None and first is not None and created is not None
    return StoredSchedule(
        schedule_id=int(row["schedule_id"]), owner=row["owner"], device_id=row["device_id"],
        device_type=row["device_type"], service_reference=row["service_reference"],
        service_reference_variant=row["service_reference_variant"],
        frequency=row["frequency"], start_at=start, first_run_at=first,
        end_at=as_utc(row["end_at"]), dsp_body=row["dsp_body"], details=row["details"],
        last_run_at=as_utc(row["last_run_at"]), created_at=created,
    )
