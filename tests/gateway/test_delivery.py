"""The durable outbox and its delivery worker: retry with capped back-off, at least once."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from opendcc.clock import SimulatedClock
from opendcc.gateway.delivery import DeliveryWorker, RetryPolicy
from opendcc.gateway.stores import StoreOutbox
from opendcc.store.engine import Store, open_store

USER = "90-B3-D5-1F-30-01-00-00"
URL = "http://receiver.example/duis"


class Endpoint:
    """A stand-in Receive Response Service: answers each POST with the next scripted status."""

    def __init__(self, *statuses: int | Exception) -> None:
        self.script = list(statuses)
        self.posts: list[tuple[str, bytes]] = []

    def __call__(self, url: str, body: bytes) -> int:
        self.posts.append((url, body))
        outcome = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store("sqlite://")
    yield s
    s.close()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock()


def worker(store: Store, clock: SimulatedClock, endpoint: Endpoint,
           url: str | None = URL) -> tuple[DeliveryWorker, StoreOutbox]:
    outbox = StoreOutbox(store)
    return DeliveryWorker(outbox, lambda _user: url, endpoint, clock,
                          policy=RetryPolicy(initial=1, factor=2, cap=10)), outbox


def test_due_response_is_posted_and_marked_delivered(store: Store, clock: SimulatedClock) -> None:
    endpoint = Endpoint(204)
    w, outbox = worker(store, clock, endpoint)
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    assert outbox.depth() == 1
    assert w.run_once().delivered == 1
    assert endpoint.posts == [(URL, b"<doc/>")]
    assert outbox.depth() == 0
    assert w.run_once().delivered == 0  # never delivered twice once acknowledged


def test_unreachable_endpoint_is_retried_with_exponential_backoff_up_to_a_cap(
    store: Store, clock: SimulatedClock
) -> None:
    endpoint = Endpoint(httpx.ConnectError("refused"))
    w, outbox = worker(store, clock, endpoint)
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    attempts_at: list[float] = []
    for _ in range(600):  # 60 s of simulated time in 0.1 s steps
        if w.run_once().retried:
            attempts_at.append(clock.monotonic())
        clock.advance(0.1)
    gaps = [round(b - a) for a, b in itertools.pairwise(attempts_at)]
    assert gaps[:5] == [1, 2, 4, 8, 10]  # doubling, then capped at 10 s
    assert set(gaps[4:]) == {10}
    assert outbox.depth() == 1


def test_a_pending_response_is_delivered_once_the_endpoint_recovers(
    store: Store, clock: SimulatedClock
) -> None:
    endpoint = Endpoint(503, 503, 204)
    w, outbox = worker(store, clock, endpoint)
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    for _ in range(3):
        w.run_once()
        clock.advance(timedelta(seconds=10).total_seconds())
    assert len(endpoint.posts) == 3
    assert outbox.depth() == 0


def test_refused_response_is_recorded_and_not_retried(store: Store, clock: SimulatedClock) -> None:
    endpoint = Endpoint(400)
    w, outbox = worker(store, clock, endpoint)
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    assert w.run_once().refused == 1
    clock.advance(24 * 3600)
    assert w.run_once().refused == 0
    assert len(endpoint.posts) == 1
    from opendcc.store import outbox as repo

    with store.connect() as conn:
        (item,) = repo.for_request(conn, "A:B:1")
    assert item.last_error is not None and "400" in item.last_error


def test_no_registered_url_keeps_the_response_waiting(store: Store, clock: SimulatedClock) -> None:
    endpoint = Endpoint(204)
    w, outbox = worker(store, clock, endpoint, url=None)
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", "", clock.now())
    assert w.run_once().retried == 1
    assert endpoint.posts == []
    assert outbox.depth() == 1


def test_the_same_response_is_queued_once_per_request_id_and_sequence(
    store: Store, clock: SimulatedClock
) -> None:
    _, outbox = worker(store, clock, Endpoint(204))
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    assert outbox.depth() == 1


def test_backoff_policy_doubles_and_caps() -> None:
    policy = RetryPolicy(initial=1, factor=2, cap=300)
    assert [policy.delay(n) for n in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]


def test_a_response_claimed_by_a_worker_that_died_is_delivered_after_its_lease(
    store: Store, clock: SimulatedClock
) -> None:
    endpoint = Endpoint(204)
    w, outbox = worker(store, clock, endpoint)
    outbox.enqueue(USER, "A:B:1", 0, b"<doc/>", URL, clock.now())
    assert len(outbox.due(clock.now(), 10)) == 1  # claimed by a worker that then dies
    assert w.run_once().delivered == 0  # hidden from the others while the lease runs
    clock.advance(61)
    assert w.run_once().delivered == 1
    assert len(endpoint.posts) == 1


def test_a_malformed_url_delays_only_its_own_response(store: Store, clock: SimulatedClock) -> None:
    outbox = StoreOutbox(store)
    posts: list[str] = []

    def post(url: str, body: bytes) -> int:
        if "bad" in url:
            raise httpx.InvalidURL("Invalid non-printable ASCII character in URL")
        posts.append(url)
        return 204

    urls = {"U1": "http://bad\x01/", "U2": URL}
    w = DeliveryWorker(outbox, urls.get, post, clock)
    outbox.enqueue("U1", "A:B:1", 0, b"<doc/>", "", clock.now())
    outbox.enqueue("U2", "A:B:2", 0, b"<doc/>", "", clock.now())
    report = w.run_once()
    assert (report.retried, report.delivered) == (1, 1)
    assert posts == [URL]
