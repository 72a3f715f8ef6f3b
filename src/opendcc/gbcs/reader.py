"""A bounds-checked cursor over an APDU, and the GBCS length encoding (BER definite form).

Every read names its field so that a short or inconsistent input produces a typed error
with the field and the offset, never an IndexError.
"""

from __future__ import annotations

from opendcc.gbcs.errors import BadLength, Malformed, Oversize, Truncated

#: The largest APDU accepted: GBCS lengths use at most two length octets (DLMS/COSEM, 0x82).
MAX_APDU_SIZE = 0xFFFF + 16


class Reader:
    """Reads fields from `data[start:end]`, raising Truncated when a field runs past `end`."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        """Octets left before the end of this reader."""
        return self.end - self.pos

    def byte(self, field: str) -> int:
        """One octet."""
        if self.pos >= self.end:
            raise Truncated(field, self.pos, "input ends before this octet")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def take(self, n: int, field: str) -> bytes:
        """Exactly `n` octets."""
        if n > self.end - self.pos:
            raise Truncated(field, self.pos, f"needs {n} octets, {self.end - self.pos} left")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def expect(self, value: int, field: str) -> None:
        """One octet that must have a fixed value (a tag or a fixed length)."""
        at = self.pos
        b = self.byte(field)
        if b != value:
            err = BadLength if "Length" in field else Malformed
            raise err(field, at, f"expected 0x{value:02X}, found 0x{b:02X}")

    def length(self, field: str) -> int:
        """A BER definite length: one octet below 0x80, else 0x81/0x82 and that many octets."""
        at = self.pos
        first = self.byte(field)
        if first < 0x80:
            return first
        count = first & 0x7F
        if count == 0:
            raise Malformed(field, at, "the indefinite length form 0x80 is not allowed")
        if count > 2:
            raise Oversize(field, at, f"length form 0x{first:02X} is not allowed (at most 2 octets)")
        value = int.from_bytes(self.take(count, field), "big")
        if value < (0x80 if count == 1 else 0x100):
            raise BadLength(field, at, f"length {value} is not minimally encoded")
        return value

    def sized(self, field: str) -> bytes:
        """A length-prefixed octet string."""
        n = self.length(field + " Length")
        return self.take(n, field)


def encode_length(n: int) -> bytes:
    """The BER definite-length form of `n`, minimal, as GBCS uses it."""
    if n < 0x80:
        return bytes((n,))
    if n < 0x100:
        return bytes((0x81, n))
    if n <= 0xFFFF:
        return bytes((0x82, n >> 8, n & 0xFF))
    raise Oversize("Length", 0, f"{n} octets exceed a two-octet length")


def sized(value: bytes) -> bytes:
    """A length-prefixed octet string."""
    return encode_length(len(value)) + value
