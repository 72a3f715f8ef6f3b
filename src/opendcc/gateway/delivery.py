"""Delivery of asynchronous DUIS responses: the durable outbox drained to users' endpoints.

DUIS 5.4 §3.3 (Receive Response Service): the DCC POSTs each signed DUIS Response to the
endpoint the user registered. Responses wait in a durable outbox (rows in the store), so a
restart loses none; the worker POSTs every row that is due, and on failure schedules the next
attempt with exponential back-off up to a cap. Delivery is at least once: a response can
arrive twice (a crash between POST and mark), and the user recognises the duplicate by its
RequestID. The user's receiver answers 2xx to accept; 400 means it refused the message (its
signature or schema check failed), which is recorded and not retried.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import httpx

from opendcc.clock import Clock
from opendcc.gateway.logs import log_event
from opendcc.gateway.metrics import Metrics

log = logging.getLogger("opendcc.gateway.delivery")


@dataclass(frozen=True, slots=True)
class PendingResponse:
    """One outbox row: a signed DUIS Response waiting to reach its user."""

    id: int
    user_id: str
    request_id: str
    body: bytes
    attempts: int
    url: str = ""  # the URL registered when it was queued; the current one wins


class Outbox(Protocol):
    """The durable outbox as the worker needs it (implemented over the store)."""

    def due(self, now: datetime, limit: int) -> list[PendingResponse]:
        """Rows not yet delivered whose next attempt is at or before `now`."""
        ...

    def mark_delivered(self, item_id: int, now: datetime) -> None:
        """The user's endpoint accepted the response."""
        ...

    def mark_retry(self, item_id: int, next_attempt: datetime, error: str) -> None:
        """The attempt failed; try again at `next_attempt`."""
        ...

    def mark_refused(self, item_id: int, now: datetime, reason: str) -> None:
        """The user's endpoint refused the response (HTTP 400): stop trying."""
        ...

    def depth(self) -> int:
        """How many rows wait for delivery."""
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential back-off: `initial * factor**(attempt-1)` seconds, never above `cap`."""

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (1-based)."""
        return min(self.cap, self.initial * self.factor ** max(0, attempts - 1))


@dataclass
class DeliveryReport:
    """What one pass of the worker did."""

    delivered: int = 0
    retried: int = 0
    refused: int = 0


Poster = Callable[[str, bytes], int]
"""POSTs a body to a URL and returns the HTTP status; raises `httpx.HTTPError` when unreachable."""


def httpx_poster(client: httpx.Client) -> Poster:
    """A `Poster` over an httpx client, sending `application/xml` as DCC Boxed does."""

    def post(url: str, body: bytes) -> int:
        return client.post(url, content=body, headers={"Content-Type": "application/xml"}).status_code

    return post


class DeliveryWorker:
    """Drains the outbox: POSTs due responses, marks them delivered, retried or refused."""

    def __init__(
        self,
        outbox: Outbox,
        response_url: Callable[[str], str | None],
        post: Poster,
        clock: Clock,
        *,
        policy: RetryPolicy | None = None,
        metrics: Metrics | None = None,
        batch: int = 50,
    ) -> None:
        self.outbox = outbox
        self.response_url = response_url
        self.post = post
        self.clock = clock
        self.policy = policy or RetryPolicy()
        self.metrics = metrics
        self.batch = batch
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> DeliveryReport:
        """Attempt every response that is due now, once."""
        report = DeliveryReport()
        for item in self.outbox.due(self.clock.now(), self.batch):
            outcome = self._attempt(item)
            setattr(report, outcome, getattr(report, outcome) + 1)
            if self.metrics is not None:
                self.metrics.observe_delivery(outcome)
        return report

    def _attempt(self, item: PendingResponse) -> str:
        url = self.response_url(item.user_id) or item.url
        if not url:
            return self._retry(item, f"user {item.user_id} has no response URL registered")
        try:
            status = self.post(url, item.body)
        except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
            # one bad endpoint must not stop the others: this row waits, the pass goes on
            return self._retry(item, f"POST {url} failed: {exc.__class__.__name__}: {exc}")
        if 200 <= status < 300:
            self.outbox.mark_delivered(item.id, self.clock.now())
            log_event(log, "delivered", request_id=item.request_id, user=item.user_id, url=url,
                      attempts=item.attempts + 1)
            return "delivered"
        if status == 400:
            reason = f"POST {url} refused with HTTP 400"
            self.outbox.mark_refused(item.id, self.clock.now(), reason)
            log_event(log, "refused", logging.WARNING, request_id=item.request_id,
                      user=item.user_id, url=url)
            return "refused"
        return self._retry(item, f"POST {url} answered HTTP {status}")

    def _retry(self, item: PendingResponse, error: str) -> str:
        wait = self.policy.delay(item.attempts + 1)
        self.outbox.mark_retry(item.id, self.clock.now() + timedelta(seconds=wait), error)
        log_event(log, "retry", logging.WARNING, request_id=item.request_id, user=item.user_id,
                  error=error, retry_in=wait)
        return "retried"

    def wake(self) -> None:
        """Tell a running worker that new responses were enqueued."""
        self._wake.set()

    def run_forever(self, stop: threading.Event, poll: float = 0.5) -> None:
        """Loop until `stop` is set: deliver what is due, then wait for `poll` seconds or a wake."""
        self._stop = stop
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:  # keep the worker alive through a transient store error
                log.exception("delivery pass failed")
            self._wake.wait(poll)
            self._wake.clear()

    def start(self, poll: float = 0.5) -> threading.Thread:
        """Run the worker in a daemon thread until `stop()`."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run_forever, args=(self._stop, poll),
                                        name="opendcc-delivery", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """Stop a worker started with `start()` and wait for its current pass to end."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
