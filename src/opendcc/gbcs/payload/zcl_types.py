"""ZigBee Cluster Library attribute data types (ZCL r6, 07-5123, §2.6.2 Table 2-10).

Values are little-endian. `ZclValue` keeps the type id with the value, so any value decodes
and re-encodes to the same bytes: integers as int, strings as text (Latin-1, so every octet
survives), octet strings and floats as their octets, collections as tuples of `ZclValue`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from opendcc.gbcs.payload.errors import BadLength, InvalidTree, Malformed
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.tree import Node

MAX_DEPTH = 16


@dataclass(frozen=True)
class TypeInfo:
    name: str
    form: str  # "int", "sint", "octets", "string", "lstring", "loctets", "raw", "array", ...
    size: int = 0


def _table() -> dict[int, TypeInfo]:
    t: dict[int, TypeInfo] = {0x00: TypeInfo("nodata", "raw", 0), 0xFF: TypeInfo("unk", "raw", 0)}
    for i in range(8):
        t[0x08 + i] = TypeInfo(f"data{8 * (i + 1)}", "int", i + 1)
        t[0x18 + i] = TypeInfo(f"map{8 * (i + 1)}", "int", i + 1)
        t[0x20 + i] = TypeInfo(f"uint{8 * (i + 1)}", "int", i + 1)
        t[0x28 + i] = TypeInfo(f"int{8 * (i + 1)}", "sint", i + 1)
    t.update({
        0x10: TypeInfo("bool", "int", 1),
        0x30: TypeInfo("enum8", "int", 1),
        0x31: TypeInfo("enum16", "int", 2),
        0x38: TypeInfo("semi", "raw", 2),
        0x39: TypeInfo("single", "raw", 4),
        0x3A: TypeInfo("double", "raw", 8),
        0x41: TypeInfo("octstr", "octets", 1),
        0x42: TypeInfo("string", "string", 1),
        0x43: TypeInfo("octstr16", "octets", 2),
        0x44: TypeInfo("string16", "string", 2),
        0x48: TypeInfo("array", "array"),
        0x4C: TypeInfo("struct", "struct"),
        0x50: TypeInfo("set", "array"),
        0x51: TypeInfo("bag", "array"),
        0xE0: TypeInfo("ToD", "raw", 4),
        0xE1: TypeInfo("date", "raw", 4),
        0xE2: TypeInfo("UTC", "int", 4),
        0xE8: TypeInfo("clusterId", "int", 2),
        0xE9: TypeInfo("attribId", "int", 2),
        0xEA: TypeInfo("bacOID", "int", 4),
        0xF0: TypeInfo("EUI64", "int", 8),
        0xF1: TypeInfo("key128", "raw", 16),
    })
    return t


TYPES: dict[int, TypeInfo] = _table()
TYPE_BY_NAME: dict[str, int] = {info.name: tid for tid, info in TYPES.items()}

#: Types whose reports carry a reportable change (ZCL §2.5.7.1.7: "analog" data types).
ANALOG_TYPES = frozenset([*range(0x20, 0x30), 0x38, 0x39, 0x3A, 0xE0, 0xE1, 0xE2])


@dataclass(frozen=True)
class ZclValue(Node):
    """A typed ZCL attribute value; `value` is None for a string marked invalid (length 0xFF..)."""

    TYPE = "zcl-value"
    data_type: int
    value: Any
    element_type: int | None = None  # arrays, sets and bags: the type of every element

    def to_json(self) -> dict[str, Any]:
        info = TYPES[self.data_type]
        out: dict[str, Any] = {"@type": self.TYPE, "data_type": info.name}
        if info.form in ("array", "struct"):
            if self.element_type is not None:
                out["element_type"] = TYPES[self.element_type].name
            out["value"] = None if self.value is None else [v.to_json() for v in self.value]
        elif isinstance(self.value, bytes):
            out["value"] = self.value.hex()
        else:
            out["value"] = self.value
        return out

    @classmethod
    def _from_fields(cls, obj: dict[str, Any]) -> ZclValue:
        unknown = sorted(set(obj) - {"@type", "#", "data_type", "value", "element_type"})
        if unknown:
            raise InvalidTree(cls.TYPE, f"unknown field(s) {', '.join(unknown)}")
        type_id = _type_id(obj.get("data_type"))
        info = TYPES[type_id]
        raw = obj.get("value")
        element = obj.get("element_type")
        element_id = None if element is None else _type_id(element)
        value: Any = raw
        if raw is None:
            value = None
        elif info.form in ("array", "struct"):
            if not isinstance(raw, list):
                raise InvalidTree(info.name, "value must be a list")
            value = tuple(ZclValue.from_json(v) for v in raw)
        elif info.form in ("octets", "raw"):
            if not isinstance(raw, str):
                raise InvalidTree(info.name, "value must be hex text")
            try:
                value = bytes.fromhex(raw)
            except ValueError as exc:
                raise InvalidTree(info.name, f"bad hex {raw!r:.40}") from exc
        elif info.form == "string":
            if not isinstance(raw, str):
                raise InvalidTree(info.name, "value must be text")
        elif isinstance(raw, bool) or not isinstance(raw, int):
            raise InvalidTree(info.name, "value must be an integer")
        return ZclValue(type_id, value, element_id)


def _type_id(name: Any) -> int:
    if isinstance(name, int) and not isinstance(name, bool) and name in TYPES:
        return name
    if isinstance(name, str) and name in TYPE_BY_NAME:
        return TYPE_BY_NAME[name]
    raise InvalidTree("data_type", f"unknown ZCL data type {name!r}")


def read_type_id(r: Reader) -> int:
    start = r.pos
    type_id = r.u8("data type")
    if type_id not in TYPES:
        raise Malformed("data type", start, f"unknown ZCL data type 0x{type_id:02X}")
    return type_id


def read_value(r: Reader, type_id: int, depth: int = 0) -> ZclValue:
    """ZCL §2.6.2: the value of one attribute of the given type (no type octet)."""
    if depth > MAX_DEPTH:
        raise Malformed("attribute value", r.pos, f"nested deeper than {MAX_DEPTH}")
    info = TYPES[type_id]
    form = info.form
    if form == "int":
        return ZclValue(type_id, r.uint_le(info.size, info.name))
    if form == "sint":
        return ZclValue(type_id, int.from_bytes(r.take(info.size, info.name), "little", signed=True))
    if form == "raw":
        return ZclValue(type_id, r.take(info.size, info.name))
    if form in ("octets", "string"):
        n = r.uint_le(info.size, f"{info.name} length")
        if n == (1 << (8 * info.size)) - 1:
            return ZclValue(type_id, None)  # the invalid-value marker: no octets follow
        octets = r.take(n, info.name)
        return ZclValue(type_id, octets if form == "octets" else octets.decode("latin-1"))
    if form == "array":
        element = read_type_id(r)
        count = r.uint_le(2, f"{info.name} count")
        if count == 0xFFFF:
            return ZclValue(type_id, None, element)
        size = TYPES[element].size if TYPES[element].form in ("int", "sint", "raw") else 1
        if size == 0 or count * size > r.remaining:
            raise BadLength(info.name, r.pos, f"{count} elements cannot fit in {r.remaining} bytes")
        return ZclValue(type_id, tuple(read_value(r, element, depth + 1) for _ in range(count)),
                        element)
    # structure: count, then (type, value) per member
    count = r.uint_le(2, "struct count")
    if count == 0xFFFF:
        return ZclValue(type_id, None)
    if count > r.remaining:
        raise BadLength("struct", r.pos, f"{count} members cannot fit in {r.remaining} bytes")
    members = []
    for _ in range(count):
        member_type = read_type_id(r)
        members.append(read_value(r, member_type, depth + 1))
    return ZclValue(type_id, tuple(members))


def write_value(v: ZclValue, out: bytearray) -> None:
    """ZCL §2.6.2: the value of one attribute (no type octet)."""
    info = TYPES.get(v.data_type)
    if info is None:
        raise InvalidTree("data_type", f"unknown ZCL data type {v.data_type!r}")
    form = info.form
    try:
        if form in ("int", "sint"):
            out += int(v.value).to_bytes(info.size, "little", signed=form == "sint")
        elif form == "raw":
            if not isinstance(v.value, bytes) or len(v.value) != info.size:
                raise InvalidTree(info.name, f"needs {info.size} octets")
            out += v.value
        elif form in ("octets", "string"):
            if v.value is None:
                out += ((1 << (8 * info.size)) - 1).to_bytes(info.size, "little")
                return
            octets = v.value if form == "octets" else str(v.value).encode("latin-1")
            out += len(octets).to_bytes(info.size, "little")
            out += octets
        elif form == "array":
            if v.element_type is None:
                raise InvalidTree(info.name, "element_type missing")
            out.append(v.element_type)
            if v.value is None:
                out += b"\xff\xff"
                return
            out += len(v.value).to_bytes(2, "little")
            for e in v.value:
                if e.data_type != v.element_type:
                    raise InvalidTree(info.name, "element of another type than element_type")
                write_value(e, out)
        else:
            if v.value is None:
                out += b"\xff\xff"
                return
            out += len(v.value).to_bytes(2, "little")
            for e in v.value:
                out.append(e.data_type)
                write_value(e, out)
    except InvalidTree:
        raise
    except (OverflowError, UnicodeEncodeError, TypeError, ValueError) as exc:
        raise InvalidTree(info.name, f"value {v.value!r:.40} does not fit: {exc}") from exc


def read_typed(r: Reader) -> ZclValue:
    """A type octet followed by a value of that type."""
    return read_value(r, read_type_id(r))


def write_typed(v: ZclValue, out: bytearray) -> None:
    out.append(v.data_type)
    write_value(v, out)
