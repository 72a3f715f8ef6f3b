"""Bad payloads give the typed error that names what is wrong and where."""

from __future__ import annotations

import pytest

from opendcc.gbcs.errors import BadLength, GbcsError, Malformed, Truncated
from opendcc.gbcs.payload import Payload, PayloadKind, decode_payload, encode_payload
from opendcc.gbcs.payload.axdr import Integer, OctetString, Structure, Unsigned
from opendcc.gbcs.payload.dlms import CosemAttributeDescriptor, DataNotification
from opendcc.gbcs.payload.errors import InvalidTree

# access-request: long invoke id, no date-time, one GET of Clock.time (8 / 0-0:1.0.0.255 / 2)
ACCESS_REQUEST = bytes.fromhex("d9 20000001 00 01 01 0008 0000010000ff 02 01 00")
DATA_NOTIFICATION = bytes.fromhex("0f 20000001 00 02 02 12 8f66 09 02 abcd")
GBZ_READ = bytes.fromhex("0109 01 01 0702 0005 00 01 00 0000")
DER = bytes.fromhex("3006 020101 020102")


def test_vectors_used_here_are_valid() -> None:
    for kind, data in ((PayloadKind.DLMS, ACCESS_REQUEST), (PayloadKind.DLMS, DATA_NOTIFICATION),
                       (PayloadKind.ZCL, GBZ_READ), (PayloadKind.ASN1, DER)):
        assert encode_payload(decode_payload(kind, data)) == data


@pytest.mark.parametrize(("kind", "data"), [
    (PayloadKind.DLMS, ACCESS_REQUEST), (PayloadKind.DLMS, DATA_NOTIFICATION),
    (PayloadKind.ZCL, GBZ_READ), (PayloadKind.ASN1, DER)])
def test_every_truncation_is_a_typed_error(kind: PayloadKind, data: bytes) -> None:
    for cut in range(len(data)):
        with pytest.raises(GbcsError) as info:
            decode_payload(kind, data[:cut])
        assert isinstance(info.value, Truncated | BadLength | Malformed)
        assert 0 <= info.value.offset <= cut


def test_truncated_octet_string_names_the_field_and_offset() -> None:
    with pytest.raises(Truncated) as info:
        decode_payload(PayloadKind.DLMS, DATA_NOTIFICATION[:-1])
    assert info.value.field == "octet-string"
    assert info.value.offset == 13  # where its octets start


def test_unknown_xdlms_apdu_is_malformed() -> None:
    with pytest.raises(Malformed, match="unknown APDU 0xEE"):
        decode_payload(PayloadKind.DLMS, b"\xee\x00")


def test_unknown_axdr_data_tag_is_malformed_at_its_offset() -> None:
    with pytest.raises(Malformed) as info:
        decode_payload(PayloadKind.DLMS, bytes.fromhex("0f 20000001 00 07"))
    assert info.value.offset == 6


def test_trailing_bytes_after_an_apdu_are_malformed() -> None:
    with pytest.raises(Malformed, match="after the APDU"):
        decode_payload(PayloadKind.DLMS, ACCESS_REQUEST + b"\x00")


def test_gbz_component_longer_than_the_payload_is_a_bad_length() -> None:
    with pytest.raises(BadLength):
        decode_payload(PayloadKind.ZCL, bytes.fromhex("0109 01 01 0702 0009 00 01 00 0000"))


def test_gbz_with_another_profile_is_malformed() -> None:
    with pytest.raises(Malformed, match="profile"):
        decode_payload(PayloadKind.ZCL, bytes.fromhex("0104 00"))


def test_der_indefinite_length_is_malformed() -> None:
    with pytest.raises(Malformed, match="indefinite"):
        decode_payload(PayloadKind.ASN1, bytes.fromhex("3080 0000"))


def test_nesting_bombs_are_refused_not_recursed() -> None:
    deep = bytes([0x0F, 0, 0, 0, 1, 0]) + b"\x02\x01" * 5000 + b"\x00"
    with pytest.raises(Malformed, match="nested deeper"):
        decode_payload(PayloadKind.DLMS, deep)
    with pytest.raises(Malformed, match="nested deeper"):
        decode_payload(PayloadKind.ASN1, _der_nest(5000))


def _der_nest(depth: int) -> bytes:
    out = b"\x05\x00"
    for _ in range(depth):
        out = bytes([0x30, 0x84]) + len(out).to_bytes(4, "big") + out
    return out


def test_huge_counts_fail_fast_as_bad_length() -> None:
    with pytest.raises(BadLength):
        decode_payload(PayloadKind.DLMS, bytes.fromhex("d9 20000001 00 84ffffffff"))


def test_out_of_range_values_cannot_be_encoded() -> None:
    with pytest.raises(InvalidTree):
        encode_payload(DataNotification(1, b"", Unsigned(256)))
    with pytest.raises(InvalidTree):
        encode_payload(DataNotification(1, b"", Structure((Integer(-129),))))


def test_json_that_names_no_payload_type_is_refused() -> None:
    with pytest.raises(InvalidTree):
        Payload.from_json({"@type": "no-such-thing"})
    with pytest.raises(InvalidTree):
        Payload.from_json({"@type": "data-notification", "long_invoke_id_and_priority": "x",
                           "date_time": "", "notification_body": OctetString(b"").to_json()})
    with pytest.raises(InvalidTree):
        encode_payload(CosemAttributeDescriptor(8, "0-0:1.0.0.255", 2))


def test_json_nested_too_deeply_is_refused_not_a_crash() -> None:
    view: dict[str, object] = {"@type": "null-data"}
    for _ in range(3000):
        view = {"@type": "structure", "elements": [view]}
    with pytest.raises(InvalidTree, match="nested too deeply"):
        Payload.from_json({"@type": "data-notification", "long_invoke_id_and_priority": 1,
                           "date_time": "", "notification_body": view})


def test_trees_nested_too_deeply_cannot_be_encoded() -> None:
    body: Structure = Structure(())
    for _ in range(5000):
        body = Structure((body,))
    with pytest.raises(InvalidTree, match="nested too deeply"):
        encode_payload(DataNotification(1, b"", body))
