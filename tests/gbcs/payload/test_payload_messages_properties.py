"""Property tests: generated xDLMS APDUs, GBZ payloads and Smart Energy cluster commands
decode to exactly what was encoded, and survive their JSON form."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from test_payload_properties import DATA, SCALAR_TYPES, _zcl_scalar, _zcl_values

from opendcc.gbcs.payload import (
    Payload,
    PayloadKind,
    decode_payload,
    dlms,
    encode_payload,
    kind_of,
    zcl,
)
from opendcc.gbcs.payload.gbz import (
    FUTURE_DATED_ALERT,
    METER_INTEGRITY_ISSUE_WARNING,
    CipheredZclPayload,
    FutureDatedAlertPayload,
    GbzAlertComponents,
    GbzAlertContent,
    GbzAlertPayload,
    GbzComponent,
    GbzPayload,
)
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.zcl import DefaultResponse, ReadAttributes, ZclFrame
from opendcc.gbcs.payload.zcl_clusters import (
    _SIZES,
    LAYOUTS,
    ClusterCommand,
    Item,
    Repeat,
    Trailing,
    Variant,
    _Case,
    read_cluster_command,
)
from opendcc.gbcs.payload.zcl_types import ANALOG_TYPES

U8 = st.integers(0, 0xFF)
U32 = st.integers(0, 0xFFFFFFFF)
OBIS = st.tuples(*[U8] * 6).map(lambda t: dlms.obis_text(bytes(t)))
ATTR = st.builds(dlms.CosemAttributeDescriptor, st.integers(0, 0xFFFF), OBIS, U8)
METHOD = st.builds(dlms.CosemMethodDescriptor, st.integers(0, 0xFFFF), OBIS, U8)
SELECTION = st.none() | st.builds(dlms.SelectiveAccessDescriptor, U8, DATA)
DATE_TIME = st.sampled_from([b"", bytes.fromhex("07df0101ff000000008000ff")])

APDUS = st.one_of(
    st.builds(dlms.DataNotification, U32, DATE_TIME, DATA),
    st.builds(dlms.AccessRequest, U32, DATE_TIME,
              st.lists(st.one_of(st.builds(dlms.AccessRequestGet, ATTR),
                                 st.builds(dlms.AccessRequestSet, ATTR),
                                 st.builds(dlms.AccessRequestAction, METHOD)),
                       max_size=4).map(tuple),
              st.lists(DATA, max_size=4).map(tuple)),
    st.builds(dlms.AccessResponse, U32, DATE_TIME, st.none(),
              st.lists(DATA, max_size=4).map(tuple),
              st.lists(st.one_of(st.builds(dlms.AccessResponseGet, U8),
                                 st.builds(dlms.AccessResponseAction, U8)),
                       max_size=4).map(tuple)),
    st.builds(dlms.GetRequestNormal, U8, ATTR, SELECTION),
    st.builds(dlms.GetRequestNext, U8, U32),
    st.builds(dlms.GetResponseNormal, U8, st.one_of(
        st.builds(dlms.GetDataResultData, DATA), st.builds(dlms.GetDataResultAccessResult, U8))),
    st.builds(dlms.GetResponseWithDatablock, U8, U8, U32,
              st.builds(dlms.DataBlockGRawData, st.binary(max_size=300))),
    st.builds(dlms.SetRequestNormal, U8, ATTR, SELECTION, DATA),
    st.builds(dlms.SetResponseNormal, U8, U8),
    st.builds(dlms.ActionRequestNormal, U8, METHOD, st.none() | DATA),
    st.builds(dlms.ActionResponseNormal, U8, st.builds(
        dlms.ActionResponseWithOptionalData, U8,
        st.none() | st.builds(dlms.GetDataResultData, DATA))),
    st.builds(dlms.ExceptionResponse, U8, U8, U8),
)


@settings(max_examples=200, deadline=None)
@given(APDUS)
def test_xdlms_apdus_decode_to_what_was_encoded(apdu: dlms.Apdu) -> None:
    data = encode_payload(apdu)
    assert decode_payload(PayloadKind.DLMS, data) == apdu
    assert Payload.from_json(apdu.to_json()) == apdu


def _field(type_name: str) -> st.SearchStrategy[Any]:
    if type_name in _SIZES:
        size, signed = _SIZES[type_name]
        half = 1 << (8 * size - 1)
        return st.integers(-half, half - 1) if signed else st.integers(0, (1 << (8 * size)) - 1)
    if type_name == "string":
        return st.text(st.characters(max_codepoint=0xFF), max_size=30)
    if type_name == "octstr":
        return st.binary(max_size=30)
    if type_name == "date":
        return st.binary(min_size=4, max_size=4)
    return st.binary(min_size=1, max_size=30)  # "rest": present means at least one octet


@st.composite
def _values(draw: st.DrawFn, items: tuple[Item, ...]) -> tuple[tuple[str, Any], ...]:
    values: dict[str, Any] = {}
    for item in items:
        if isinstance(item, Repeat):
            groups = tuple(draw(st.lists(_values(item.fields), max_size=4)))
            values[item.name] = groups
            if item.count is not None:
                values[item.count] = len(groups)
        elif isinstance(item, Trailing):
            if draw(st.booleans()):
                values[item.name] = draw(_field(item.type))
        elif isinstance(item, Variant):
            case = item.cases.get(values[item.selector])
            values[item.name] = (_Case(draw(_values(case))) if case is not None
                                 else draw(st.binary(max_size=20)))
        else:
            values[item[0]] = draw(_field(item[1]))
    order = [i[0] if isinstance(i, tuple) else i.name for i in items]
    return tuple((name, values[name]) for name in order if name in values)


@st.composite
def _cluster_commands(draw: st.DrawFn) -> tuple[tuple[int, bool, int], ClusterCommand]:
    key = draw(st.sampled_from(sorted(LAYOUTS)))
    layout = LAYOUTS[key]
    return key, ClusterCommand(layout.name, draw(_values(layout.items)))


@settings(max_examples=400, deadline=None)
@given(_cluster_commands())
def test_cluster_commands_decode_to_what_was_encoded(
        generated: tuple[tuple[int, bool, int], ClusterCommand]) -> None:
    (cluster, to_client, command), payload = generated
    out = bytearray()
    payload.write(out)
    assert read_cluster_command(cluster, command, to_client, Reader(bytes(out))) == payload
    assert ClusterCommand.from_json(payload.to_json()) == payload


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_cluster_commands(), U8, st.booleans()), min_size=1, max_size=4))
def test_gbz_payloads_decode_to_what_was_encoded(
        parts: list[tuple[tuple[tuple[int, bool, int], ClusterCommand], int, bool]]) -> None:
    components = []
    for ((cluster, to_client, command), payload), seq, general in parts:
        if general:
            frame = ZclFrame(0x00, seq, 0x00, ReadAttributes((0x0000, 0x0302)))
            if to_client:
                frame = ZclFrame(0x08, seq, 0x0B, DefaultResponse(command, 0x81))
        else:
            frame = ZclFrame(0x09 if to_client else 0x01, seq, command, payload)
        components.append(GbzComponent(0x00, cluster, frame))
    gbz = GbzPayload(tuple(components))
    data = encode_payload(gbz)
    decoded = decode_payload(PayloadKind.ZCL, data)
    assert decoded == gbz
    assert kind_of(decoded) == PayloadKind.ZCL
    assert Payload.from_json(gbz.to_json()) == gbz


ATTR_ID = st.integers(0, 0xFFFF)
STATUS = st.integers(1, 0xFF)
ZCL_VALUES = _zcl_values()


@st.composite
def _reporting_config(draw: st.DrawFn, direction: int, attribute: int
                      ) -> zcl.AttributeReportingConfigurationRecord:
    if direction == 1:
        return zcl.AttributeReportingConfigurationRecord(
            1, attribute, timeout_period=draw(st.integers(0, 0xFFFF)))
    data_type = draw(st.sampled_from(SCALAR_TYPES))
    change = draw(_zcl_scalar(data_type)) if data_type in ANALOG_TYPES else None
    return zcl.AttributeReportingConfigurationRecord(
        0, attribute, data_type, draw(st.integers(0, 0xFFFF)), draw(st.integers(0, 0xFFFF)),
        change)


@st.composite
def _config_status(draw: st.DrawFn) -> zcl.ReportingConfigurationRecord:
    direction, attribute = draw(st.integers(0, 1)), draw(ATTR_ID)
    if draw(st.booleans()):
        return zcl.ReportingConfigurationRecord(0, direction, attribute,
                                                draw(_reporting_config(direction, attribute)))
    return zcl.ReportingConfigurationRecord(draw(STATUS), direction, attribute)


PROFILE_WIDE_PAYLOADS: list[tuple[int, st.SearchStrategy[zcl.ZclCommandPayload]]] = [
    (0x00, st.lists(ATTR_ID, max_size=6).map(lambda a: zcl.ReadAttributes(tuple(a)))),
    (0x01, st.lists(st.one_of(
        st.builds(zcl.ReadAttributeStatusRecord, ATTR_ID, st.just(0), ZCL_VALUES),
        st.builds(zcl.ReadAttributeStatusRecord, ATTR_ID, STATUS)), max_size=5).map(
        lambda r: zcl.ReadAttributesResponse(tuple(r)))),
    (0x02, st.lists(st.builds(zcl.WriteAttributeRecord, ATTR_ID, ZCL_VALUES), max_size=5).map(
        lambda r: zcl.WriteAttributes(tuple(r)))),
    (0x04, st.one_of(
        st.just(zcl.WriteAttributesResponse((zcl.WriteAttributeStatusRecord(0),))),
        st.lists(st.builds(zcl.WriteAttributeStatusRecord, STATUS, ATTR_ID), min_size=1,
                 max_size=5).map(lambda r: zcl.WriteAttributesResponse(tuple(r))))),
    (0x06, st.lists(st.tuples(st.integers(0, 1), ATTR_ID).flatmap(
        lambda t: _reporting_config(*t)), max_size=4).map(
        lambda r: zcl.ConfigureReporting(tuple(r)))),
    (0x07, st.one_of(
        st.just(zcl.ConfigureReportingResponse((zcl.AttributeStatusRecord(0),))),
        st.lists(st.builds(zcl.AttributeStatusRecord, STATUS, st.integers(0, 1), ATTR_ID),
                 min_size=1, max_size=4).map(
            lambda r: zcl.ConfigureReportingResponse(tuple(r))))),
    (0x08, st.lists(st.builds(zcl.AttributeRecord, st.integers(0, 1), ATTR_ID), max_size=4).map(
        lambda r: zcl.ReadReportingConfiguration(tuple(r)))),
    (0x09, st.lists(_config_status(), max_size=4).map(
        lambda r: zcl.ReadReportingConfigurationResponse(tuple(r)))),
    (0x0A, st.lists(st.builds(zcl.AttributeReport, ATTR_ID, ZCL_VALUES), max_size=4).map(
        lambda r: zcl.ReportAttributes(tuple(r)))),
    (0x0B, st.builds(zcl.DefaultResponse, U8, U8)),
    (0x0C, st.builds(zcl.DiscoverAttributes, ATTR_ID, U8)),
    (0x0D, st.builds(zcl.DiscoverAttributesResponse, st.integers(0, 1), st.lists(
        st.builds(zcl.AttributeInformation, ATTR_ID, U8), max_size=4).map(tuple))),
]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(PROFILE_WIDE_PAYLOADS).flatmap(
    lambda c: st.tuples(st.just(c[0]), c[1])), U8, st.booleans())
def test_profile_wide_zcl_frames_decode_to_what_was_encoded(
        command: tuple[int, zcl.ZclCommandPayload], seq: int, to_client: bool) -> None:
    command_id, payload = command
    frame = zcl.ZclFrame(0x08 if to_client else 0x00, seq, command_id, payload)
    out = bytearray()
    zcl.write_zcl_frame(frame, out)
    r = Reader(bytes(out))
    assert zcl.read_zcl_frame(r, 0x0702) == frame
    assert Payload.from_json(frame.to_json()) == frame


CIPHERED = st.builds(CipheredZclPayload, st.binary(min_size=5, max_size=5), st.binary(max_size=64),
                     st.binary(min_size=12, max_size=12))


@st.composite
def _components(draw: st.DrawFn) -> GbzComponent:
    (cluster, to_client, command), payload = draw(_cluster_commands())
    encrypted, dated = draw(st.booleans()), draw(st.booleans())
    frame = ZclFrame(0x19 if to_client else 0x01, draw(U8), command,
                     draw(CIPHERED) if encrypted else payload)
    return GbzComponent(
        (0x02 if encrypted else 0) | (0x10 if dated else 0) | draw(st.integers(0, 1)), cluster,
        frame, draw(U8) if encrypted else None, draw(U8) if encrypted else None,
        draw(U32) if dated else None)


ALERT_CONTENTS = st.one_of(
    st.builds(FutureDatedAlertPayload, st.integers(0, 0xFFFF), st.integers(0, 2**64 - 1),
              st.integers(0, 0xFFFF), U8, U8),
    st.lists(_components(), max_size=2).map(lambda c: GbzAlertComponents(tuple(c))),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_components(), min_size=1, max_size=3))
def test_gbz_payloads_with_encrypted_and_dated_components_round_trip(
        components: list[GbzComponent]) -> None:
    gbz = GbzPayload(tuple(components))
    assert decode_payload(PayloadKind.ZCL, encode_payload(gbz)) == gbz
    assert Payload.from_json(gbz.to_json()) == gbz


@settings(max_examples=150, deadline=None)
@given(ALERT_CONTENTS, st.integers(0x8000, 0xFFFF), U32)
def test_gbz_alerts_round_trip(content: GbzAlertContent, alert_code: int, time_stamp: int) -> None:
    if isinstance(content, FutureDatedAlertPayload):
        alert_code, count = FUTURE_DATED_ALERT, 1
    else:
        if alert_code in (FUTURE_DATED_ALERT, METER_INTEGRITY_ISSUE_WARNING):
            alert_code = 0x8F0A
        assert isinstance(content, GbzAlertComponents)
        count = len(content.components)
    alert = GbzAlertPayload(count, alert_code, time_stamp, content)
    assert decode_payload(PayloadKind.ZCL, encode_payload(alert)) == alert
    assert Payload.from_json(alert.to_json()) == alert
