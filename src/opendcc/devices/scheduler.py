"""Clocks the WAN and estate can run on: simulated time, or wall-clock time on an asyncio loop.

The devices themselves never read a clock; the WAN, HAN and held future-dated commands need
one that can also run an action later (`Scheduler`). Tests and simulations use
`opendcc.clock.SimulatedClock`; a live server uses `LoopScheduler` on its event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol


class Scheduler(Protocol):
    """A clock that can run actions later (`opendcc.clock.SimulatedClock` is one)."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def call_later(self, seconds: float, action: Callable[[], None]) -> Any:
        """Run `action` after `seconds`."""
        ...


class LoopScheduler:
    """Wall-clock time; actions run on an asyncio event loop (thread-safe to schedule)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def now(self) -> datetime:
        """The wall clock."""
        return datetime.now(UTC)

    def call_later(self, seconds: float, action: Callable[[], None]) -> Any:
        """Run `action` on the loop after `seconds` (from any thread)."""
        return self.loop.call_soon_threadsafe(self.loop.call_later, max(0.0, seconds), action)
