"""The simulated Smart Metering WAN between the DCC and Communications Hubs, driven by a clock.

Each hub link has a seeded latency distribution (log-normal around a median), a loss rate,
and may be in an outage or without power. `Wan.send` carries a command down, runs it at the
hub when it arrives, and carries the response up; a lost message or response is retried
`retry_after_s` after the failed attempt began, until `max_attempts` or the response deadline,
after which the delivery times out (the DCC maps that to a DUIS response code). A command is
executed at most once: a retried copy reaching the hub gets the response of the first execution.

Hub power failure: the WAN provider raises DCC alert AD1 (Power Outage Event); when power
returns the meter raises 0x8F35, or 0x8F36 after an outage of 3 minutes or more.

All randomness comes from `unit(seed, hub, message, attempt, leg)`, so a run is reproducible
whatever order hubs are used in, and nothing random is stored per hub.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from opendcc.devices.device import Device
from opendcc.devices.errors import DeviceError
from opendcc.devices.events import (
    POWER_OUTAGE_EVENT,
    SUPPLY_OUTAGE_RESTORED,
    SUPPLY_OUTAGE_RESTORED_LONG,
    Alert,
)
from opendcc.devices.load_model import unit, units
from opendcc.devices.scheduler import Scheduler

T = TypeVar("T")

#: GBCS: an outage this long or longer is reported with 0x8F36 rather than 0x8F35.
LONG_OUTAGE = timedelta(minutes=3)


@dataclass(frozen=True, slots=True)
class LinkProfile:
    """Latency (log-normal: median and shape), loss probability per leg."""

    median_latency_s: float = 1.5
    latency_sigma: float = 0.4
    loss: float = 0.0

    def latency(self, u1: float, u2: float) -> float:
        """A latency sample from two uniform numbers (Box-Muller)."""
        if self.latency_sigma <= 0:
            return self.median_latency_s
        z = math.sqrt(-2.0 * math.log(max(u1, 1e-12))) * math.cos(2 * math.pi * u2)
        return self.median_latency_s * math.exp(self.latency_sigma * z)


ZERO_LATENCY = LinkProfile(0.0, 0.0, 0.0)


class DeliveryStatus(Enum):
    """Where a delivery stands."""

    PENDING = "pending"
    DELIVERED = "delivered"
    TIMED_OUT = "timed-out"


class FailureReason(Enum):
    """Why the last attempt failed (reported on a timeout)."""

    LOST = "lost"
    HUB_UNPOWERED = "hub-unpowered"
    WAN_OUTAGE = "wan-outage"
    LATE = "response-after-deadline"


#: DUIS §3.5 code the DCC would answer for a delivery that timed out, by the last failure:
#: E20 "unable to communicate with the device", E21 "no response received from the device".
DUIS_CODE_FOR_TIMEOUT: dict[FailureReason, str] = {
    FailureReason.HUB_UNPOWERED: "E20",
    FailureReason.WAN_OUTAGE: "E20",
    FailureReason.LOST: "E21",
    FailureReason.LATE: "E21",
}


@dataclass(slots=True, eq=False)
class Delivery(Generic[T]):
    """One command's journey: status, response (or device error), attempts, timings."""

    message_id: int
    hub: str
    sent_at: datetime
    deadline: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    response: T | None = None
    error: DeviceError | None = None
    executed_at: datetime | None = None
    completed_at: datetime | None = None
    attempts: int = 0
    last_failure: FailureReason | None = None
    on_done: Callable[[Delivery[T]], None] | None = field(default=None, repr=False)
    _executed: bool = field(default=False, repr=False)
    _deadline_armed: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        """Delivered and executed without a device refusal."""
        return self.status is DeliveryStatus.DELIVERED and self.error is None

    @property
    def duis_response_code(self) -> str | None:
        """For a timed-out delivery, the DUIS code the DCC answers with (core may override)."""
        if self.status is not DeliveryStatus.TIMED_OUT:
            return None
        return DUIS_CODE_FOR_TIMEOUT[self.last_failure or FailureReason.LATE]


