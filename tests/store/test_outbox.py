"""The durable outbox: pending -> retry -> delivered, enqueued once per (RequestID, sequence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opendcc.store import outbox
from opendcc.store.engine import Store, open_store

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RID = "90-B3-D5-1F-30-00-00-02:90-B3-D5-1F-30-01-00-00:1000"


def _enqueue(store: Store, *, sequence: int = 0, body: bytes = b"<Response/>") -> bool:
    with store.begin() as conn:
        return outbox.enqueue(
            conn, request_id=RID, user_id="90-B3-D5-1F-30-01-00-00",
            url="http://127.0.0.1:9/receive", body=body, now=T0, sequence=sequence,
        )


def test_enqueued_response_is_due_at_once(any_store: Store) -> None:
    assert _enqueue(any_store)
    with any_store.begin() as conn:
        [item] = outbox.due(conn, T0, 10)
    assert (item.request_id, item.sequence, item.body, item.attempts) == (RID, 0, b"<Response/>", 0)
    assert item.next_attempt_at == T0 and not item.delivered


def test_a_response_is_enqueued_only_once(any_store: Store) -> None:
    assert _enqueue(any_store)
    assert not _enqueue(any_store, body=b"<Other/>")
    assert _enqueue(any_store, sequence=1)
    with any_store.begin() as conn:
        items = outbox.for_request(conn, RID)
    assert [(i.sequence, i.body) for i in items] == [(0, b"<Response/>"), (1, b"<Response/>")]


def test_failed_attempt_waits_until_its_retry_time(any_store: Store) -> None:
    _enqueue(any_store)
    with any_store.begin() as conn:
        [item] = outbox.due(conn, T0, 10)
        outbox.mark_retry(conn, item.id, T0 + timedelta(seconds=30), "connection refused")
    with any_store.begin() as conn:
        assert outbox.due(conn, T0 + timedelta(seconds=29), 10) == []
        [again] = outbox.due(conn, T0 + timedelta(seconds=30), 10)
    assert again.attempts == 1 and again.last_error == "connection refused"


def test_delivered_response_is_never_due_again(any_store: Store) -> None:
    _enqueue(any_store)
    with any_store.begin() as conn:
        [item] = outbox.due(conn, T0, 10)
        outbox.mark_delivered(conn, item.id, T0 + timedelta(seconds=1))
        outbox.mark_retry(conn, item.id, T0, "late failure report is ignored")
    with any_store.begin() as conn:
        assert outbox.due(conn, T0 + timedelta(days=1), 10) == []
        done = outbox.get(conn, item.id)
        assert outbox.pending_count(conn) == 0
    assert done is not None and done.delivered and done.attempts == 1 and done.last_error is None


def test_claimed_items_are_hidden_for_the_lease_then_due_again(any_store: Store) -> None:
    _enqueue(any_store)
    with any_store.begin() as conn:
        [claimed] = outbox.claim_due(conn, T0, timedelta(seconds=60))
        assert outbox.claim_due(conn, T0 + timedelta(seconds=59), timedelta(seconds=60)) == []
        [again] = outbox.claim_due(conn, T0 + timedelta(seconds=60), timedelta(seconds=60))
    assert claimed.id == again.id


def test_due_is_oldest_first_and_limited(memory_store: Store) -> None:
    with memory_store.begin() as conn:
        for n in range(5):
            outbox.enqueue(conn, request_id=f"r{n}", user_id="u", url="http://x",
                           body=b"b", now=T0 + timedelta(seconds=n))
        assert [i.request_id for i in outbox.due(conn, T0 + timedelta(hours=1), 3)] == [
            "r0", "r1", "r2"]


def test_naive_datetimes_are_refused(memory_store: Store) -> None:
    with pytest.raises(ValueError, match="naive"), memory_store.begin() as conn:
        outbox.due(conn, datetime(2026, 1, 1), 1)


def test_outbox_survives_restart(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    _enqueue(store)
    store.close()
    reopened = open_store(sqlite_url)
    with reopened.begin() as conn:
        assert [i.request_id for i in outbox.due(conn, T0, 10)] == [RID]
    reopened.close()


def test_purge_removes_only_delivered_items_older_than_the_cut(any_store: Store) -> None:
    _enqueue(any_store)
    _enqueue(any_store, sequence=1)
    with any_store.begin() as conn:
        first, _second = outbox.for_request(conn, RID)
        outbox.mark_delivered(conn, first.id, T0 + timedelta(seconds=1))
        assert outbox.purge_delivered(conn, T0 + timedelta(seconds=1)) == 0
        assert outbox.purge_delivered(conn, T0 + timedelta(days=1)) == 1
        assert [i.sequence for i in outbox.for_request(conn, RID)] == [1]
