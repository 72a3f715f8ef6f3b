"""RequestID counters: replay protection for DUIS requests.

DUIS 5.4 §3.4: the counter part of a RequestID must be strictly greater than any counter the
DCC has accepted from the same originator. The check and the advance are one conditional SQL
statement, so two concurrent requests with the same counter cannot both pass, on SQLite or on
PostgreSQL, and the last counter survives restarts.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from opendcc.duis.response_codes import CounterReplayed
from opendcc.ids import EUI64
from opendcc.store._sql import Prepared, insert_for
from opendcc.store.tables import counter_from_sql, counter_to_sql, request_counters

_table = request_counters
# Built once (the INSERT per dialect): the per-request advance skips statement construction
# and cache-key generation.
_ADVANCE = Prepared(
    update(_table)
    .where(_table.c.originator == bindparam("key"), _table.c.last_counter < bindparam("value"))
    .values(last_counter=bindparam("value"))
)
_FIRST: dict[str, Any] = {}


def _first(conn: Connection) -> Any:
    stmt = _FIRST.get(conn.dialect.name)
    if stmt is None:
        stmt = _FIRST[conn.dialect.name] = (
            insert_for(conn, _table)
            .values(originator=bindparam("key"), last_counter=bindparam("value"))
            .on_conflict_do_nothing(index_elements=[_table.c.originator])
            .returning(_table.c.originator)
        )
    return stmt


def last_counter(conn: Connection, originator: EUI64) -> int | None:
    """The highest counter accepted from `originator`, or None if none yet."""
    value = conn.execute(
        select(_table.c.last_counter).where(_table.c.originator == originator.hyphenated)
    ).scalar_one_or_none()
    return None if value is None else counter_from_sql(value)


def advance_counter(conn: Connection, originator: EUI64, counter: int) -> None:
    """DUIS 5.4 §3.4: accept `counter` only if it exceeds the last one seen for `originator`.

    Raises `CounterReplayed` (and changes nothing) otherwise. Race-safe: the comparison
    happens inside the UPDATE/INSERT, and the row count says whether this caller won.
    """
    if not 0 <= counter < 2**64:
        raise CounterReplayed(f"RequestID counter {counter} is not a 64-bit unsigned value")
    key, value = originator.hyphenated, counter_to_sql(counter)
    # Two rounds: a first request from a new originator may lose the INSERT race to another
    # request, in which case the row now exists and the conditional UPDATE decides.
    for _ in range(2):
        advanced = _ADVANCE.execute(conn, {"key": key, "value": value}).rowcount
        if advanced == 1:
            return
        # RETURNING, not rowcount: drivers disagree on rowcount for INSERT ... ON CONFLICT.
        inserted = conn.execute(_first(conn), {"key": key, "value": value}).first()
        if inserted is not None:
            return
    last = last_counter(conn, originator)
    raise CounterReplayed(
        f"RequestID counter {counter} from {originator} does not exceed the last accepted "
        f"counter {last}"
    )
