"""DER (ITU-T X.690 §10) values as GBCS's ASN.1 payloads carry them (e.g. CS02b).

Why a small TLV reader rather than asn1tools or asn1crypto: the GBCS ASN.1 modules are not
shipped in machine-readable form here, and a schema-driven codec re-encodes from values, which
cannot promise the same bytes back (certificates inside CS02b/CS02d/CS03C must stay byte for
byte or their signatures break). A tag-length-value tree that keeps each universal value's
own octets does promise that, and names every universal type it meets.

Each primitive is shown by its value where the value gives back the same octets in DER
(INTEGER, BOOLEAN, OBJECT IDENTIFIER, strings, times); otherwise it stays `Primitive` octets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import ClassVar

from opendcc.gbcs.payload.errors import GbcsError, InvalidTree, Malformed
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.tree import Node

MAX_DEPTH = 32
CLASSES = ("universal", "application", "context", "private")


@dataclass(frozen=True)
class Asn1Value(Node):
    """One DER tag-length-value."""

    # 0: the length in its shortest form (DER). n > 0: sent as 0x80+n then n octets, which
    # some devices do (e.g. 30 82 00 83); kept so that the same bytes come back.
    length_form: int = field(default=0, kw_only=True)
    # The name GBCS's ASN.1 module gives this value, when the use case is known (gbcs_asn1).
    name: str | None = field(default=None, kw_only=True)

    def notes(self) -> dict[str, str]:
        # GBCS's names are layered on this generic DER module, which therefore imports them
        # only here, when a named value is shown.
        from opendcc.gbcs.payload.gbcs_asn1 import value_notes

        return value_notes(self)

    def identifier(self) -> tuple[int, bool, int]:
        """(class number, constructed, tag number)."""
        raise NotImplementedError

    def content(self) -> bytes:
        raise NotImplementedError


@dataclass(frozen=True)
class _Universal(Asn1Value):
    TAG: ClassVar[int] = -1
    CONSTRUCTED: ClassVar[bool] = False

    def identifier(self) -> tuple[int, bool, int]:
        return (0, self.CONSTRUCTED, self.TAG)


@dataclass(frozen=True)
class Sequence(_Universal):
    TYPE = "SEQUENCE"
    TAG, CONSTRUCTED = 16, True
    elements: tuple[Asn1Value, ...]

    def content(self) -> bytes:
        return b"".join(encode_value(e) for e in self.elements)


@dataclass(frozen=True)
class Set(_Universal):
    TYPE = "SET"
    TAG, CONSTRUCTED = 17, True
    elements: tuple[Asn1Value, ...]

    def content(self) -> bytes:
        return b"".join(encode_value(e) for e in self.elements)


@dataclass(frozen=True)
class Tagged(Asn1Value):
    """A constructed value with an application, context or private tag (e.g. [2] ...)."""

    TYPE = "tagged"
    tag_class: str
    tag_number: int
    elements: tuple[Asn1Value, ...]

    def identifier(self) -> tuple[int, bool, int]:
        return (_class_number(self.tag_class), True, self.tag_number)

    def content(self) -> bytes:
        return b"".join(encode_value(e) for e in self.elements)


@dataclass(frozen=True)
class Primitive(Asn1Value):
    """A primitive value kept as its octets: non-universal tags, or content not in DER form."""

    TYPE = "primitive"
    tag_class: str
    tag_number: int
    octets: bytes
    constructed: bool = False  # a universal constructed type this codec has no class for

    def identifier(self) -> tuple[int, bool, int]:
        return (_class_number(self.tag_class), self.constructed, self.tag_number)

    def content(self) -> bytes:
        return self.octets


@dataclass(frozen=True)
class Boolean(_Universal):
    TYPE = "BOOLEAN"
    TAG = 1
    value: bool

    def content(self) -> bytes:
        return b"\xff" if self.value else b"\x00"


@dataclass(frozen=True)
class Integer(_Universal):
    TYPE = "INTEGER"
    TAG = 2
    value: int

    def content(self) -> bytes:
        return _int_octets(self.value)


@dataclass(frozen=True)
class Enumerated(_Universal):
    TYPE = "ENUMERATED"
    TAG = 10
    value: int

    def content(self) -> bytes:
        return _int_octets(self.value)


@dataclass(frozen=True)
class BitString(_Universal):
    TYPE = "BIT STRING"
    TAG = 3
    unused_bits: int
    octets: bytes

    def content(self) -> bytes:
        if not 0 <= self.unused_bits <= 7 or (self.unused_bits and not self.octets):
            raise InvalidTree(self.TYPE, f"unused bits {self.unused_bits} not allowed")
        return bytes([self.unused_bits]) + self.octets


@dataclass(frozen=True)
class OctetString(_Universal):
    TYPE = "OCTET STRING"
    TAG = 4
    value: bytes

    def content(self) -> bytes:
        return self.value


@dataclass(frozen=True)
class Null(_Universal):
    TYPE = "NULL"
    TAG = 5

    def content(self) -> bytes:
        return b""


@dataclass(frozen=True)
class ObjectIdentifier(_Universal):
    TYPE = "OBJECT IDENTIFIER"
    TAG = 6
    value: str

    def content(self) -> bytes:
        return _oid_octets(self.value)


@dataclass(frozen=True)
class _Text(_Universal):
    value: str

    def content(self) -> bytes:
        try:
            return self.value.encode("utf-8" if self.TAG == 12 else "ascii")
        except UnicodeEncodeError as exc:
            raise InvalidTree(self.TYPE, "characters outside its alphabet") from exc


@dataclass(frozen=True)
class Utf8String(_Text):
    TYPE = "UTF8String"
    TAG = 12


@dataclass(frozen=True)
class PrintableString(_Text):
    TYPE = "PrintableString"
    TAG = 19


@dataclass(frozen=True)
class Ia5String(_Text):
    TYPE = "IA5String"
    TAG = 22


@dataclass(frozen=True)
class UtcTime(_Text):
    TYPE = "UTCTime"
    TAG = 23


@dataclass(frozen=True)
class GeneralizedTime(_Text):
    TYPE = "GeneralizedTime"
    TAG = 24


# --- primitive contents ----------------------------------------------------------------------


def _class_number(name: str) -> int:
    if name not in CLASSES:
        raise InvalidTree("tag_class", f"{name!r} is not one of {', '.join(CLASSES)}")
    return CLASSES.index(name)


def _int_octets(value: int) -> bytes:
    return value.to_bytes(max(1, (value + (value < 0)).bit_length() // 8 + 1), "big", signed=True)


def _oid_octets(text: str) -> bytes:
    try:
        arcs = [int(a) for a in text.split(".")]
    except ValueError as exc:
        raise InvalidTree("OBJECT IDENTIFIER", f"{text!r} is not dotted decimal") from exc
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise InvalidTree("OBJECT IDENTIFIER", f"{text!r} is not a valid object identifier")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


def _oid_text(octets: bytes) -> str:
    arcs: list[int] = []
    value = 0
    for b in octets:
        value = (value << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        raise ValueError("empty")
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


_PRIMITIVES: dict[int, Callable[[bytes], Asn1Value]] = {
    1: lambda c: Boolean(c == b"\xff"),
    2: lambda c: Integer(int.from_bytes(c, "big", signed=True)),
    3: lambda c: BitString(c[0], c[1:]),
    4: OctetString,
    5: lambda c: Null(),
    6: lambda c: ObjectIdentifier(_oid_text(c)),
    10: lambda c: Enumerated(int.from_bytes(c, "big", signed=True)),
    12: lambda c: Utf8String(c.decode("utf-8")),
    19: lambda c: PrintableString(c.decode("ascii")),
    22: lambda c: Ia5String(c.decode("ascii")),
    23: lambda c: UtcTime(c.decode("ascii")),
    24: lambda c: GeneralizedTime(c.decode("ascii")),
}


def _primitive(tag_class: int, tag: int, content: bytes) -> Asn1Value:
    if tag_class == 0 and tag in _PRIMITIVES:
        try:
            value = _PRIMITIVES[tag](content)
            if value.content() == content:  # the value alone gives the same octets back
                return value
        except (ValueError, IndexError, GbcsError):
            pass
    return Primitive(CLASSES[tag_class], tag, content)


# --- TLV ------------------------------------------------------------------------------------


def _read_identifier(r: Reader) -> tuple[int, bool, int]:
    start = r.pos
    first = r.u8("ASN.1 tag")
    number = first & 0x1F
    if number == 0x1F:  # high-tag-number form
        number = 0
        while True:
            b = r.u8("ASN.1 tag number")
            if number == 0 and b == 0x80:
                raise Malformed("ASN.1 tag", start, "tag number not in its shortest form")
            number = (number << 7) | (b & 0x7F)
            if number > 0xFFFFFF:
                raise Malformed("ASN.1 tag", start, "tag number too large")
            if not b & 0x80:
                break
        if number < 0x1F:
            raise Malformed("ASN.1 tag", start, "low tag number in the high-tag-number form")
    return first >> 6, bool(first & 0x20), number


def _read_length(r: Reader) -> tuple[int, int]:
    """The length and its form: 0 when in its shortest form, else the count of length octets."""
    start = r.pos
    first = r.u8("ASN.1 length")
    if first == 0x80:
        raise Malformed("ASN.1 length", start, "indefinite length is not DER")
    if first < 0x80:
        return first, 0
    count = first & 0x7F
    if count > 4:
        raise Malformed("ASN.1 length", start, f"{count}-octet length not supported")
    length = r.uint_be(count, "ASN.1 length")
    shortest = length >= 0x80 and length >> (8 * (count - 1)) != 0
    return length, 0 if shortest else count


def read_value(r: Reader, depth: int = 0) -> Asn1Value:
    """X.690 §8.1: one tag-length-value."""
    if depth > MAX_DEPTH:
        raise Malformed("ASN.1 value", r.pos, f"nested deeper than {MAX_DEPTH}")
    tag_class, constructed, number = _read_identifier(r)
    length, form = _read_length(r)
    value = _read_tlv_content(r.sub(length, "ASN.1 content"), tag_class, constructed, number,
                              depth)
    return replace(value, length_form=form) if form else value


def _read_tlv_content(body: Reader, tag_class: int, constructed: bool, number: int,
                      depth: int) -> Asn1Value:
    if not constructed:
        return _primitive(tag_class, number, body.take(body.remaining, "ASN.1 content"))
    elements: list[Asn1Value] = []
    while not body.at_end():
        elements.append(read_value(body, depth + 1))
    if tag_class == 0 and number == 16:
        return Sequence(tuple(elements))
    if tag_class == 0 and number == 17:
        return Set(tuple(elements))
    if tag_class == 0:
        return Primitive(CLASSES[0], number, b"".join(encode_value(e) for e in elements), True)
    return Tagged(CLASSES[tag_class], number, tuple(elements))


def _identifier_octets(tag_class: int, constructed: bool, number: int) -> bytes:
    lead = (tag_class << 6) | (0x20 if constructed else 0)
    if number < 0x1F:
        return bytes([lead | number])
    chunk = [number & 0x7F]
    number >>= 7
    while number:
        chunk.append(0x80 | (number & 0x7F))
        number >>= 7
    return bytes([lead | 0x1F, *reversed(chunk)])


def encode_value(v: Asn1Value) -> bytes:
    """X.690 §10: one value in DER."""
    tag_class, constructed, number = v.identifier()
    if number < 0:
        raise InvalidTree(v.TYPE, f"tag number {number} is negative")
    content = v.content()
    n = len(content)
    form = v.length_form or (0 if n < 0x80 else (n.bit_length() + 7) // 8)
    if not 0 <= form <= 4 or (form and n >> (8 * form)):
        raise InvalidTree(v.TYPE, f"length {n} does not fit length form {form}")
    length = bytes([0x80 | form]) + n.to_bytes(form, "big") if form else bytes([n])
    return _identifier_octets(tag_class, constructed, number) + length + content


def decode_asn1(data: bytes) -> Asn1Value:
    """One DER value filling `data`."""
    r = Reader(data)
    value = read_value(r)
    if not r.at_end():
        raise Malformed("ASN.1 value", r.pos, f"{r.remaining} bytes after the value")
    return value
