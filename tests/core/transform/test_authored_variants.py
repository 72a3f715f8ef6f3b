"""Variants without an RTDS Command vector (`core.transform.authored.variants`): the critical
CS03A2 join to the meter and the supplier's ESME audible alarm / logging event behaviours
(ECS25a2/a3). Each DUIS template gives a Command under its own message code carrying the
request's values, built on the learned sibling (taken at run time), or no form without it."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest

from opendcc.config import reference_dir
from opendcc.core.transform import fields, transform
from opendcc.core.transform.authored import variants
from opendcc.core.transform.learn import load_command_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
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


@pytest.mark.parametrize("variant", ["ECS25a2", "ECS25a3"])
def test_event_behaviours_set_the_bitmap_of_the_requests_alert_codes(variant: str,
                                                                     keys: KeyStore) -> None:
    request = read_request(parse_xml((TEMPLATES / f"{variant}_6.22_SUCCESS_REQUEST_DUIS.XML")
                                     .read_bytes()))
    result = transform(request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type="ESME")
    assert not result.pre_command
    msg = codec.decode(result.gbcs, keys)
    assert msg.kind is MessageKind.COMMAND and msg.mac_check is Verification.VERIFIED
    assert USE_CASE_BY_CODE[msg.apdu.message_code] == variant
    data = codec.to_json(msg)["Payload"]["Decoded"]["access_request_list_of_data"][0]
    codes = {int(p.rsplit("/x", 1)[-1], 16): v == "Enable"
             for p, v in fields.leaves(request.body).items() if "/x" in p}
    assert data["bits"] == variants.event_behaviour_bits(codes, len(data["bits"]))
    assert data["bits"].count("1") == len(codes) + sum(codes.values())


def test_event_behaviour_objects_differ_from_the_han_one() -> None:
    objects = {f["use_case"]: f["payload"]["access_request_list_of_specification"][0][
        "cosem_attribute_descriptor"]["instance_id"] for f in variants.set_behaviours(LEARNED)}
    (han,) = [f for f in LEARNED if f["use_case"] == "ECS25a1"][:1]
    assert set(objects) == {"ECS25a2", "ECS25a3"}
    assert len({*objects.values(), han["payload"]["access_request_list_of_specification"][0][
        "cosem_attribute_descriptor"]["instance_id"]}) == 3


def test_no_event_behaviour_form_when_the_bit_rule_misses_the_learned_bitmap() -> None:
    changed = copy.deepcopy(LEARNED)
    for f in changed:
        if f["use_case"] == "ECS25a1":
            data = f["payload"]["access_request_list_of_data"][0]
            data["bits"] = "0" * len(data["bits"])
    assert variants.set_behaviours(changed) == []
