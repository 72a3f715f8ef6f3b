"""Parse: every RTDS Response and Alert becomes an MMC 5.4 document valid against the schema."""

from __future__ import annotations

import base64
import collections
import re
from pathlib import Path

import pytest
from lxml import etree

from opendcc.client.mmc import MMC_NS, Fill
from opendcc.client.mmc.tables import tables
from opendcc.client.parse import (
    GBCSResponse,
    NotForThisUser,
    ParseError,
    TamperedMessage,
    UnknownUseCase,
    parse,
)
from opendcc.config import reference_dir
from opendcc.duis.xsd import validate_mmc
from opendcc.gbcs import codec
from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore

RTDS = reference_dir() / "gbcs" / "rtds"
VECTORS = sorted(p for p in RTDS.glob("*/*_GBCS.HEX") if "_RESPONSE_" in p.name or "_ALERT_" in p.name)
RA = f"{{{MMC_NS}}}"
FILLS: collections.Counter[str] = collections.Counter()
# Elements whose number is a position the schema counts (a phase), not a payload value.
POSITIONS = {"Phase"}
# Elements whose number the payload carries less an offset (ZCL dates count years from 1900).
OFFSETS = {"SpecifiedYear": 1900}


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore.from_reference()


def srv_of(path: Path) -> str | None:
    """The SRV variant the RTDS folder names (`4.1.1_ECS17b`), None for unsolicited alerts."""
    srv = path.parent.name.split("_", 1)[0]
    return None if srv == "NA" else srv


def read(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def test_the_reference_folder_has_responses_and_alerts() -> None:
    assert len(VECTORS) > 400


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name.removesuffix("_GBCS.HEX"))
def test_response_renders_as_valid_mmc_carrying_its_header_values(path: Path, keys: KeyStore) -> None:
    data = read(path)
    parsed = parse(data, keys=keys, srv=srv_of(path))
    root = parsed.to_mmc_xml()
    validate_mmc(root)
    FILLS[parsed.fill.value] += 1

    apdu = codec.decode(data).apdu
    header = root.find(f"{RA}Header")
    assert header is not None
    assert header.findtext(f"{RA}BusinessOriginatorID") == apdu.originator.hyphenated
    assert header.findtext(f"{RA}BusinessTargetID") == apdu.recipient.hyphenated
    assert int(header.findtext(f"{RA}OriginatorCounter") or -1) == apdu.originator_counter
    assert header.findtext(f"{RA}GBCSHexadecimalMessageCode") == f"{apdu.message_code:04X}"
    gbcs_data = root.find(f".//{RA}GBCSData")
    assert gbcs_data is not None and base64.b64decode(gbcs_data.text or "") == data

    smets = root.find(f".//{RA}SMETSData")
    if parsed.is_alert:
        content = root.find(f".//{RA}DeviceAlertContent")
        assert content is not None, "every RTDS alert carries an alert code and time"
        assert content.findtext(f"{RA}GBCSHexAlertCode") == f"{parsed.alert_code:04X}"
        named = re.search(r"_([0-9A-F]{4})_", path.name)
        if named:
            assert parsed.alert_code == int(named.group(1), 16)
        payload = content.find(f"{RA}Payload")
        if payload is not None:
            _assert_numbers_are_encoded(payload, parsed)
    elif smets is not None:
        (answer,) = list(smets)
        assert etree.QName(answer).localname == tables().element_for(parsed.srv)
        expected = "false" if "_ERROR_" in path.name and parsed.outcome.known else None
        if expected:
            assert answer.get("MessageSuccess") == expected
        _assert_numbers_are_encoded(answer, parsed)


def _assert_numbers_are_encoded(answer: etree._Element, parsed: GBCSResponse) -> None:
    """Every whole number the document carries is one the (decrypted) payload encodes."""
    encoded = set(_numbers(parsed.decrypted.view))
    for leaf in answer.iter():
        if etree.QName(leaf).localname in POSITIONS:
            continue
        if leaf.text and re.fullmatch(r"-?(?:0|[1-9]\d*)", leaf.text.strip()):
            # (ZCL metering values are scaled by multiplier/divisor, powers of ten here)
            scaled = {int(leaf.text) * 10**k for k in range(7)} | {int(leaf.text, 16)}
            scaled.add(int(leaf.text) - OFFSETS.get(etree.QName(leaf).localname, 0))
            assert scaled & encoded, f"{etree.QName(leaf).localname}={leaf.text}"


