"""Change-of-supplier records in the store: one row per meter point and registration change,
holding where its CoS state machine is (`core.change_of_supplier`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, RowMapping

from opendcc.ids import EUI64, MPxN
from opendcc.store._sql import as_utc, insert_for, require_utc
from opendcc.store.tables import cos_switch

_t = cos_switch


class Step(StrEnum):
    """Where one change of supplier is."""

    DETECTED = "detected"  # registration shows a new supplier; devices still trust the old one
    CREDENTIALS = "credentials"  # CS02b under way through the Transitional CoS party
    COMPLETED = "completed"  # every device of the meter point trusts the new supplier


@dataclass(frozen=True, slots=True)
class Switch:
    """One change of supplier of one meter point."""

    switch_id: int
    mpxn: MPxN
    effective_from: datetime
    old_supplier: EUI64
    new_supplier: EUI64
    step: Step
    devices_done: frozenset[str]


def _switch(row: RowMapping) -> Switch:
    return Switch(
        switch_id=row["id"],
        mpxn=MPxN.parse(row["mpxn"]),
        effective_from=as_utc(row["effective_from"]),  # type: ignore[arg-type]
        old_supplier=EUI64.parse(row["old_supplier"]),
        new_supplier=EUI64.parse(row["new_supplier"]),
        step=Step(row["step"]),
        devices_done=frozenset(row["devices_done"].split()),
    )


def add(conn: Connection, mpxn: MPxN, effective_from: datetime, old: EUI64, new: EUI64,
        now: datetime) -> bool:
    """Record a detected switch; False if this registration change is already recorded."""
    stmt = insert_for(conn, _t).values(
        mpxn=str(mpxn), effective_from=require_utc(effective_from), old_supplier=old.hyphenated,
        new_supplier=new.hyphenated, step=Step.DETECTED.value, devices_done="",
        updated_at=require_utc(now),
    ).on_conflict_do_nothing(index_elements=[_t.c.mpxn, _t.c.effective_from])
    return bool(conn.execute(stmt).rowcount == 1)


def get(conn: Connection, switch_id: int) -> Switch | None:
    """One switch by its ID."""
    row = conn.execute(select(_t).where(_t.c.id == switch_id)).mappings().first()
    return None if row is None else _switch(row)


def of_mpxn(conn: Connection, mpxn: MPxN) -> list[Switch]:
    """Every switch of a meter point, oldest first."""
    rows = conn.execute(select(_t).where(_t.c.mpxn == str(mpxn)).order_by(_t.c.effective_from))
    return [_switch(r) for r in rows.mappings()]


def unfinished(conn: Connection, limit: int | None = None) -> list[Switch]:
    """Switches not yet completed, oldest first."""
    stmt = select(_t).where(_t.c.step != Step.COMPLETED.value).order_by(_t.c.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [_switch(r) for r in conn.execute(stmt).mappings()]


def all_switches(conn: Connection) -> list[Switch]:
    """Every recorded switch."""
    return [_switch(r) for r in conn.execute(select(_t).order_by(_t.c.id)).mappings()]


def advance(conn: Connection, switch: Switch, step: Step, devices_done: frozenset[str],
            now: datetime) -> bool:
    """Move a switch on, if nobody moved it since it was read (compared in the UPDATE)."""
    changed = conn.execute(
        update(_t)
        .where(_t.c.id == switch.switch_id, _t.c.step == switch.step.value,
               _t.c.devices_done == " ".join(sorted(switch.devices_done)))
        .values(step=step.value, devices_done=" ".join(sorted(devices_done)),
                updated_at=require_utc(now))
    ).rowcount
    return bool(changed == 1)
