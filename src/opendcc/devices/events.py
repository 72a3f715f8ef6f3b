"""Events, alerts and the device logs that keep them.

GBCS §16.2 lists event and alert codes; each has a name, whether it is sent to the WAN as an
alert, and which remote party it goes to. The table below is the subset the emulated devices
raise today; it is data, extended by adding rows. DCC alerts (raised by the DCC, not a device)
are DUIS codes such as `AD1`, kept in the same table so alert routing has one lookup.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class Recipient(Enum):
    """Which remote party an alert is for (GBCS alert table, 'Alert On Remote Party')."""

    SUPPLIER = "supplier"
    NETWORK_OPERATOR = "network-operator"
    WAN_PROVIDER = "wan-provider"
    ACCESS_CONTROL_BROKER = "access-control-broker"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class AlertType:
    """One row of the alert table: code, name, recipient, whether it goes to the WAN."""

    code: int | str
    name: str
    recipient: Recipient
    to_wan: bool = True


_S, _N, _W = Recipient.SUPPLIER, Recipient.NETWORK_OPERATOR, Recipient.WAN_PROVIDER

#: GBCS §16.2 alert/event codes raised by the emulated devices, and DCC alert codes.
ALERT_TYPES: dict[int | str, AlertType] = {
    t.code: t
    for t in (
        AlertType(0x8F35, "Supply Outage Restored", _N),
        AlertType(0x8F36, "Supply Outage Restored - Outage >= 3 minutes", _N),
        AlertType(0x8F66, "Future-dated execution of instruction", _S),
        AlertType(0x8F34, "Supply Enabled after Load Limit", _S),
        AlertType(0x81AB, "Emergency Credit Activated", _S),
        AlertType(0x81AA, "Emergency Credit Exhausted", _S),
        AlertType(0x8F49, "Device joining succeeded", _S, to_wan=False),
        AlertType(0x8F4B, "Device Unjoining succeeded", _S, to_wan=False),
        AlertType(0x8F48, "Device joining failed", _S, to_wan=False),
        AlertType(0x8F43, "Change in the executing Firmware version", _S, to_wan=False),
        AlertType(0x8145, "Clock adjusted (within tolerance)", _S, to_wan=False),
        AlertType(0x81C5, "UTRN rejected as locked out", _S),
        AlertType(0x8F3E, "Unauthorised communication access attempted", _S),
        # DUIS DCC alert: the Communications Hub lost power (raised by the WAN provider).
        AlertType("AD1", "Power Outage Event", _N),
    )
}

SUPPLY_OUTAGE_RESTORED = 0x8F35
SUPPLY_OUTAGE_RESTORED_LONG = 0x8F36
FUTURE_DATED_EXECUTION = 0x8F66
SUPPLY_ENABLED_AFTER_LOAD_LIMIT = 0x8F34
EMERGENCY_CREDIT_ACTIVATED = 0x81AB
EMERGENCY_CREDIT_EXHAUSTED = 0x81AA
DEVICE_JOINED = 0x8F49
DEVICE_UNJOINED = 0x8F4B
FIRMWARE_VERSION_CHANGED = 0x8F43
CLOCK_ADJUSTED = 0x8145
UTRN_REJECTED = 0x81C5
UNAUTHORISED_ACCESS = 0x8F3E
POWER_OUTAGE_EVENT = "AD1"


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert raised by a device (GBCS code) or by the DCC (DUIS code), for one recipient."""

    code: int | str
    device: str
    at: datetime
    detail: str = ""

    @property
    def type(self) -> AlertType:
        """The alert table row."""
        return ALERT_TYPES[self.code]

    @property
    def recipient(self) -> Recipient:
        """Who the DCC delivers it to."""
        return ALERT_TYPES[self.code].recipient

    @property
    def code_text(self) -> str:
        """The code as DUIS writes it: four hex digits, or the DCC alert code."""
        return self.code if isinstance(self.code, str) else f"{self.code:04X}"


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of a device event or security log (GBCS §16.2)."""

    code: int
    at: datetime
    detail: str = ""


class EventLog:
    """A bounded log, oldest entries overwritten (SMETS2: 100 entries for Event/Security logs)."""

    __slots__ = ("_entries",)

    def __init__(self, capacity: int = 100) -> None:
        self._entries: deque[Event] = deque(maxlen=capacity)

    def record(self, event: Event) -> None:
        """Append, dropping the oldest entry when full."""
        self._entries.append(event)

    def entries(self, start: datetime | None = None, end: datetime | None = None) -> list[Event]:
        """Entries in time order, optionally within [start, end]."""
        return [e for e in self._entries
                if (start is None or e.at >= start) and (end is None or e.at <= end)]

    def clear(self) -> None:
        """ECS15a/CS11: clear the log."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
