"""Time for the DCC's device side: one thread that runs timed actions in order.

The WAN, the HAN and held future-dated commands run on a `Scheduler` (a clock that can run an
action later). Tests use `opendcc.clock.SimulatedClock`; `opendcc serve` runs on the wall
clock, where `TimerThread` plays that part. Every action runs on the one thread, so the
emulated devices are never touched by two threads at once.

`DccSchedules` holds DCC-scheduled Service Requests (DUIS 5.4 §3.2: SRVs such as scheduled
profile reads that the DCC itself sends at the times a schedule names, created by SRV 5.1 and
removed by 5.3) in memory and fires them on the scheduler; `core.dcc_schedules` keeps them in
the store instead, so they outlive a restart (what `opendcc serve` uses). A `CreateSchedule` names the scheduled SRV
(e.g. 4.6.1) and carries the DSP form of its body (`DSPRetrieveImportDailyReadLog` with date
offsets); `on_demand_body` turns that into the body of each run (`RetrieveImportDailyReadLog`
with a `ReadLogPeriod` relative to the run's date). Each answer reaches the user as a
`ResponseMessage/DSPScheduledMessage` (GBCSPayload and DSPScheduleID).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any, Protocol

from lxml import etree

from opendcc.duis.request import SR

_log = logging.getLogger(__name__)


class Scheduler(Protocol):
    """A `Clock` that can also run an action later (`SimulatedClock`, `TimerThread`)."""

    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin."""
        ...

    def call_later(self, seconds: float, action: Callable[[], None]) -> Any:
        """Run `action` after `seconds`."""
        ...


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)


class TimerThread:
    """Wall-clock `Scheduler`: a daemon thread runs due actions one after another."""

    def __init__(self, name: str = "opendcc-devices") -> None:
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def now(self) -> datetime:
        """The wall clock."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin (for `Clock` users)."""
        return _monotonic()

    def call_later(self, seconds: float, action: Callable[[], None]) -> _Timer:
        """Run `action` on the scheduler's thread after `seconds` (from any thread)."""
        timer = _Timer(_monotonic() + max(0.0, seconds), next(self._seq), action)
        with self._wake:
            heapq.heappush(self._timers, timer)
            self._wake.notify()
        return timer

    def stop(self) -> None:
        """Stop the thread; pending actions are dropped."""
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (
                        not self._timers or self._timers[0].due > _monotonic()):
                    wait = None if not self._timers else self._timers[0].due - _monotonic()
                    self._wake.wait(wait)
                if self._stopped:
                    return
                timer = heapq.heappop(self._timers)
            try:
                timer.action()
            except Exception:  # one failing action must not stop the device side
                _log.exception("scheduled action failed")


def _monotonic() -> float:
    return monotonic()


@dataclass(frozen=True, slots=True)
class DccSchedule:
    """One DCC-scheduled SRV: run `fire` every `period` from `first`, until cancelled or
    `until` (exclusive); `details` is what the owner asked for (read back by SRV 5.2)."""

    schedule_id: int
    owner: str
    first: datetime
    period: timedelta
    fire: Callable[[datetime], None]
    until: datetime | None = None
    details: Any = None


class DccSchedules:
    """DUIS 5.4 §3.2 DCC-scheduled Service Requests: created, fired on time, removed."""

    def __init__(self, clock: Scheduler) -> None:
        self.clock = clock
        self._schedules: dict[int, DccSchedule] = {}
        self._ids = itertools.count(1)

    def create(self, owner: str, first: datetime, period: timedelta,
               fire: Callable[[datetime], None], *, until: datetime | None = None,
               details: Any = None) -> DccSchedule:
        """Hold a new schedule; its first run is at `first` (or at once if that has passed)."""
        if period <= timedelta(0):
            raise ValueError(f"a DCC schedule needs a positive period, not {period}")
        schedule = DccSchedule(next(self._ids), owner, first, period, fire, until, details)
        self._schedules[schedule.schedule_id] = schedule
        self._arm(schedule, first)
        return schedule

    def delete(self, schedule_id: int) -> bool:
        """Remove a schedule; True if it existed."""
        return self._schedules.pop(schedule_id, None) is not None

    def get(self, schedule_id: int) -> DccSchedule | None:
        """One schedule by its ID."""
        return self._schedules.get(schedule_id)

    def of(self, owner: str) -> list[DccSchedule]:
        """The schedules `owner` holds."""
        return [s for s in self._schedules.values() if s.owner == owner]

    def _arm(self, schedule: DccSchedule, at: datetime) -> None:
        wait = max(0.0, (at - self.clock.now()).total_seconds())
        self.clock.call_later(wait, lambda: self._fire(schedule.schedule_id, at))

    def _fire(self, schedule_id: int, at: datetime) -> None:
        schedule = self._schedules.get(schedule_id)
        if schedule is None:
            return
        if schedule.until is not None and at >= schedule.until:
            del self._schedules[schedule_id]  # past its end date
            return
        schedule.fire(at)
        self._arm(schedule, at + schedule.period)


