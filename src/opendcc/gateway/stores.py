"""The gateway's views of the store: the durable outbox for the delivery worker, and the users
with their Receive Response Service URLs for the admin endpoint and the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from opendcc.gateway.delivery import PendingResponse
from opendcc.ids import EUI64
from opendcc.store import outbox as outbox_repo
from opendcc.store import users as users_repo
from opendcc.store._sql import Prepared
from opendcc.store.engine import Store
from opendcc.store.tables import outbox as outbox_table
from opendcc.store.tables import users as users_table

# A refused response (the user's receiver answered 400) is parked this far ahead: recorded,
# never retried, still visible in the outbox for an operator.
_PARKED = datetime(9999, 1, 1, tzinfo=UTC)
# How long a claimed row stays hidden from other workers: longer than one POST can take.
LEASE = timedelta(seconds=60)
# In one round trip: how many messages a RequestID already has queued, and where the user's
# responses go now.
_NEXT_AND_URL = Prepared(select(
    select(func.count()).select_from(outbox_table)
    .where(outbox_table.c.request_id == bindparam("rid")).scalar_subquery(),
    select(users_table.c.response_url)
    .where(users_table.c.user_id == bindparam("uid")).scalar_subquery(),
))


class StoreOutbox:
    """The worker's view of the durable outbox table (`opendcc.store.outbox`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def enqueue(self, user_id: str, request_id: str, sequence: int, body: bytes, url: str,
                now: datetime) -> None:
        """Queue one signed response (idempotent per RequestID and sequence)."""
        with self.store.begin() as conn:
            outbox_repo.enqueue(conn, request_id=request_id, user_id=user_id, url=url,
                                body=body, now=now, sequence=sequence)

    def enqueue_in(self, conn: Connection, user_id: str, request_id: str, sequence: int,
                   body: bytes, now: datetime) -> None:
        """Queue one signed response inside the caller's transaction, addressed to the user's
        response URL as registered now (the worker uses the one registered when it POSTs)."""
        user = users_repo.get_user(conn, EUI64.parse(user_id))
        url = user.response_url if user is not None and user.response_url else ""
        outbox_repo.enqueue(conn, request_id=request_id, user_id=user_id, url=url, body=body,
                            now=now, sequence=sequence)

    def enqueue_next_in(self, conn: Connection, user_id: str, request_id: str, body: bytes,
                        now: datetime) -> int:
        """Queue one signed message as the next of its RequestID (sequence = how many are
        queued already) inside the caller's transaction, as `enqueue_in` does; its sequence."""
        sequence, url = _NEXT_AND_URL.execute(conn, {"rid": request_id, "uid": user_id}).rows[0]
        outbox_repo.enqueue(conn, request_id=request_id, user_id=user_id, url=url or "",
                            body=body, now=now, sequence=int(sequence))
        return int(sequence)

    def due(self, now: datetime, limit: int) -> list[PendingResponse]:
        """Rows due for an attempt, claimed for this worker for `LEASE` (several gateway
        processes may share one store; a worker that dies loses nothing, its rows fall due
        again when the lease ends)."""
        with self.store.begin() as conn:
            items = outbox_repo.claim_due(conn, now, LEASE, limit)
        return [PendingResponse(i.id, i.user_id, i.request_id, i.body, i.attempts, i.url)
                for i in items]

    def mark_delivered(self, item_id: int, now: datetime) -> None:
        """The endpoint accepted it."""
        with self.store.begin() as conn:
            outbox_repo.mark_delivered(conn, item_id, now)

    def mark_retry(self, item_id: int, next_attempt: datetime, error: str) -> None:
        """Try again later."""
        with self.store.begin() as conn:
            outbox_repo.mark_retry(conn, item_id, next_attempt, error)

    def mark_refused(self, item_id: int, now: datetime, reason: str) -> None:
        """The endpoint refused it: record why and never retry."""
        with self.store.begin() as conn:
            outbox_repo.mark_retry(conn, item_id, _PARKED, f"refused at {now.isoformat()}: {reason}")

    def retry_now(self, user_id: str, now: datetime) -> int:
        """Make every waiting response of a user due now (its endpoint has just changed);
        refused ones stay parked. Returns how many."""
        with self.store.begin() as conn:
            return int(conn.execute(
                update(outbox_table)
                .where(outbox_table.c.user_id == user_id, outbox_table.c.delivered_at.is_(None),
                       outbox_table.c.next_attempt_at < _PARKED)
                .values(next_attempt_at=now)
            ).rowcount)

    def depth(self) -> int:
        """Responses not yet delivered."""
        with self.store.connect() as conn:
            return outbox_repo.pending_count(conn)


class StoreUsers:
    """DUIS users and their Receive Response Service URLs (`opendcc.store.users`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def list(self) -> list[dict[str, object]]:
        """Every user as a JSON-ready dict."""
        with self.store.connect() as conn:
            users = users_repo.list_users(conn)
        return [{"user_id": u.user_id.hyphenated, "name": u.name, "roles": sorted(u.roles),
                 "response_url": u.response_url} for u in users]

    def response_url(self, user_id: str) -> str | None:
        """Where this user's async responses go, or None."""
        with self.store.connect() as conn:
            user = users_repo.get_user(conn, EUI64.parse(user_id))
        return user.response_url if user else None

    def set_response_url(self, user_id: str, url: str | None) -> None:
        """Register a user's response URL; KeyError if there is no such user."""
        try:
            eui = EUI64.parse(user_id)
            with self.store.begin() as conn:
                users_repo.set_response_url(conn, eui, url)
        except (users_repo.UnknownUser, ValueError) as exc:
            raise KeyError(user_id) from exc
