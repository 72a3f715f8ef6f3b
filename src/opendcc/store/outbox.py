"""The durable outbox: signed async DUIS responses waiting for delivery to a user's endpoint.

Each row moves pending -> (retry ->)* delivered. A response is enqueued at most once per
(RequestID, sequence), so a retried request handler cannot duplicate it; delivery is at least
once, and the receiver recognises a duplicate by its RequestID.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.engine import Connection, RowMapping

from opendcc.store._sql import Prepared, as_utc, insert_for, require_utc
from opendcc.store.tables import outbox

_t = outbox
# Built once (the INSERT per dialect): the per-response statements only bind their values.
_ENQUEUE: dict[str, Prepared] = {}
_FOR_REQUEST = select(_t).where(_t.c.request_id == bindparam("rid")).order_by(_t.c.sequence)
_COUNT_FOR_REQUEST = select(func.count()).select_from(_t).where(_t.c.request_id == bindparam("rid"))


def _enqueue_statement(conn: Connection) -> Prepared:
    stmt = _ENQUEUE.get(conn.dialect.name)
    if stmt is None:
        stmt = _ENQUEUE[conn.dialect.name] = Prepared(
            insert_for(conn, _t)
            .on_conflict_do_nothing(index_elements=[_t.c.request_id, _t.c.sequence])
            .returning(_t.c.id),
            column_keys=["request_id", "sequence", "user_id", "url", "body", "attempts",
                         "next_attempt_at", "created_at"],
        )
    return stmt


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One response awaiting (or having had) delivery."""

    id: int
    request_id: str
    sequence: int
    user_id: str
    url: str
    body: bytes
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime

    @property
    def delivered(self) -> bool:
        """True once the user's endpoint has accepted it."""
        return self.delivered_at is not None


def _item(row: RowMapping) -> OutboxItem:
    return OutboxItem(
        id=row["id"],
        request_id=row["request_id"],
        sequence=row["sequence"],
        user_id=row["user_id"],
        url=row["url"],
        body=bytes(row["body"]),
        attempts=row["attempts"],
        next_attempt_at=as_utc(row["next_attempt_at"]),  # type: ignore[arg-type]
        delivered_at=as_utc(row["delivered_at"]),
        last_error=row["last_error"],
        created_at=as_utc(row["created_at"]),  # type: ignore[arg-type]
    )


def enqueue(
    conn: Connection,
    *,
    request_id: str,
    user_id: str,
    url: str,
    body: bytes,
    now: datetime,
    sequence: int = 0,
) -> bool:
    """Queue `body` for delivery now; False (and nothing changed) if already queued."""
    now = require_utc(now)
    inserted = _enqueue_statement(conn).execute(conn, {
        "request_id": request_id,
        "sequence": sequence,
        "user_id": user_id,
        "url": url,
        "body": body,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }).rows
    return bool(inserted)


def get(conn: Connection, item_id: int) -> OutboxItem | None:
    """One outbox row by id."""
    row = conn.execute(select(_t).where(_t.c.id == item_id)).mappings().one_or_none()
    return None if row is None else _item(row)


def for_request(conn: Connection, request_id: str) -> list[OutboxItem]:
    """Every response queued for a RequestID, in sequence order."""
    rows = conn.execute(_FOR_REQUEST, {"rid": request_id}).mappings()
    return [_item(r) for r in rows]


def count_for_request(conn: Connection, request_id: str) -> int:
    """How many responses are queued for a RequestID (delivered or not)."""
    return int(conn.execute(_COUNT_FOR_REQUEST, {"rid": request_id}).scalar_one())


def due(conn: Connection, now: datetime, limit: int = 100) -> list[OutboxItem]:
    """Undelivered items whose next attempt is at or before `now`, oldest first."""
    rows = conn.execute(
        select(_t)
        .where(_t.c.delivered_at.is_(None), _t.c.next_attempt_at <= require_utc(now))
        .order_by(_t.c.next_attempt_at, _t.c.id)
        .limit(limit)
    ).mappings()
    return [_item(r) for r in rows]


def claim_due(
    conn: Connection, now: datetime, lease: timedelta, limit: int = 100
) -> list[OutboxItem]:
    """Take up to `limit` due items for one worker: each is hidden from others for `lease`.

    A worker that dies mid-delivery loses nothing: its items fall due again when the lease
    ends. Several workers may share one PostgreSQL store (rows are locked SKIP LOCKED).
    """
    now = require_utc(now)
    query = (
        select(_t.c.id)
        .where(_t.c.delivered_at.is_(None), _t.c.next_attempt_at <= now)
        .order_by(_t.c.next_attempt_at, _t.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    conn.execute(update(_t).where(_t.c.id.in_(ids)).values(next_attempt_at=now + lease))
    rows = conn.execute(select(_t).where(_t.c.id.in_(ids)).order_by(_t.c.id)).mappings()
    return [_item(r) for r in rows]


def mark_delivered(conn: Connection, item_id: int, now: datetime) -> None:
    """Record a successful delivery (the endpoint answered 2xx); idempotent."""
    conn.execute(
        update(_t)
        .where(_t.c.id == item_id, _t.c.delivered_at.is_(None))
        .values(delivered_at=require_utc(now), attempts=_t.c.attempts + 1, last_error=None)
    )


def mark_retry(conn: Connection, item_id: int, next_at: datetime, error: str) -> None:
    """Record a failed attempt and when to try again; a delivered item stays delivered."""
    conn.execute(
        update(_t)
        .where(_t.c.id == item_id, _t.c.delivered_at.is_(None))
        .values(
            next_attempt_at=require_utc(next_at),
            attempts=_t.c.attempts + 1,
            last_error=error[:2000],
        )
    )


def pending_count(conn: Connection) -> int:
    """How many items are not yet delivered (a health/metrics figure)."""
    return int(
        conn.execute(select(func.count()).select_from(_t).where(_t.c.delivered_at.is_(None)))
        .scalar_one()
    )


def purge_delivered(conn: Connection, before: datetime) -> int:
    """Delete items delivered before `before` (housekeeping); how many went."""
    return int(conn.execute(
        delete(_t).where(_t.c.delivered_at.is_not(None), _t.c.delivered_at < require_utc(before))
    ).rowcount)
