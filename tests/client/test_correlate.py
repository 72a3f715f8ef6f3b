"""Correlate: every RTDS Pre-Command agrees with its DUIS request; any altered one is caught."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from opendcc.client.correlate import (
    CONVERSE,
    Correlation,
    CorrelationMismatch,
    NotCorrelated,
    correlate,
    encodings,
    sign_pre_command,
)
from opendcc.client.parse import ParseError
from opendcc.config import reference_dir
from opendcc.gbcs import codec
from opendcc.gbcs.codec import Verification
from opendcc.smki.keystore import KeyStore

REFERENCE = reference_dir()
PRECOMMANDS = sorted((REFERENCE / "gbcs" / "rtds").glob("*/*_PRECOMMAND_GBCS.HEX"))
TEMPLATES = REFERENCE / "duis" / "templates"


def twin(vector: Path, *, error_to_success: bool = False) -> Path | None:
    """The DUIS template of the same name (REQUEST_DUIS for PRECOMMAND_GBCS); with
    `error_to_success`, the _SUCCESS_ request beside an _ERROR_ vector (RTDS has no error
    templates: an error vector is a command the device refuses, often for a changed value)."""
    stem = vector.name.removesuffix("_PRECOMMAND_GBCS.HEX")
    if error_to_success:
        if "_ERROR" not in stem:
            return None
        stem = stem.replace("_ERROR", "_SUCCESS")
    path = TEMPLATES / f"{stem}_REQUEST_DUIS.XML"
    return path if path.exists() else None


PAIRS = [(v, t) for v in PRECOMMANDS if (t := twin(v)) is not None]
ERROR_PAIRS = [(v, t) for v in PRECOMMANDS if (t := twin(v, error_to_success=True)) is not None]
IDS = [v.name.removesuffix("_PRECOMMAND_GBCS.HEX") for v, _ in PAIRS]
HEADER_FIELDS = {"BusinessOriginatorID", "BusinessTargetID", "use case"}


def read(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def commanded(vector: Path, template: Path) -> list[str]:
    """The request body values the correlation compares (paths such as `Body/Element`)."""
    return [c.field for c in correlate(template.read_bytes(), read(vector)).checks if "/" in c.field]


WITH_VALUES = [(v, t) for v, t in PAIRS if commanded(v, t)]
WITHOUT_VALUES = [(v, t) for v, t in PAIRS if not commanded(v, t)]


def ids(pairs: list[tuple[Path, Path]]) -> list[str]:
    return [v.name.removesuffix("_PRECOMMAND_GBCS.HEX") for v, _ in pairs]


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore.from_reference()


def test_most_precommands_have_their_request_template() -> None:
    assert len(PAIRS) + len(ERROR_PAIRS) >= 80, f"{len(PAIRS)}+{len(ERROR_PAIRS)} of {len(PRECOMMANDS)}"


@pytest.mark.parametrize(("vector", "template"), ERROR_PAIRS,
                         ids=[v.name.removesuffix("_PRECOMMAND_GBCS.HEX") for v, _ in ERROR_PAIRS])
def test_an_error_precommand_differs_from_the_success_request_only_in_commanded_values(
        vector: Path, template: Path) -> None:
    result = correlate(template.read_bytes(), read(vector), check=False)
    values = {c.field for c in result.checks if "/" in c.field}
    # The refused value shows from both sides: absent from the Pre-Command as the request says
    # it, and present in the Pre-Command though the request does not ask for it.
    assert {m.field for m in result.mismatches if not m.field.startswith("Pre-Command ")} <= values


@pytest.mark.parametrize(("vector", "template"), PAIRS, ids=IDS)
def test_precommand_correlates_with_its_request(vector: Path, template: Path) -> None:
    result = correlate(template.read_bytes(), read(vector))
    assert result.passed
    fields = {c.field for c in result.checks}
    assert HEADER_FIELDS | {CONVERSE} <= fields
    if b"ExecutionDateTime" in template.read_bytes():
        assert "ExecutionDateTime" in fields


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes((data[at] ^ 0x5A,)) + data[at + 1 :]


def _unique_value(result: Correlation, data: bytes) -> tuple[str, int] | None:
    """A commanded value encoded at exactly one place (and in at least two octets): its field
    and the offset, in the Pre-Command, of its last octet."""
    content = result.message.apdu.content
    base = data.index(content)
    for check in result.checks:
        if "/" not in check.field or not isinstance(check.expected, str):
            continue
        patterns = encodings(check.expected) or []
        spans = {m.span() for p in patterns for m in re.finditer(p, content, re.DOTALL)}
        if len(spans) == 1:
            start, end = spans.pop()
            if end - start >= 2:
                return check.field, base + end - 1
    return None


@pytest.mark.parametrize(("vector", "template"), WITH_VALUES, ids=ids(WITH_VALUES))
def test_a_changed_value_is_caught(vector: Path, template: Path) -> None:
    request = template.read_bytes()
    data = read(vector)
    spot = _unique_value(correlate(request, data), data)
    if spot is None:
        # No commanded value sits at a single place: alter the request's first compared value.
        result = correlate(request, data)
        changed = next(c for c in result.checks if "/" in c.field)
        leaf = changed.field.rsplit("/", 1)[-1].split("[", 1)[0]
        forged = re.sub(rf"(<sr:{leaf}(?: [^>]*)?>){re.escape(str(changed.expected))}<".encode(),
                        lambda m: m.group(1) + b"987654321<", request, count=1)
        with pytest.raises(CorrelationMismatch) as err:
            correlate(forged, data)
        assert err.value.field.endswith(leaf) or leaf in err.value.field
        return
    field, at = spot
    result = correlate(request, _flip(data, at), check=False)
    assert result.mismatches[0].field == field
    with pytest.raises(CorrelationMismatch) as err:
        correlate(request, _flip(data, at))
    assert err.value.field == field


def _without(request: bytes, path: str) -> bytes:
    """The request with the element at a compared path (`Body/A/B[2]`) removed."""
    root = etree.fromstring(request)
    node = next(e for e in root.iter() if isinstance(e.tag, str) and etree.QName(e).localname == "Body")
    node = node[0]
    for step in path.split("/")[1:]:
        name, _, index = step.partition("[")
        matches = [c for c in node if isinstance(c.tag, str) and etree.QName(c).localname == name]
        wanted = int(index.rstrip("]")) if index else 1
        indexed = [c for c in matches if c.get("index") == str(wanted)]
        node = indexed[0] if indexed else matches[wanted - 1]
    parent = node.getparent()
    assert parent is not None
    parent.remove(node)
    return etree.tostring(root)


@pytest.mark.parametrize(("vector", "template"), WITH_VALUES, ids=ids(WITH_VALUES))
def test_a_value_the_request_does_not_ask_for_is_caught(vector: Path, template: Path) -> None:
    """The converse check: drop one commanded value from the request; unless the Pre-Command
    carries that value for another request element too, the Pre-Command now holds a value
    nobody asked for, and correlation names it. One-octet numbers, words and "not specified"
    dates are not looked for in this direction (they would be found anywhere)."""
    request, data = template.read_bytes(), read(vector)
    checks = [c for c in correlate(request, data).checks if "/" in c.field]
    caught, significant = [], []
    for check in checks:
        result = correlate(_without(request, check.field), data, check=False)
        assert all(m.field.startswith("Pre-Command ") for m in result.mismatches), check.field
        caught += result.mismatches
        significant += [check.field] if _significant(str(check.expected)) else []
    assert caught or not significant, f"none of {significant} is caught when not asked for"


def _significant(text: str) -> bool:
    """A request value the converse check looks for: wider than one octet, not a word."""
    if re.fullmatch(r"[+-]?\d+", text):
        return not -128 <= int(text) < 256
    return not (text.startswith("3000-12-31") or re.fullmatch(r"[A-Za-z_ ]+", text))


@pytest.mark.parametrize(("vector", "template"), WITHOUT_VALUES, ids=ids(WITHOUT_VALUES))
def test_a_request_commanding_no_value_is_checked_for_target_use_case_and_nothing_more(
        vector: Path, template: Path) -> None:
    """E.g. Enable Supply: the request names only the device and the service (and perhaps an
    execution time); its Pre-Command must carry no value beyond what GBCS fixes."""
    result = correlate(template.read_bytes(), read(vector))
    fields = {c.field for c in result.checks}
    assert fields - {"ExecutionDateTime"} == HEADER_FIELDS | {CONVERSE}
    assert result.passed
    converse = next(c for c in result.checks if c.field == CONVERSE)
    assert converse.ok


@pytest.mark.parametrize(("vector", "template"), PAIRS, ids=IDS)
def test_a_changed_target_device_is_caught(vector: Path, template: Path) -> None:
    data = read(vector)
    recipient = bytes(codec.decode(data).apdu.recipient)
    at = data.index(b"\x08" + recipient) + 8
    with pytest.raises(CorrelationMismatch) as err:
        correlate(template.read_bytes(), _flip(data, at))
    assert err.value.field == "BusinessTargetID"


@pytest.mark.parametrize(("vector", "template"), PAIRS, ids=IDS)
def test_a_changed_use_case_is_caught(vector: Path, template: Path) -> None:
    data = read(vector)
    apdu = codec.decode(data).apdu
    other = 0x0027 if apdu.message_code != 0x0027 else 0x0019  # ECS17b, else ECS01a
    code = apdu.message_code.to_bytes(2, "big")
    at = data.index(code, 29)
    forged = data[:at] + other.to_bytes(2, "big") + data[at + 2 :]
    with pytest.raises(CorrelationMismatch) as err:
        correlate(template.read_bytes(), forged)
    assert err.value.field == "use case"


def test_a_passed_correlation_is_signed_with_the_users_key(keys: KeyStore) -> None:
    vector, template = PAIRS[0]
    data = read(vector)
    result = correlate(template.read_bytes(), data)
    signed = sign_pre_command(data, result, keys)
    decoded = codec.decode(signed, keys)
    assert decoded.signature_check is Verification.VERIFIED
    assert decoded.apdu.content == codec.decode(data).apdu.content


def test_a_failed_correlation_signs_nothing(keys: KeyStore) -> None:
    vector, template = PAIRS[0]
    data = read(vector)
    forged = _flip(data, data.index(b"\x08" + bytes(codec.decode(data).apdu.recipient)) + 8)
    result = correlate(template.read_bytes(), forged, check=False)
    assert not result.passed
    with pytest.raises(NotCorrelated) as err:
        sign_pre_command(forged, result, keys)
    assert err.value.field == "BusinessTargetID"


def test_other_octets_than_the_correlated_ones_are_not_signed(keys: KeyStore) -> None:
    (v1, t1), (v2, _) = PAIRS[0], PAIRS[1]
    result = correlate(t1.read_bytes(), read(v1))
    with pytest.raises(NotCorrelated):
        sign_pre_command(read(v2), result, keys)


def test_a_response_is_not_a_precommand() -> None:
    vector, template = PAIRS[0]
    response = next(vector.parent.glob("*_RESPONSE_GBCS.HEX"))
    with pytest.raises(ParseError) as err:
        correlate(template.read_bytes(), read(response))
    assert err.value.field == "CRA Flag"


def test_a_precommand_with_an_unknown_use_case_is_caught_and_not_signed(keys: KeyStore) -> None:
    vector, template = PAIRS[0]
    data = read(vector)
    code = codec.decode(data).apdu.message_code.to_bytes(2, "big")
    at = data.index(code, 29)
    forged = data[:at] + b"\x7f\xf0" + data[at + 2 :]
    result = correlate(template.read_bytes(), forged, check=False)
    assert [m.field for m in result.mismatches] == ["use case"]
    assert result.mismatches[0].found == "0x7FF0"
    with pytest.raises(NotCorrelated):
        sign_pre_command(forged, result, keys)


def test_a_precommand_for_the_other_payment_mode_is_caught() -> None:
    """SRV 1.6 is served by ECS02 (to credit) and ECS03 (to prepayment): the request decides."""
    vector = REFERENCE / "gbcs" / "rtds" / "1.6_ECS03" / "ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_PRECOMMAND_GBCS.HEX"
    template = TEMPLATES / "ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML"
    data = read(vector)
    assert correlate(template.read_bytes(), data).passed
    at = data.index(b"\x00\x1b", 29)  # ECS03 -> ECS02 (Set ESME Payment Mode to Credit)
    with pytest.raises(CorrelationMismatch) as err:
        correlate(template.read_bytes(), data[:at] + b"\x00\x1a" + data[at + 2 :])
    assert err.value.field == "use case"
    credit = (TEMPLATES / "ECS02_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    with pytest.raises(CorrelationMismatch) as err:
        correlate(credit, data)
    assert err.value.field == "use case"



def test_a_precommand_setting_more_than_the_request_asks_is_caught() -> None:
    """A request for four switch descriptions, a Pre-Command setting five: every requested
    value is there (the forward check passes), and the fifth is named as not asked for."""
    folder = REFERENCE / "gbcs" / "rtds" / "6.14.1_ECS46a"
    five = read(folder / "ECS46a_6.14.1_ALL_OPTIONALS_SUCCESS_PRECOMMAND_GBCS.HEX")
    request = (TEMPLATES / "ECS46a_6.14.1_ALL_OPTIONALS_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    four = _without(request, "UpdateDeviceConfigurationALCDescriptions/ALCSHCALCSDescription[5]")
    result = correlate(four, five, check=False)
    assert [(m.field, m.found) for m in result.mismatches] == [
        ("Pre-Command access_request_list_of_data.4.value", "ALCS_5_Description")]
    with pytest.raises(CorrelationMismatch) as err:
        correlate(four, five)
    assert err.value.field == "Pre-Command access_request_list_of_data.4.value"
