"""What an operation on an emulated device returns: an outcome, a typed value, raised alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Generic, TypeVar

from opendcc.devices.events import Alert

T = TypeVar("T")


class Outcome(Enum):
    """How a device disposed of a command it accepted."""

    SUCCESS = "success"
    #: GBCS §7.2.10: a future-dated command accepted and held until its execution time.
    SCHEDULED = "scheduled"
    #: A held future-dated command was cancelled.
    CANCELLED = "cancelled"
    #: Accepted with no change because the device was already in the requested state.
    NO_CHANGE = "no-change"


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """An accepted command: its outcome, the value a response would carry, and alerts raised."""

    outcome: Outcome
    value: T
    alerts: tuple[Alert, ...] = ()
    executed_at: datetime | None = None


def ok(value: T, now: datetime, alerts: tuple[Alert, ...] = ()) -> Result[T]:
    """A successful immediate execution."""
    return Result(Outcome.SUCCESS, value, alerts, now)