def _numbers(node: object) -> list[int]:
    if isinstance(node, dict):
        return [n for v in node.values() for n in _numbers(v)]
    if isinstance(node, list):
        return [n for v in node for n in _numbers(v)]
    if isinstance(node, str) and re.fullmatch(r"(?:3[0-9])+", node):  # ASCII digits (MPxNs)
        digits = bytes.fromhex(node).decode()
        return [int(digits[i:j]) for i in range(0, len(digits), 13) for j in (i + 13, len(digits))]
    if isinstance(node, str) and re.fullmatch(r"(?:[0-9a-fA-F]{2})+", node):
        # octets rendered as their hex text: the number they spell, and (in a short string
        # such as an alert's fixed-layout record, or a COSEM date) each big-endian field
        raw = bytes.fromhex(node)
        fields = [int.from_bytes(raw[i:j], "big") for i in range(len(raw))
                  for j in range(i + 1, min(i + 8, len(raw)) + 1)] if len(raw) <= 64 else list(raw)
        return ([int(node)] if node.isdigit() else []) + fields
    return [node] if isinstance(node, int) and not isinstance(node, bool) else []


def test_fill_summary_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """Not an assertion of coverage: prints how many documents carry every value (full)."""
    with capsys.disabled():
        print(f"\nMMC fill over {sum(FILLS.values())} RTDS responses/alerts: {dict(FILLS)}")
    assert set(FILLS) <= {f.value for f in Fill}


def test_a_duis_response_is_read_through_its_gbcs_payload(keys: KeyStore) -> None:
    xml = (reference_dir() / "duis" / "samples" / "readfw-response.xml").read_bytes()
    parsed = parse(xml, keys=keys)
    assert isinstance(parsed, GBCSResponse)
    assert parsed.srv == "11.2"
    validate_mmc(parsed.to_mmc_xml())


def first(pattern: str) -> Path:
    return next(p for p in VECTORS if pattern in p.name)


def test_a_response_for_another_user_is_refused(keys: KeyStore) -> None:
    path = first("ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE")
    stranger = EUI64.parse("90-B3-D5-1F-30-01-00-99")
    with pytest.raises(NotForThisUser) as err:
        parse(read(path), keys=keys, user=stranger)
    assert err.value.field == "BusinessTargetID"
    assert err.value.expected == stranger


def test_the_addressed_user_is_accepted(keys: KeyStore) -> None:
    path = first("ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE")
    target = codec.decode(read(path)).apdu.recipient
    assert parse(read(path), keys=keys, user=target).business_target == target


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes((data[at] ^ 0x01,)) + data[at + 1 :]


def test_a_tampered_maced_response_is_refused(keys: KeyStore) -> None:
    data = read(first("ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE"))
    assert data[0] == 0xDD
    with pytest.raises(TamperedMessage) as err:
        parse(_flip(data, len(data) - 20), keys=keys)
    assert err.value.field == "MAC"


def test_a_tampered_signed_response_is_refused(keys: KeyStore) -> None:
    path = next(p for p in VECTORS if read(p)[0] == 0xDF and codec.decode(read(p)).apdu.signature)
    data = read(path)
    with pytest.raises(TamperedMessage) as err:
        parse(_flip(data, len(data) - 70), keys=keys)
    assert err.value.field == "Signature"


def test_an_unknown_use_case_is_refused() -> None:
    data = read(first("ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE"))
    code = (0x0027).to_bytes(2, "big")
    at = data.index(b"\x02" + code)  # Other Information length 2, message code ECS17b
    forged = data[: at + 1] + b"\x7f\xf0" + data[at + 3 :]
    with pytest.raises(UnknownUseCase) as err:
        parse(forged)
    assert err.value.field == "GBCSHexadecimalMessageCode"


def test_a_command_is_not_a_response() -> None:
    path = next(RTDS.glob("*/*_SUCCESS_COMMAND_GBCS.HEX"))
    with pytest.raises(ParseError) as err:
        parse(read(path))
    assert err.value.field == "CRA Flag"


@pytest.mark.parametrize("junk", [b"", b"hello", b"<not-duis/>", b"DF00"])
def test_junk_is_a_parse_error(junk: bytes) -> None:
    with pytest.raises(ParseError):
        parse(junk)
