"""The one clock abstraction: everything that waits or stamps time takes a `Clock`.

Production code uses `SystemClock`; tests and simulations use `SimulatedClock`, which only
moves when told to, so schedules, retries and WAN latency run fast and deterministically.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """A source of the current UTC time and monotonic seconds."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds from `time.monotonic`."""
        return time.monotonic()


@dataclass(order=True)
class _Timer:
    due: datetime
    seq: int
    action: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)


class SimulatedClock:
    """A clock that advances only when `advance` is called, firing timers that fall due."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)
        self._origin = self._now
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._lock = threading.RLock()

    def now(self) -> datetime:
        """The simulated current time."""
        return self._now

    def monotonic(self) -> float:
        """Simulated seconds since the clock was created."""
        return (self._now - self._origin).total_seconds()

    def call_at(self, due: datetime, action: Callable[[], None]) -> _Timer:
        """Run `action` when the clock is advanced to or past `due`."""
        with self._lock:
            timer = _Timer(due, next(self._seq), action)
            heapq.heappush(self._timers, timer)
            return timer

    def call_later(self, seconds: float, action: Callable[[], None]) -> _Timer:
        """Run `action` after `seconds` of simulated time."""
        return self.call_at(self._now + timedelta(seconds=seconds), action)

    def advance(self, seconds: float) -> None:
        """Move time forward, running every timer that falls due, in order."""
        target = self._now + timedelta(seconds=seconds)
        while True:
            with self._lock:
                if not self._timers or self._timers[0].due > target:
                    break
                timer = heapq.heappop(self._timers)
                self._now = max(self._now, timer.due)
            if not timer.cancelled:
                timer.action()
        self._now = target

    def set(self, when: datetime) -> None:
        """Jump to an absolute time (never backwards), firing timers on the way."""
        self.advance(max(0.0, (when - self._now).total_seconds()))