@dataclass(frozen=True, slots=True)
class _Job(Generic[T]):
    execute: Callable[[datetime], T]
    retry_after_s: float
    max_attempts: int
    delay_fn: Callable[[datetime], float] | None
    hub_key: int


@dataclass(slots=True)
class _HubState:
    profile: LinkProfile | None = None
    outages: list[tuple[datetime, datetime]] = field(default_factory=list)
    power_lost_at: datetime | None = None


class Wan:
    """The WAN: per-hub links, outages and power, message delivery with retries and deadlines."""

    def __init__(self, clock: Scheduler, seed: int = 0, profile: LinkProfile | None = None,
                 alert_sink: Callable[[Alert], None] | None = None) -> None:
        self.clock = clock
        self.seed = seed
        self.profile = profile or LinkProfile()
        self.alert_sink = alert_sink
        self._hubs: dict[str, _HubState] = {}
        self._next_id = 0

    # Link conditions -----------------------------------------------------------------------

    def _hub(self, hub: str) -> _HubState:
        state = self._hubs.get(hub)
        if state is None:
            state = self._hubs[hub] = _HubState()
        return state

    def set_profile(self, hub: str, profile: LinkProfile) -> None:
        """Give one hub its own latency/loss."""
        self._hub(hub).profile = profile

    def profile_of(self, hub: str) -> LinkProfile:
        """The link profile of `hub`."""
        state = self._hubs.get(hub)
        return state.profile if state and state.profile else self.profile

    def schedule_outage(self, hub: str, start: datetime, end: datetime) -> None:
        """The hub's WAN link is down in [start, end)."""
        self._hub(hub).outages.append((start, end))

    def powered(self, hub: str) -> bool:
        """Whether the hub has power."""
        state = self._hubs.get(hub)
        return state is None or state.power_lost_at is None

    def _blocked(self, hub: str, at: datetime) -> FailureReason | None:
        state = self._hubs.get(hub)
        if state is None:
            return None
        if state.power_lost_at is not None:
            return FailureReason.HUB_UNPOWERED
        if any(s <= at < e for s, e in state.outages):
            return FailureReason.WAN_OUTAGE
        return None

    # Power ---------------------------------------------------------------------------------

    def power_fail(self, hub: str) -> Alert:
        """The hub loses mains power: the WAN provider raises DCC alert AD1 for the network operator."""
        now = self.clock.now()
        state = self._hub(hub)
        if state.power_lost_at is None:
            state.power_lost_at = now
        alert = Alert(POWER_OUTAGE_EVENT, hub, now, "Communications Hub lost power")
        self._carry_up(hub, alert, check_hub=False)
        return alert

    def power_restore(self, hub: str, reporter: Device) -> Alert | None:
        """Power returns: `reporter` (the ESME, ECS80) raises 0x8F35 or, after 3 minutes, 0x8F36."""
        now = self.clock.now()
        state = self._hub(hub)
        if state.power_lost_at is None:
            return None
        lasted = now - state.power_lost_at
        state.power_lost_at = None
        code = SUPPLY_OUTAGE_RESTORED_LONG if lasted >= LONG_OUTAGE else SUPPLY_OUTAGE_RESTORED
        alert = reporter.raise_alert(code, now, f"outage of {int(lasted.total_seconds())} s")
        reporter.take_alerts()
        self._carry_up(hub, alert)
        return alert

    def forward_alerts(self, hub: str, devices: list[Device]) -> list[Alert]:
        """Carry every alert the premises' devices have queued up to the DCC."""
        sent = []
        for d in devices:
            for alert in d.take_alerts():
                if alert.type.to_wan:
                    self._carry_up(hub, alert)
                    sent.append(alert)
        return sent

    def _carry_up(self, hub: str, alert: Alert, check_hub: bool = True) -> None:
        if self.alert_sink is None:
            return
        self._next_id += 1
        profile = self.profile_of(hub)
        key = int(hub.replace("-", ""), 16)
        delay = profile.latency(unit(self.seed, key, self._next_id, 0, 3),
                                unit(self.seed, key, self._next_id, 0, 4))
        sink = self.alert_sink
        self.clock.call_later(delay, lambda: sink(alert))

    # Delivery ------------------------------------------------------------------------------

    def send(self, hub: str, execute: Callable[[datetime], T], *, deadline_s: float = 60.0,
             retry_after_s: float = 10.0, max_attempts: int = 3,
             execution_delay: Callable[[datetime], float] | None = None,
             on_done: Callable[[Delivery[T]], None] | None = None) -> Delivery[T]:
        """Carry a command to `hub`, run `execute(time)` there, and bring the response back."""
        now = self.clock.now()
        self._next_id += 1
        d: Delivery[T] = Delivery(self._next_id, hub, now, now + timedelta(seconds=deadline_s),
                                  on_done=on_done)
        self._attempt(d, _Job(execute, retry_after_s, max_attempts, execution_delay,
                              int(hub.replace("-", ""), 16)))
        return d

    def _arm_deadline(self, d: Delivery[Any]) -> None:
        # Only deliveries that may miss their deadline get a timer: the common case costs none.
        if not d._deadline_armed:
            d._deadline_armed = True
            wait = (d.deadline - self.clock.now()).total_seconds()
            self.clock.call_later(max(0.0, wait), lambda: self._expire(d))

    def _failed(self, d: Delivery[T], job: _Job[T], reason: FailureReason, started: datetime) -> None:
        d.last_failure = reason
        self._arm_deadline(d)
        if d.attempts < job.max_attempts:
            retry_at = started + timedelta(seconds=job.retry_after_s)
            if retry_at < d.deadline:
                wait = max(0.0, (retry_at - self.clock.now()).total_seconds())
                self.clock.call_later(wait, lambda: self._attempt(d, job))

    def _attempt(self, d: Delivery[T], job: _Job[T]) -> None:
        if d.status is not DeliveryStatus.PENDING:
            return
        d.attempts += 1
        started = self.clock.now()
        profile = self.profile_of(d.hub)
        u = units(6, self.seed, job.hub_key, d.message_id, d.attempts)
        down, lost_down = profile.latency(u[0], u[1]), u[2] < profile.loss
        up, lost_up = profile.latency(u[3], u[4]), u[5] < profile.loss

        def arrive() -> None:
            if d.status is not DeliveryStatus.PENDING:
                return
            now = self.clock.now()
            blocked = self._blocked(d.hub, now)
            if blocked is not None or lost_down:
                self._failed(d, job, blocked or FailureReason.LOST, started)
                return
            wait = 0.0 if d._executed or job.delay_fn is None else job.delay_fn(now)
            if now + timedelta(seconds=wait + up) > d.deadline:
                self._arm_deadline(d)
            self.clock.call_later(wait, execute_at_device)

        def execute_at_device() -> None:
            if d.status is not DeliveryStatus.PENDING:
                return
            if not d._executed:
                d._executed = True
                d.executed_at = self.clock.now()
                try:
                    d.response = job.execute(d.executed_at)
                except DeviceError as exc:
                    d.error = exc
            if lost_up or self._blocked(d.hub, self.clock.now()) is not None:
                self._failed(d, job, FailureReason.LOST, started)
                return
            self.clock.call_later(up, respond)

        def respond() -> None:
            if d.status is not DeliveryStatus.PENDING:
                return
            d.status = DeliveryStatus.DELIVERED
            d.completed_at = self.clock.now()
            if d.on_done:
                d.on_done(d)

        blocked_now = self._blocked(d.hub, started)
        if blocked_now is not None:
            self._failed(d, job, blocked_now, started)
        else:
            self.clock.call_later(down, arrive)

    def _expire(self, d: Delivery[Any]) -> None:
        if d.status is DeliveryStatus.PENDING:
            d.status = DeliveryStatus.TIMED_OUT
            d.completed_at = self.clock.now()
            if d.last_failure is None:
                d.last_failure = FailureReason.LATE
            if d.on_done:
                d.on_done(d)
