"""What every emulated device has: identity, trust anchors, counters, logs, alerts, held commands.

Operations are plain methods taking the current time (`now`), so devices are pure state
machines: the WAN/HAN and the clock live elsewhere. Before executing a command from a remote
party the GBCS layer calls `accept(header)`: trust anchor for the role, pluggable signature/MAC
check, originator counter above the highest seen (GBCS §6). Future-dated commands
(GBCS §7.2.10) are held by `schedule` and executed by `run_due` when time reaches them, each
execution raising alert 0x8F66 with its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, ClassVar

from opendcc.devices.errors import (
    DeviceError,
    FutureDateExpired,
    InvalidArgument,
    PendingCommandNotFound,
)
from opendcc.devices.events import (
    CLOCK_ADJUSTED,
    FIRMWARE_VERSION_CHANGED,
    FUTURE_DATED_EXECUTION,
    UNAUTHORISED_ACCESS,
    Alert,
    Event,
    EventLog,
)
from opendcc.devices.firmware import DEFAULT_FIRMWARE, Firmware
from opendcc.devices.results import Outcome, Result, ok
from opendcc.devices.security import (
    ACCEPT_ALL,
    CommandAuthenticator,
    CommandHeader,
    CounterGuard,
    TrustAnchors,
)
from opendcc.ids import EUI64


class DeviceType(Enum):
    """GBCS device types in a premises."""

    ESME = "ESME"
    GSME = "GSME"
    CHF = "CHF"
    GPF = "GPF"
    PPMID = "PPMID"
    IHD = "IHD"
    HCALCS = "HCALCS"
    CAD = "CAD"


NO_ANCHORS = TrustAnchors()


@dataclass(frozen=True, slots=True)
class PendingCommand:
    """A future-dated command a device holds: its reference, use case and execution time."""

    ref: str
    use_case: str
    execute_at: datetime
    action: Callable[[datetime], Result[Any]] = field(repr=False, compare=False)
    #: Whether running it queues the 0x8F66 alert for the WAN; False when the caller sends
    #: its own (the GBCS layer sends one signed alert per instruction).
    alert: bool = field(default=True, compare=False)


@dataclass(frozen=True, slots=True)
class FirmwareVersion:
    """ECS52/GCS38/CS08 read."""

    version: str
    staged_version: str | None


@dataclass(slots=True, eq=False)
class Device:
    """Base of every emulated device; state beyond identity is created only when first needed."""

    kind: ClassVar[DeviceType]

    eui: EUI64
    anchors: TrustAnchors = NO_ANCHORS
    firmware: Firmware = DEFAULT_FIRMWARE
    clock_offset_s: int = 0
    counters: CounterGuard | None = field(default=None, repr=False)
    event_log: EventLog | None = field(default=None, repr=False)
    security_log: EventLog | None = field(default=None, repr=False)
    outbox: list[Alert] | None = field(default=None, repr=False)
    held: list[PendingCommand] | None = field(default=None, repr=False)

    @property
    def id(self) -> str:
        """The device ID as DUIS writes it."""
        return self.eui.hyphenated

    def device_time(self, now: datetime) -> datetime:
        """The device's own clock (ECS70 sets its offset from true time)."""
        return now + timedelta(seconds=self.clock_offset_s) if self.clock_offset_s else now

    # Security ------------------------------------------------------------------------------

    def accept(self, header: CommandHeader, now: datetime,
               authenticator: CommandAuthenticator = ACCEPT_ALL) -> None:
        """GBCS §6: trust anchor for the role, signature/MAC, then counter above the highest seen."""
        try:
            self.anchors.check(header.role, header.originator)
            anchor = self.anchors.get(header.role)
            assert anchor is not None
            authenticator.authenticate(header, anchor)
            guard = self.counters or CounterGuard()
            guard.check(header.originator, header.counter)
        except DeviceError as exc:
            self._security(UNAUTHORISED_ACCESS, now, str(exc))
            raise
        guard.record(header.originator, header.counter)
        self.counters = guard

    # Logs and alerts -----------------------------------------------------------------------

    def log_event(self, code: int, now: datetime, detail: str = "") -> None:
        """Record in the device event log (created on first use)."""
        if self.event_log is None:
            self.event_log = EventLog()
        self.event_log.record(Event(code, self.device_time(now), detail))

    def _security(self, code: int, now: datetime, detail: str) -> None:
        if self.security_log is None:
            self.security_log = EventLog()
        self.security_log.record(Event(code, self.device_time(now), detail))

    def raise_alert(self, code: int | str, now: datetime, detail: str = "") -> Alert:
        """Log an event and queue an alert for the WAN."""
        alert = Alert(code, self.id, self.device_time(now), detail)
        if isinstance(code, int):
            self.log_event(code, now, detail)
        if self.outbox is None:
            self.outbox = []
        self.outbox.append(alert)
        return alert

    def take_alerts(self) -> list[Alert]:
        """Hand queued alerts to the WAN and forget them."""
        out, self.outbox = self.outbox or [], None
        return out

    def read_event_log(self, now: datetime, start: datetime | None = None,
                       end: datetime | None = None) -> Result[list[Event]]:
        """ECS35a/CS10a: the event log, optionally within [start, end]."""
        return ok(self.event_log.entries(start, end) if self.event_log else [], now)

    def read_security_log(self, now: datetime, start: datetime | None = None,
                          end: datetime | None = None) -> Result[list[Event]]:
        """ECS35b/CS10b: the security log."""
        return ok(self.security_log.entries(start, end) if self.security_log else [], now)

    def clear_event_log(self, now: datetime) -> Result[None]:
        """ECS15a/CS11: clear the event log."""
        self.event_log = None
        return ok(None, now)

    # Clock and firmware --------------------------------------------------------------------

    def set_clock(self, device_time: datetime, now: datetime) -> Result[datetime]:
        """ECS70/GCS28: set the device clock; logs 'clock adjusted'."""
        self.clock_offset_s = round((device_time - now).total_seconds())
        self.log_event(CLOCK_ADJUSTED, now)
        return ok(self.device_time(now), now)

    def read_firmware_version(self, now: datetime) -> Result[FirmwareVersion]:
        """ECS52/GCS38/CS08: running and staged firmware versions."""
        return ok(FirmwareVersion(self.firmware.version, self.firmware.staged_version), now)

    def distribute_firmware(self, version: str, image_hash: bytes, now: datetime) -> Result[None]:
        """CS05: stage a firmware image."""
        self.firmware = self.firmware.stage(version, image_hash)
        return ok(None, now)

    def activate_firmware(self, image_hash: bytes, now: datetime) -> Result[FirmwareVersion]:
        """CS06: run the staged image (future-date it with `schedule`)."""
        self.firmware.check_activation(image_hash)
        self.firmware = self.firmware.activated()
        self.log_event(FIRMWARE_VERSION_CHANGED, now, self.firmware.version)
        return ok(FirmwareVersion(self.firmware.version, None), now)

    def issue_security_credentials(self, key_usage: str, now: datetime) -> Result[str]:
        """CS02c: make a new key pair for digital signature ("ds") or key agreement ("ka");
        the GBCS layer answers with its certification request (the device keeps signing with
        its current credentials: taking a certificate for the new key is not modelled)."""
        if key_usage not in ("ds", "ka"):
            raise InvalidArgument(f"key usage {key_usage!r} is neither ds nor ka")
        return ok(key_usage, now)

    # Future-dated commands -----------------------------------------------------------------

    def schedule(self, ref: str, use_case: str, execute_at: datetime,
                 action: Callable[[datetime], Result[Any]], now: datetime, *,
                 alert: bool = True) -> Result[PendingCommand]:
        """GBCS §7.2.10: hold a command until `execute_at`; a past or present date is refused.
        With `alert` False its execution is logged but raises no alert (the caller sends one)."""
        if execute_at <= self.device_time(now):
            raise FutureDateExpired(f"{use_case} execution time {execute_at} is not in the future")
        pending = PendingCommand(ref, use_case, execute_at, action, alert)
        held = list(self.held or [])
        held.append(pending)
        held.sort(key=lambda p: p.execute_at)
        self.held = held
        return Result(Outcome.SCHEDULED, pending, (), now)

    def pending(self) -> list[PendingCommand]:
        """Future-dated commands held, earliest first."""
        return list(self.held or [])

    def next_due(self) -> datetime | None:
        """When the earliest held command falls due."""
        return self.held[0].execute_at if self.held else None

    def cancel(self, ref: str, now: datetime) -> Result[PendingCommand]:
        """Cancel a held command by the reference it was scheduled with."""
        for p in self.held or []:
            if p.ref == ref:
                rest = [q for q in self.held or [] if q is not p]
                self.held = rest or None
                return Result(Outcome.CANCELLED, p, (), now)
        raise PendingCommandNotFound(f"{self.id} holds no command {ref!r}")

    def run_due(self, now: datetime) -> list[Alert]:
        """Execute held commands whose time has come; each raises alert 0x8F66 with its outcome."""
        alerts: list[Alert] = []
        t = self.device_time(now)
        while self.held and self.held[0].execute_at <= t:
            p = self.held.pop(0)
            if not self.held:
                self.held = None
            # Run at the execution time, or now when the device could not run it then (its
            # mains power was off): a meter's accounts never go back in time.
            due = max(p.execute_at - timedelta(seconds=self.clock_offset_s), now)
            try:
                result = p.action(due)
                detail = f"{p.use_case} {p.ref} {result.outcome.value}"
            except DeviceError as exc:
                detail = f"{p.use_case} {p.ref} failed: {exc}"
            if p.alert:
                alerts.append(self.raise_alert(FUTURE_DATED_EXECUTION, now, detail))
            else:
                self.log_event(FUTURE_DATED_EXECUTION, now, detail)
        return alerts
