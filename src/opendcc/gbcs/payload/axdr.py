"""A-XDR encoding of the COSEM `Data` CHOICE (DLMS UA 1000-2 "Green Book" §9.5, Blue Book §4.1.5).

Decoding keeps everything needed to give back the same bytes: fixed-size values keep their
width through their type, lengths are accepted only in their shortest form.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ClassVar

from opendcc.gbcs.payload.errors import BadLength, InvalidTree, Malformed
from opendcc.gbcs.payload.names import cosem_date_time_text
from opendcc.gbcs.payload.reader import Reader, ber_length_bytes
from opendcc.gbcs.payload.tree import Node

MAX_DEPTH = 32  # nesting deeper than this is refused rather than recursed into


@dataclass(frozen=True)
class Data(Node):
    """A-XDR Data: one CHOICE alternative, tagged by its type byte."""

    TAG: ClassVar[int] = -1
    # Length-prefixed values: 0 when the length was in its shortest form, else the number of
    # length octets sent after 0x80+n (a longer form than needed), kept for the same bytes.
    length_form: int = field(default=0, kw_only=True)

    def write_value(self, out: bytearray) -> None:
        """The value without its tag (as in compact-array contents)."""
        raise NotImplementedError


@dataclass(frozen=True)
class NullData(Data):
    TYPE = "null-data"
    TAG = 0

    def write_value(self, out: bytearray) -> None:
        pass


@dataclass(frozen=True)
class DontCare(Data):
    TYPE = "dont-care"
    TAG = 255

    def write_value(self, out: bytearray) -> None:
        pass


@dataclass(frozen=True)
class _Elements(Data):
    """What ARRAY and STRUCTURE share on the wire: an element count, then each element."""

    elements: tuple[Data, ...] = ()

    def write_value(self, out: bytearray) -> None:
        out += ber_length_bytes(len(self.elements), self.length_form)
        for e in self.elements:
            write_data(e, out)


@dataclass(frozen=True)
class Array(_Elements):
    TYPE = "array"
    TAG = 1


@dataclass(frozen=True)
class Structure(_Elements):
    TYPE = "structure"
    TAG = 2


@dataclass(frozen=True)
class Boolean(Data):
    """BOOLEAN: `value` is the octet as sent (0 is FALSE, anything else TRUE)."""

    TYPE = "boolean"
    TAG = 3
    value: int

    def write_value(self, out: bytearray) -> None:
        if not 0 <= self.value <= 0xFF:
            raise InvalidTree("boolean", f"octet {self.value} out of range")
        out.append(self.value)


@dataclass(frozen=True)
class BitString(Data):
    """BIT STRING: `bits` as '0'/'1' text, first bit = most significant bit of the first octet."""

    TYPE = "bit-string"
    TAG = 4
    bits: str
    padding: int = 0  # value of the unused low bits of the last octet, kept for exactness

    def write_value(self, out: bytearray) -> None:
        n = len(self.bits)
        if n and set(self.bits) - {"0", "1"}:
            raise InvalidTree("bit-string", "bits must be '0' or '1'")
        out += ber_length_bytes(n, self.length_form)
        nbytes = (n + 7) // 8
        spare = nbytes * 8 - n
        if not 0 <= self.padding < (1 << spare):
            raise InvalidTree("bit-string", f"padding {self.padding} does not fit {spare} unused bits")
        value = ((int(self.bits, 2) if n else 0) << spare) | self.padding
        out += value.to_bytes(nbytes, "big")


@dataclass(frozen=True)
class OctetString(Data):
    TYPE = "octet-string"
    TAG = 9
    value: bytes

    def notes(self) -> dict[str, str]:
        text = cosem_date_time_text(self.value)
        return {"date_time": text} if text else {}

    def write_value(self, out: bytearray) -> None:
        out += ber_length_bytes(len(self.value), self.length_form)
        out += self.value


@dataclass(frozen=True)
class VisibleString(Data):
    """visible-string: octets shown as Latin-1 text so that any octet survives the round trip."""

    TYPE = "visible-string"
    TAG = 10
    value: str

    def write_value(self, out: bytearray) -> None:
        try:
            raw = self.value.encode("latin-1")
        except UnicodeEncodeError as exc:
            raise InvalidTree("visible-string", "holds a character above U+00FF") from exc
        out += ber_length_bytes(len(raw), self.length_form)
        out += raw


@dataclass(frozen=True)
class Utf8String(Data):
    TYPE = "utf8-string"
    TAG = 12
    value: bytes

    def write_value(self, out: bytearray) -> None:
        out += ber_length_bytes(len(self.value), self.length_form)
        out += self.value


@dataclass(frozen=True)
class _Fixed(Data):
    """An integer of fixed width (big-endian two's complement when signed)."""

    SIZE: ClassVar[int] = 1
    SIGNED: ClassVar[bool] = False
    value: int

    def write_value(self, out: bytearray) -> None:
        try:
            out += self.value.to_bytes(self.SIZE, "big", signed=self.SIGNED)
        except OverflowError as exc:
            raise InvalidTree(self.TYPE, f"value {self.value} out of range") from exc


@dataclass(frozen=True)
class DoubleLong(_Fixed):
    TYPE = "double-long"
    TAG, SIZE, SIGNED = 5, 4, True


@dataclass(frozen=True)
class DoubleLongUnsigned(_Fixed):
    TYPE = "double-long-unsigned"
    TAG, SIZE = 6, 4


@dataclass(frozen=True)
class Bcd(_Fixed):
    TYPE = "bcd"
    TAG = 13


@dataclass(frozen=True)
class Integer(_Fixed):
    TYPE = "integer"
    TAG, SIGNED = 15, True


@dataclass(frozen=True)
class Long(_Fixed):
    TYPE = "long"
    TAG, SIZE, SIGNED = 16, 2, True


@dataclass(frozen=True)
class Unsigned(_Fixed):
    TYPE = "unsigned"
    TAG = 17


@dataclass(frozen=True)
class LongUnsigned(_Fixed):
    TYPE = "long-unsigned"
    TAG, SIZE = 18, 2


@dataclass(frozen=True)
class Long64(_Fixed):
    TYPE = "long64"
    TAG, SIZE, SIGNED = 20, 8, True


@dataclass(frozen=True)
class Long64Unsigned(_Fixed):
    TYPE = "long64-unsigned"
    TAG, SIZE = 21, 8


@dataclass(frozen=True)
class Enum(_Fixed):
    TYPE = "enum"
    TAG = 22


@dataclass(frozen=True)
class _Octets(Data):
    """A fixed-size value kept as its octets (floats keep NaN payloads; dates keep wildcards)."""

    SIZE: ClassVar[int] = 0
    octets: bytes

    def write_value(self, out: bytearray) -> None:
        if len(self.octets) != self.SIZE:
            raise InvalidTree(self.TYPE, f"needs {self.SIZE} octets, got {len(self.octets)}")
        out += self.octets


@dataclass(frozen=True)
class Float32(_Octets):
    TYPE = "float32"
    TAG, SIZE = 23, 4

    @property
    def value(self) -> float:
        return float(struct.unpack(">f", self.octets)[0])


@dataclass(frozen=True)
class Float64(_Octets):
    TYPE = "float64"
    TAG, SIZE = 24, 8

    @property
    def value(self) -> float:
        return float(struct.unpack(">d", self.octets)[0])


@dataclass(frozen=True)
class DateTime(_Octets):
    """date-time: year(2) month day weekday hour minute second hundredths deviation(2) status."""

    TYPE = "date-time"
    TAG, SIZE = 25, 12


@dataclass(frozen=True)
class Date(_Octets):
    TYPE = "date"
    TAG, SIZE = 26, 5


@dataclass(frozen=True)
class Time(_Octets):
    TYPE = "time"
    TAG, SIZE = 27, 4


# --- compact-array (Blue Book §4.1.5: Data ::= compact-array [19]) --------------------------


@dataclass(frozen=True)
class TypeDescription(Node):
    """The type of every element of a compact-array."""


@dataclass(frozen=True)
class SimpleType(TypeDescription):
    TYPE = "simple-type"
    type_tag: int


@dataclass(frozen=True)
class ArrayType(TypeDescription):
    TYPE = "array-type"
    number_of_elements: int
    type_description: TypeDescription


@dataclass(frozen=True)
class StructureType(TypeDescription):
    TYPE = "structure-type"
    elements: tuple[TypeDescription, ...]


@dataclass(frozen=True)
class CompactArray(Data):
    """compact-array: one type description, then the elements' values without tags."""

    TYPE = "compact-array"
    TAG = 19
    contents_description: TypeDescription
    contents: tuple[Data, ...]

    def write_value(self, out: bytearray) -> None:
        _write_type_description(self.contents_description, out)
        body = bytearray()
        for e in self.contents:
            _write_described(e, self.contents_description, body)
        out += ber_length_bytes(len(body), self.length_form)
        out += body


# --- decoding ------------------------------------------------------------------------------


def _read_bits(r: Reader) -> BitString:
    n, form = r.ber_length_form("bit-string length")
    nbytes = (n + 7) // 8
    raw = int.from_bytes(r.take(nbytes, "bit-string"), "big")
    spare = nbytes * 8 - n
    bits = format(raw >> spare, f"0{n}b") if n else ""
    return BitString(bits, raw & ((1 << spare) - 1), length_form=form)


def _read_octets(r: Reader, what: str) -> tuple[bytes, int]:
    n, form = r.ber_length_form(f"{what} length")
    return r.take(n, what), form


def _octet_string(r: Reader, depth: int) -> Data:
    value, form = _read_octets(r, "octet-string")
    return OctetString(value, length_form=form)


def _visible_string(r: Reader, depth: int) -> Data:
    value, form = _read_octets(r, "visible-string")
    return VisibleString(value.decode("latin-1"), length_form=form)


def _utf8_string(r: Reader, depth: int) -> Data:
    value, form = _read_octets(r, "utf8-string")
    return Utf8String(value, length_form=form)


def _fixed(cls: type[_Fixed]) -> Callable[[Reader, int], Data]:
    def read(r: Reader, depth: int) -> Data:
        return cls(int.from_bytes(r.take(cls.SIZE, cls.TYPE), "big", signed=cls.SIGNED))

    return read


def _octets(cls: type[_Octets]) -> Callable[[Reader, int], Data]:
    def read(r: Reader, depth: int) -> Data:
        return cls(r.take(cls.SIZE, cls.TYPE))

    return read


def _read_list(r: Reader, depth: int) -> tuple[tuple[Data, ...], int]:
    count, form = r.ber_length_form("number of elements")
    if count > r.remaining:  # every element takes at least its tag octet
        raise BadLength("number of elements", r.pos,
                        f"{count} elements cannot fit in {r.remaining} bytes")
    return tuple(read_data(r, depth + 1) for _ in range(count)), form


def _array(r: Reader, depth: int) -> Data:
    elements, form = _read_list(r, depth)
    return Array(elements, length_form=form)


def _structure(r: Reader, depth: int) -> Data:
    elements, form = _read_list(r, depth)
    return Structure(elements, length_form=form)


def _read_compact(r: Reader, depth: int) -> Data:
    description = _read_type_description(r, depth)
    length, form = r.ber_length_form("compact-array contents length")
    body = r.sub(length, "compact-array contents")
    contents: list[Data] = []
    while not body.at_end():
        start = body.pos
        contents.append(_read_described(body, description, depth))
        if body.pos == start:
            raise Malformed("compact-array", start, "element of zero size")
    return CompactArray(description, tuple(contents), length_form=form)


_READERS: dict[int, Callable[[Reader, int], Data]] = {
    0: lambda r, d: NullData(),
    255: lambda r, d: DontCare(),
    1: _array,
    2: _structure,
    3: lambda r, d: Boolean(r.u8("boolean")),
    4: lambda r, d: _read_bits(r),
    9: _octet_string,
    10: _visible_string,
    12: _utf8_string,
    19: _read_compact,
    **{c.TAG: _fixed(c) for c in (DoubleLong, DoubleLongUnsigned, Bcd, Integer, Long, Unsigned,
                                   LongUnsigned, Long64, Long64Unsigned, Enum)},
    **{c.TAG: _octets(c) for c in (Float32, Float64, DateTime, Date, Time)},
}


def read_data(r: Reader, depth: int = 0) -> Data:
    """Blue Book §4.1.5: one tagged A-XDR Data value."""
    if depth > MAX_DEPTH:
        raise Malformed("Data", r.pos, f"nested deeper than {MAX_DEPTH}")
    start = r.pos
    tag = r.u8("Data tag")
    reader = _READERS.get(tag)
    if reader is None:
        raise Malformed("Data tag", start, f"unknown A-XDR Data tag {tag}")
    return reader(r, depth)


def write_data(d: Data, out: bytearray) -> None:
    """Blue Book §4.1.5: one tagged A-XDR Data value."""
    out.append(d.TAG)
    d.write_value(out)


def decode_data(data: bytes) -> Data:
    """Exactly one A-XDR Data value filling `data`."""
    r = Reader(data)
    value = read_data(r)
    if not r.at_end():
        raise Malformed("Data", r.pos, f"{r.remaining} bytes after the value")
    return value


def encode_data(d: Data) -> bytes:
    out = bytearray()
    write_data(d, out)
    return bytes(out)


_SIMPLE_TAGS = frozenset(_READERS) - {1, 2, 19}


def _read_type_description(r: Reader, depth: int) -> TypeDescription:
    if depth > MAX_DEPTH:
        raise Malformed("type description", r.pos, f"nested deeper than {MAX_DEPTH}")
    start = r.pos
    tag = r.u8("type description")
    if tag == 1:
        count = r.uint_be(2, "array number-of-elements")
        return ArrayType(count, _read_type_description(r, depth + 1))
    if tag == 2:
        count = r.ber_length("structure size")[0]
        return StructureType(tuple(_read_type_description(r, depth + 1) for _ in range(count)))
    if tag not in _SIMPLE_TAGS:
        raise Malformed("type description", start, f"tag {tag} not allowed")
    return SimpleType(tag)


def _write_type_description(t: TypeDescription, out: bytearray) -> None:
    if isinstance(t, ArrayType):
        out.append(1)
        out += t.number_of_elements.to_bytes(2, "big")
        _write_type_description(t.type_description, out)
    elif isinstance(t, StructureType):
        out.append(2)
        out += ber_length_bytes(len(t.elements))
        for e in t.elements:
            _write_type_description(e, out)
    elif isinstance(t, SimpleType):
        if t.type_tag not in _SIMPLE_TAGS:
            raise InvalidTree("type description", f"tag {t.type_tag} not allowed")
        out.append(t.type_tag)
    else:
        raise InvalidTree("type description", f"unknown {t!r:.40}")


def _read_described(r: Reader, t: TypeDescription, depth: int) -> Data:
    if depth > MAX_DEPTH:
        raise Malformed("compact-array", r.pos, f"nested deeper than {MAX_DEPTH}")
    if isinstance(t, ArrayType):
        size = _min_size(t.type_description)
        if size == 0 or t.number_of_elements * size > r.remaining:
            raise BadLength(
                "compact-array", r.pos,
                f"{t.number_of_elements} elements cannot fit in {r.remaining} bytes",
            )
        return Array(tuple(_read_described(r, t.type_description, depth + 1)
                           for _ in range(t.number_of_elements)))
    if isinstance(t, StructureType):
        return Structure(tuple(_read_described(r, e, depth + 1) for e in t.elements))
    assert isinstance(t, SimpleType)
    return _READERS[t.type_tag](r, depth)


_FIXED_SIZES = {c.TAG: c.SIZE for c in (DoubleLong, DoubleLongUnsigned, Bcd, Integer, Long,
                                        Unsigned, LongUnsigned, Long64, Long64Unsigned, Enum,
                                        Float32, Float64, DateTime, Date, Time)}
_FIXED_SIZES.update({0: 0, 255: 0, 3: 1})


def _min_size(t: TypeDescription) -> int:
    """The fewest octets one value of this description can take (bounds the element count)."""
    if isinstance(t, ArrayType):
        return t.number_of_elements * _min_size(t.type_description)
    if isinstance(t, StructureType):
        return sum(_min_size(e) for e in t.elements)
    assert isinstance(t, SimpleType)
    return _FIXED_SIZES.get(t.type_tag, 1)


def _write_described(d: Data, t: TypeDescription, out: bytearray) -> None:
    if isinstance(t, ArrayType):
        if not isinstance(d, Array) or len(d.elements) != t.number_of_elements:
            raise InvalidTree("compact-array", "element does not match its array type description")
        for e in d.elements:
            _write_described(e, t.type_description, out)
    elif isinstance(t, StructureType):
        if not isinstance(d, Structure) or len(d.elements) != len(t.elements):
            raise InvalidTree("compact-array", "element does not match its structure description")
        for e, et in zip(d.elements, t.elements, strict=True):
            _write_described(e, et, out)
    elif isinstance(t, SimpleType):
        if t.type_tag != d.TAG:
            raise InvalidTree("compact-array", f"element {d.TYPE} where tag {t.type_tag} is described")
        d.write_value(out)
    else:
        raise InvalidTree("type description", f"unknown {t!r:.40}")
