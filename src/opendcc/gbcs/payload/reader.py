"""A bounds-checked cursor over payload bytes, shared by the A-XDR, ZCL and DER readers."""

from __future__ import annotations

from opendcc.gbcs.payload.errors import BadLength, InvalidTree, Malformed, Truncated


class Reader:
    """Reads fields from a byte string; every read past the end raises `Truncated`."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data) if end is None else end

    @property
    def remaining(self) -> int:
        return self.end - self.pos

    def at_end(self) -> bool:
        return self.pos >= self.end

    def peek(self, what: str) -> int:
        if self.pos >= self.end:
            raise Truncated(what, self.pos, "the payload ends here")
        return self.data[self.pos]

    def u8(self, what: str) -> int:
        pos = self.pos
        if pos >= self.end:
            raise Truncated(what, pos, "the payload ends here")
        self.pos = pos + 1
        return self.data[pos]

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise Truncated(what, self.pos, f"needs {n} bytes, {self.end - self.pos} left")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def uint_be(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "big")

    def uint_le(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "little")

    def sub(self, n: int, what: str) -> Reader:
        """A reader over the next n bytes; this reader moves past them."""
        if n < 0 or self.pos + n > self.end:
            raise BadLength(
                what, self.pos, f"length {n} exceeds the {self.end - self.pos} bytes left"
            )
        child = Reader(self.data, self.pos, self.pos + n)
        self.pos += n
        return child

    def ber_length_form(self, what: str) -> tuple[int, int]:
        """A BER-style length and its form: 0 when shortest, else the count of length octets
        (kept by A-XDR Data nodes, so that a longer form than needed comes back unchanged)."""
        start = self.pos
        first = self.u8(what)
        if first < 0x80:
            return first, 0
        count = first & 0x7F
        if count == 0 or count > 4:
            raise Malformed(what, start, f"length form 0x{first:02X} not supported")
        length = self.uint_be(count, what)
        shortest = length >= 0x80 and length >> (8 * (count - 1)) != 0
        return length, 0 if shortest else count

    def ber_length(self, what: str) -> tuple[int, int]:
        """A BER-style length (short form, or 0x81..0x84 then big-endian): (length, octets used)."""
        start = self.pos
        first = self.u8(what)
        if first < 0x80:
            return first, 1
        count = first & 0x7F
        if count == 0 or count > 4:
            raise Malformed(what, start, f"length form 0x{first:02X} not supported")
        length = self.uint_be(count, what)
        # Only the shortest form is accepted, so that re-encoding gives back the same bytes.
        if length < 0x80 or length >> (8 * (count - 1)) == 0:
            raise Malformed(what, start, f"length {length} not in its shortest form")
        return length, 1 + count


def ber_length_bytes(length: int, form: int = 0) -> bytes:
    """Encode a BER-style length: in its shortest form, or as 0x80+form then `form` octets."""
    if form:
        if not 1 <= form <= 4 or length >> (8 * form):
            raise InvalidTree("length", f"{length} does not fit length form {form}")
        return bytes([0x80 | form]) + length.to_bytes(form, "big")
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body