#: DUIS 5.4 sr:ScheduleFrequency as a period (months and longer as whole days: 30, 91, 182, 365).
FREQUENCIES: dict[str, timedelta] = {
    "Daily": timedelta(days=1),
    "Weekly": timedelta(days=7),
    "Monthly": timedelta(days=30),
    "Quarterly": timedelta(days=91),
    "Half-Yearly": timedelta(days=182),
    "Yearly": timedelta(days=365),
}


def first_run(start: datetime, period: timedelta, now: datetime) -> datetime:
    """The first run of a schedule starting at `start`: `start`, or the first occurrence after
    `now` when the start has passed."""
    if start > now:
        return start
    missed = (now - start) // period + 1
    return start + missed * period


_DSP = "DSP"


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


def _text(parent: etree._Element, name: str) -> str | None:
    value = parent.findtext(_sr(name))
    return value.strip() if value else None


def _time(text: str) -> time:
    clean = text.rstrip("Z").split("+")[0]
    hours, minutes, seconds = clean.split(":")
    return time(int(hours), int(minutes), int(float(seconds)), tzinfo=UTC)


def on_demand_body(dsp: etree._Element, run: datetime) -> etree._Element:
    """DUIS 5.4 §3.2: the on-demand request body a DSP-scheduled body stands for at `run`
    (`DSPX` -> `X`; `ReadLogPeriodOffset` -> `ReadLogPeriod` with dates `run` + offset days)."""
    name = etree.QName(dsp).localname
    body = etree.Element(_sr(name[len(_DSP):] if name.startswith(_DSP) else name),
                         nsmap={"sr": SR})
    if dsp.find(_sr("StartDateOffset")) is None:
        return body
    period = etree.SubElement(body, _sr("ReadLogPeriod"))
    for edge in ("Start", "End"):
        offset = int(_text(dsp, f"{edge}DateOffset") or "0")
        day = run.date() + timedelta(days=offset)
        at = datetime.combine(day, _time(_text(dsp, f"{edge}Time") or "00:00:00"))
        etree.SubElement(period, _sr(f"{edge}DateTime")).text = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


def schedule_start(create: etree._Element) -> datetime:
    """When a `CreateSchedule` starts: its ScheduleStartDate at ScheduleExecutionStartTime
    (00:00 UTC when not given)."""
    start = date.fromisoformat((_text(create, "ScheduleStartDate") or "")[:10])
    at = _text(create, "ScheduleExecutionStartTime")
    return datetime.combine(start, _time(at) if at else time(0, tzinfo=UTC))


def schedule_end(create: etree._Element) -> datetime | None:
    """The end of a `CreateSchedule`: the day after its ScheduleEndDate, if it has one."""
    end = _text(create, "ScheduleEndDate")
    if end is None:
        return None
    return datetime.combine(date.fromisoformat(end[:10]) + timedelta(days=1), time(0, tzinfo=UTC))


def dsp_body(create: etree._Element) -> etree._Element:
    """The DSP form of the scheduled SRV's body inside a `CreateSchedule`."""
    for child in create:
        if isinstance(child.tag, str) and etree.QName(child).localname.startswith(_DSP) \
                and etree.QName(child).localname not in ("DSPScheduledServiceReference",
                                                         "DSPScheduledServiceReferenceVariant"):
            return child
    raise ValueError("CreateSchedule has no DSP body")
