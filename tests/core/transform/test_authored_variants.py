"""Variants without an RTDS Command vector (`core.transform.authored.variants`): the critical
CS03A2 join to the meter. Its DUIS template gives a Pre-Command under CS03A2's own message code
that names the OtherDeviceID, built on the learned CS03A1 (taken at run time), or no form
without it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendcc.config import reference_dir
from opendcc.core.transform import transform
from opendcc.core.transform.authored import variants
from opendcc.core.transform.learn import load_command_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.smki.keystore import KeyStore

NOW = datetime(2014, 6, 1, tzinfo=UTC)
DCC_COUNTER = 10**13
LEARNED = load_command_data(reference_dir().resolve())[0]["forms"]
TEMPLATES = reference_dir() / "duis" / "templates"


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore.from_reference()


def test_critical_cs03a2_join_is_a_pre_command_of_cs03a2_naming_the_other_device(
        keys: KeyStore) -> None:
    request = read_request(parse_xml(
        (TEMPLATES / "CS03A2Critical_8.7.1_SUCCESS_REQUEST_DUIS.XML").read_bytes()))
    result = transform(request, now=NOW, counter=DCC_COUNTER, keys=keys,
                       use_case="CS03A2Critical", device_type="ESME")
    assert result.pre_command
    msg = codec.decode(result.gbcs, keys)
    assert msg.kind is MessageKind.PRECOMMAND
    assert USE_CASE_BY_CODE[msg.apdu.message_code] == "CS03A2"
    other = str(request.body.find(".//{*}OtherDeviceID").text)  # type: ignore[union-attr]
    assert other.replace("-", "").lower() in str(codec.to_json(msg)["Payload"]["Decoded"]).lower()


def test_critical_cs03a2_join_keeps_the_cs03a1_structure_and_header() -> None:
    (form,) = variants.join_non_meter_critical(LEARNED)
    (sibling,) = [f for f in LEARNED if f["use_case"] == "CS03A1" and not f.get("sender")][:1]
    assert form["message_code"] == f"{variants.CS03A2_CODE:04X}"
    assert form["sender"] is None and form["roles"] == sibling["roles"]
    assert [e["name"] for e in form["payload"]["elements"]] == \
        [e["name"] for e in sibling["payload"]["elements"]]


def test_without_the_learned_sibling_no_form_is_authored() -> None:
    assert variants.forms([]) == []
