"""The 12-octet COSEM date-time carried in the General Signing header (DLMS Blue Book §4.1.6.1).

Every field is kept as sent, including the "not specified" values (0xFF, 0xFFFF, 0x8000),
so that encoding reproduces the octets exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from opendcc.gbcs.errors import BadLength

_LAYOUT = struct.Struct(">HBBBBBBBhB")
NOT_SPECIFIED_DEVIATION = -0x8000


@dataclass(frozen=True, slots=True)
class DateTime:
    """COSEM date-time: year..hundredths, deviation in minutes, clock status."""

    year: int
    month: int
    day: int
    day_of_week: int
    hour: int
    minute: int
    second: int
    hundredths: int
    deviation: int
    clock_status: int

    @classmethod
    def from_bytes(cls, raw: bytes, offset: int = 0) -> DateTime:
        """Decode 12 octets."""
        if len(raw) != 12:
            raise BadLength("Date Time", offset, f"a COSEM date-time has 12 octets, not {len(raw)}")
        return cls(*_LAYOUT.unpack(raw))

    def __bytes__(self) -> bytes:
        return _LAYOUT.pack(self.year, self.month, self.day, self.day_of_week, self.hour,
                            self.minute, self.second, self.hundredths, self.deviation,
                            self.clock_status)

    @classmethod
    def from_datetime(cls, when: datetime) -> DateTime:
        """A fully specified UTC date-time (deviation 0, clock status 0)."""
        t = when.astimezone(UTC)
        return cls(t.year, t.month, t.day, t.isoweekday(), t.hour, t.minute, t.second,
                   t.microsecond // 10000, 0, 0)

    def to_datetime(self) -> datetime | None:
        """The instant, when every field is specified; else None."""
        try:
            base = datetime(self.year, self.month, self.day, self.hour, self.minute,
                            self.second, (self.hundredths if self.hundredths < 100 else 0) * 10000, tzinfo=UTC)
        except (ValueError, OverflowError):
            return None
        if self.deviation != NOT_SPECIFIED_DEVIATION:
            # Blue Book: deviation is minutes from local time to UTC, so UTC = local + deviation.
            base += timedelta(minutes=self.deviation)
        return base

    def isoformat(self) -> str:
        """ISO 8601 text when fully specified, else the raw octets in hex."""
        instant = self.to_datetime()
        return instant.isoformat() if instant is not None else bytes(self).hex().upper()
