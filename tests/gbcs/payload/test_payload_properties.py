"""Property tests: generated A-XDR Data and ZCL attribute values survive encode then decode."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from opendcc.gbcs.payload import asn1, axdr
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.tree import Node
from opendcc.gbcs.payload.zcl_types import TYPES, ZclValue, read_typed, write_typed

FIXED = (axdr.DoubleLong, axdr.DoubleLongUnsigned, axdr.Bcd, axdr.Integer, axdr.Long,
         axdr.Unsigned, axdr.LongUnsigned, axdr.Long64, axdr.Long64Unsigned, axdr.Enum)
OCTETS = (axdr.Float32, axdr.Float64, axdr.DateTime, axdr.Date, axdr.Time)


def _fixed(cls: type[axdr._Fixed]) -> st.SearchStrategy[axdr.Data]:
    bits = 8 * cls.SIZE
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if cls.SIGNED else (0, (1 << bits) - 1)
    return st.integers(low, high).map(cls)


@st.composite
def _bit_strings(draw: st.DrawFn) -> axdr.Data:
    bits = draw(st.text("01", max_size=40))
    spare = (8 - len(bits) % 8) % 8
    return axdr.BitString(bits, draw(st.integers(0, (1 << spare) - 1)))


@st.composite
def _compact_arrays(draw: st.DrawFn) -> axdr.Data:
    cls = draw(st.sampled_from(FIXED))
    values = draw(st.lists(_fixed(cls), min_size=1, max_size=6))
    return axdr.CompactArray(axdr.SimpleType(cls.TAG), tuple(values))


def _long_form(value: axdr.Data) -> st.SearchStrategy[axdr.Data]:
    """The same value with its length sent in a longer form than needed (two octets)."""
    return st.just(value) | st.just(dataclasses.replace(value, length_form=2))


LEAVES: st.SearchStrategy[axdr.Data] = st.one_of(
    st.just(axdr.NullData()),
    st.just(axdr.DontCare()),
    st.integers(0, 255).map(axdr.Boolean),
    _bit_strings(),
    st.binary(max_size=300).map(axdr.OctetString).flatmap(_long_form),
    st.text(st.characters(max_codepoint=0xFF), max_size=20).map(axdr.VisibleString),
    st.binary(max_size=20).map(axdr.Utf8String),
    *[_fixed(c) for c in FIXED],
    *[st.binary(min_size=c.SIZE, max_size=c.SIZE).map(c) for c in OCTETS],
    _compact_arrays(),
)

DATA = st.recursive(
    LEAVES,
    lambda children: st.one_of(
        st.lists(children, max_size=5).map(lambda xs: axdr.Array(tuple(xs))),
        st.lists(children, max_size=5).map(lambda xs: axdr.Structure(tuple(xs))).flatmap(
            _long_form),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(DATA)
def test_axdr_data_decodes_to_what_was_encoded(value: axdr.Data) -> None:
    data = axdr.encode_data(value)
    assert axdr.decode_data(data) == value
    assert Node.from_json(value.to_json()) == value


def _zcl_scalar(type_id: int) -> st.SearchStrategy[ZclValue]:
    info = TYPES[type_id]
    if info.form == "int":
        values: st.SearchStrategy[object] = st.integers(0, (1 << (8 * info.size)) - 1)
    elif info.form == "sint":
        half = 1 << (8 * info.size - 1)
        values = st.integers(-half, half - 1)
    elif info.form == "raw":
        values = st.binary(min_size=info.size, max_size=info.size)
    elif info.form == "octets":
        values = st.none() | st.binary(max_size=40)
    else:
        values = st.none() | st.text(st.characters(max_codepoint=0xFF), max_size=40)
    return values.map(lambda v: ZclValue(type_id, v))


SCALAR_TYPES = sorted(t for t, info in TYPES.items() if info.form not in ("array", "struct"))


@st.composite
def _zcl_values(draw: st.DrawFn) -> ZclValue:
    type_id = draw(st.sampled_from([*SCALAR_TYPES, 0x48, 0x4C, 0x50, 0x51]))
    info = TYPES[type_id]
    if info.form == "array":
        element = draw(st.sampled_from([t for t in SCALAR_TYPES if TYPES[t].size]))
        items = draw(st.none() | st.lists(_zcl_scalar(element), max_size=5))
        return ZclValue(type_id, None if items is None else tuple(items), element)
    if info.form == "struct":
        members = draw(st.lists(st.sampled_from(SCALAR_TYPES).flatmap(_zcl_scalar), max_size=5))
        return ZclValue(type_id, tuple(members))
    return draw(_zcl_scalar(type_id))


@settings(max_examples=300, deadline=None)
@given(_zcl_values())
def test_zcl_attribute_value_decodes_to_what_was_encoded(value: ZclValue) -> None:
    out = bytearray()
    write_typed(value, out)
    r = Reader(bytes(out))
    assert read_typed(r) == value
    assert r.at_end()
    assert ZclValue.from_json(value.to_json()) == value


def _asn1_leaves() -> st.SearchStrategy[Node]:
    return st.one_of(
        st.integers(-(2**70), 2**70).map(asn1.Integer),
        st.integers(-1000, 1000).map(asn1.Enumerated),
        st.booleans().map(asn1.Boolean),
        st.just(asn1.Null()),
        st.binary(max_size=200).map(asn1.OctetString),
        st.tuples(st.integers(0, 7), st.binary(min_size=1, max_size=8)).map(
            lambda t: asn1.BitString(t[0], t[1])),
        st.lists(st.integers(0, 2**40), min_size=1, max_size=6).map(
            lambda arcs: asn1.ObjectIdentifier(".".join(map(str, [1, 2, *arcs])))),
        st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20).map(
            asn1.PrintableString),
        st.text(max_size=20).map(asn1.Utf8String),
        st.just(asn1.GeneralizedTime("20150101000000Z")),
        st.tuples(st.sampled_from(["context", "application", "private"]),
                  st.integers(0, 300), st.binary(max_size=10)).map(
            lambda t: asn1.Primitive(t[0], t[1], t[2])),
    )


def _asn1_trees() -> st.SearchStrategy[Node]:
    return st.recursive(
        _asn1_leaves(),
        lambda children: st.one_of(
            st.lists(children, max_size=5).map(lambda xs: asn1.Sequence(tuple(xs))),
            st.lists(children, max_size=3).map(lambda xs: asn1.Set(tuple(xs))),
            st.tuples(st.sampled_from(["context", "application"]), st.integers(0, 40),
                      st.lists(children, max_size=3)).map(
                lambda t: asn1.Tagged(t[0], t[1], tuple(t[2]))),
        ),
        max_leaves=20,
    )


@settings(max_examples=300, deadline=None)
@given(_asn1_trees())
def test_der_values_decode_to_what_was_encoded(value: Node) -> None:
    assert isinstance(value, asn1.Asn1Value)
    data = asn1.encode_value(value)
    assert asn1.decode_asn1(data) == value
    assert Node.from_json(value.to_json()) == value


def test_axdr_lengths_sent_longer_than_needed_come_back_unchanged() -> None:
    for text in ("0981 03 aabbcc", "0182 0001 1100", "0a84 00000001 41", "0281 01 0f05",
                 "0481 0c fff0", "1311 8102 0102"):
        data = bytes.fromhex(text)
        value = axdr.decode_data(data)
        assert axdr.encode_data(value) == data
        assert Node.from_json(value.to_json()) == value
