"""Communications Hub Function: the HAN whitelist (CHF Device Log), WAN connectivity and time.

CCS01 adds a device with its install code to the CHF Device Log (at most 16 entries); the
device may then join the HAN, and only joined devices in the log can communicate. CCS02
removes a device, keeping it in the historic log (15 entries, oldest overwritten). CCS03
restores a log from a replaced hub. The CHF also tracks whether it is powered and connected
to the WAN (the simulated WAN drives these) and is the premises' time source.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import ClassVar

from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import InvalidArgument, NotJoined, NotOnWhitelist
from opendcc.devices.events import DEVICE_JOINED, DEVICE_UNJOINED
from opendcc.devices.results import Outcome, Result, ok

DEVICE_LOG_CAPACITY = 16
HISTORIC_LOG_CAPACITY = 15
#: ZigBee install code lengths: 6, 8, 12 or 16 octets, plus the 2-octet CRC when the device
#: (not DUIS, which sends the code alone, 8.11 InstallCode) presents it.
_CODES = (6, 8, 12, 16)
INSTALL_CODE_OCTETS = frozenset(_CODES) | frozenset(n + 2 for n in _CODES)


@dataclass(frozen=True, slots=True)
class HanEntry:
    """One CHF Device Log entry: device, type, install code, and whether it has joined."""

    device: str
    device_type: DeviceType
    install_code: bytes | None = None
    joined: bool = False
    join_until: datetime | None = None


@dataclass(slots=True, eq=False)
class CHF(Device):
    """The Communications Hub Function of a premises."""

    kind: ClassVar[DeviceType] = DeviceType.CHF

    device_log: tuple[HanEntry, ...] = ()
    historic_log: tuple[HanEntry, ...] = ()
    powered: bool = True
    wan_connected: bool = True
    #: Told (device ID, time) when a whitelisted device joins the HAN: stands for the CS14
    #: alert (0x8F12, the CHF Device Log sent when a device's TC link key is established) by
    #: which the DCC hears of a join (`DeviceSide.follow_inventory` records it).
    on_join: Callable[[str, datetime], object] | None = field(default=None, repr=False)
    #: When the CHF was last asked to scan its sub GHz channels (DBCH05).
    channel_scan_at: datetime | None = None

    def entry(self, device: str) -> HanEntry | None:
        """The Device Log entry for `device`, if any."""
        for e in self.device_log:
            if e.device == device:
                return e
        return None

    def check_reachable(self, device: str) -> HanEntry:
        """Raise unless `device` is whitelisted and (except the GPF, part of the hub) joined."""
        e = self.entry(device)
        if e is None:
            raise NotOnWhitelist(f"{device} is not in the CHF Device Log of {self.id}")
        if not e.joined and e.device_type is not DeviceType.GPF:
            raise NotJoined(f"{device} is in the CHF Device Log of {self.id} but has not joined")
        return e

    def add_device_to_device_log(self, device: str, device_type: DeviceType, install_code: bytes,
                                 now: datetime,
                                 join_timeout: timedelta = timedelta(hours=1)) -> Result[HanEntry]:
        """CCS01: whitelist a device; a device already present keeps its entry (GBCS)."""
        existing = self.entry(device)
        if existing is not None:
            return Result(Outcome.NO_CHANGE, existing, (), now)
        if len(self.device_log) >= DEVICE_LOG_CAPACITY:
            raise InvalidArgument(f"CHF Device Log of {self.id} is full ({DEVICE_LOG_CAPACITY})")
        if len(install_code) not in INSTALL_CODE_OCTETS:
            raise InvalidArgument("an install code is 6, 8, 12 or 16 octets, with or without "
                                  "its 2-octet CRC")
        entry = HanEntry(device, device_type, install_code, device_type is DeviceType.GPF,
                         now + join_timeout)
        self.device_log = (*self.device_log, entry)
        return ok(entry, now)

    def join(self, device: str, install_code: bytes, now: datetime) -> Result[HanEntry]:
        """A whitelisted device joins the HAN with its install code within the join window."""
        e = self.entry(device)
        if e is None:
            raise NotOnWhitelist(f"{device} is not in the CHF Device Log of {self.id}")
        if e.joined:
            return Result(Outcome.NO_CHANGE, e, (), now)
        # A code whitelisted without its CRC (CCS01 from DUIS) matches the code the device
        # presents with its CRC.
        if e.install_code is None or install_code[:len(e.install_code)] != e.install_code:
            raise NotJoined(f"{device} offered the wrong install code")
        if e.join_until is not None and now > e.join_until:
            raise NotJoined(f"{device} joining window closed at {e.join_until}")
        joined = replace(e, joined=True, join_until=None)
        self.device_log = tuple(joined if x is e else x for x in self.device_log)
        self.log_event(DEVICE_JOINED, now, device)
        if self.on_join is not None:
            self.on_join(device, now)
        return ok(joined, now)

    def remove_device_from_device_log(self, device: str, now: datetime) -> Result[HanEntry]:
        """CCS02: remove a device, keeping it in the historic log."""
        e = self.entry(device)
        if e is None:
            raise NotOnWhitelist(f"{device} is not in the CHF Device Log of {self.id}")
        self.device_log = tuple(x for x in self.device_log if x is not e)
        if e.device_type is not DeviceType.GPF:
            hist = (*tuple(x for x in self.historic_log if x.device != device), e)
            self.historic_log = hist[-HISTORIC_LOG_CAPACITY:]
        self.log_event(DEVICE_UNJOINED, now, device)
        return ok(e, now)

    def restore_device_log(self, entries: tuple[HanEntry, ...], now: datetime) -> Result[tuple[HanEntry, ...]]:
        """CCS03: take over the Device Log of a replaced hub."""
        if len(entries) > DEVICE_LOG_CAPACITY:
            raise InvalidArgument(f"a CHF Device Log holds at most {DEVICE_LOG_CAPACITY} entries")
        self.device_log = entries
        return ok(entries, now)

    def read_device_log(self, now: datetime) -> Result[tuple[HanEntry, ...]]:
        """CCS07 (and CCS06, which also checks HAN communications)."""
        return ok(self.device_log, now)

    def request_channel_scan(self, now: datetime) -> Result[datetime]:
        """DBCH05: scan the sub GHz channels (the radio is not modelled: the CHF records when it
        was asked, `channel_scan_at`)."""
        self.channel_scan_at = now
        return ok(now, now)

    def read_time(self, now: datetime) -> Result[datetime]:
        """The hub's time, the premises' time source."""
        return ok(self.device_time(now), now)
