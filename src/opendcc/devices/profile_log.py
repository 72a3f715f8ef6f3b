"""Profile logs materialised on demand from a register function (nothing per half-hour stored).

GBCS ECS22b/GCS17 read the half-hour profile (13 months kept), ECS21a/GCS16a the daily read
log (731 days: the register at each midnight UTC) and ECS66/GCS61 the daily consumption log.
Each entry is a difference or a sample of the register, so profile and registers always agree.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from opendcc.devices.errors import InvalidArgument
from opendcc.devices.load_model import HALF_HOUR, half_hour_start

#: SMETS2 retention: half-hour profile 13 months, daily read log 731 days.
HALF_HOUR_RETENTION = timedelta(days=396)
DAILY_RETENTION = timedelta(days=731)
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    """One half-hour (or day) of a log: when it starts and its value in Wh."""

    start: datetime
    wh: int


def _check_span(start: datetime, end: datetime, now: datetime, retention: timedelta) -> None:
    if end <= start:
        raise InvalidArgument(f"log read needs start < end, got {start} .. {end}")
    if end > now:
        raise InvalidArgument(f"log read ends {end}, after the device time {now}")
    if start < now - retention:
        raise InvalidArgument(f"log read starts {start}, before the {retention.days}-day log")


def half_hour_profile(register: Callable[[datetime], int], start: datetime, end: datetime,
                      now: datetime) -> list[ProfileEntry]:
    """ECS22b: completed half-hours from the one containing `start` to those ending by `end`."""
    _check_span(start, end, now, HALF_HOUR_RETENTION)
    t = half_hour_start(start)
    prev = register(t)
    out = []
    while t + HALF_HOUR <= end:
        nxt = t + HALF_HOUR
        cur = register(nxt)
        out.append(ProfileEntry(t, cur - prev))
        t, prev = nxt, cur
    return out


def _midnight(at: datetime) -> datetime:
    return at.replace(hour=0, minute=0, second=0, microsecond=0)


def daily_read_log(register: Callable[[datetime], int], start: datetime, end: datetime,
                   now: datetime) -> list[ProfileEntry]:
    """ECS21a: the register at each midnight in [start, end]."""
    _check_span(start, end, now, DAILY_RETENTION)
    t = _midnight(start)
    if t < start:
        t += _DAY
    out = []
    while t <= end:
        out.append(ProfileEntry(t, register(t)))
        t += _DAY
    return out


def daily_consumption_log(register: Callable[[datetime], int], start: datetime, end: datetime,
                          now: datetime) -> list[ProfileEntry]:
    """ECS66: consumption of each whole day (midnight to midnight) in [start, end]."""
    reads = daily_read_log(register, _midnight(start), end, now)
    return [ProfileEntry(a.start, b.wh - a.wh) for a, b in itertools.pairwise(reads)]
