"""More use cases without an RTDS Command vector (`core.transform.authored.more`): ECS20b/c,
ECS21a, ECS12, ECS50, GCS15d, GCS16b, CS11, CS07 and CS03C (the GSME end). For each DUIS template of them the Transform
builds a Command that decodes under the use case's own message code with a MAC that verifies;
the period a log read names reaches the payload; and each form keeps the structure of the
learned sibling it is built from (taken at run time), or is left out without it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

from opendcc.config import reference_dir
from opendcc.core.transform import transform
from opendcc.core.transform.authored import more
from opendcc.core.transform.learn import load_command_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.gbcs.payloads import encode_payload, payload_from_json, payload_json
from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore

NOW = datetime(2014, 6, 1, tzinfo=UTC)
DCC_COUNTER = 10**13
SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
LEARNED = load_command_data(reference_dir().resolve())[0]["forms"]
AUTHORED = sorted({f["use_case"] for f in more.forms(LEARNED)})
#: A template's use case: its name's first part (the critical CS03C is CS03CCritical).
def _use_case(path: Path) -> str:
    return path.name.split("_")[0].removesuffix("Critical") if path.name.startswith("CS03CCritical") \
        else path.name.split("_")[0]


TEMPLATES = sorted(p for p in (reference_dir() / "duis" / "templates").glob("*.XML")
                   # a 5.1 template (a DCC schedule of the read) is no device request
                   if _use_case(p) in AUTHORED and "_5.1" not in p.name)


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore.from_reference()


def _device_type(path: Path) -> str:
    if path.name.startswith("ECS"):
        return "ESME"
    return "GPF" if "_URP_" in path.name else "GSME"


def _root(path: Path, end: str | None = None) -> etree._Element:
    root = parse_xml(path.read_bytes())
    if end is not None:
        for node in root.iter(f"{SR}EndDateTime"):
            node.text = end
    return root


def _command(path: Path, keys: KeyStore, end: str | None = None) -> codec.GbcsMessage:
    result = transform(read_request(_root(path, end)), now=NOW, counter=DCC_COUNTER, keys=keys,
                       device_type=_device_type(path))
    msg = codec.decode(result.gbcs, keys)
    critical = _use_case(path) == "CS03C"
    assert result.pre_command == critical
    assert msg.kind is (MessageKind.PRECOMMAND if critical else MessageKind.COMMAND)
    return msg


def test_every_authored_use_case_has_a_template() -> None:
    assert {"ECS20b", "ECS20c", "ECS21a", "ECS12", "ECS50", "GCS15d", "GCS16b", "CS11", "CS07",
            "CS03C"} \
        <= set(AUTHORED)
    assert {_use_case(p) for p in TEMPLATES} == set(AUTHORED)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_gives_a_command_of_its_use_case_whose_mac_verifies(path: Path,
                                                                     keys: KeyStore) -> None:
    msg = _command(path, keys)
    if msg.kind is MessageKind.COMMAND:
        assert msg.mac_check is Verification.VERIFIED
    assert USE_CASE_BY_CODE[msg.apdu.message_code] == _use_case(path)


LOG_READS = [p for p in TEMPLATES if p.name.split("_")[0] in
             {"ECS20b", "ECS20c", "ECS21a", "GCS15d", "GCS16b"}]


@pytest.mark.parametrize("path", LOG_READS, ids=lambda p: p.name)
def test_the_period_end_reaches_the_payload(path: Path, keys: KeyStore) -> None:
    before = payload_json(_command(path, keys).payload)
    after = payload_json(_command(path, keys, end="2016-01-01T00:00:00.00Z").payload)
    assert before != after
    seconds = int((datetime(2016, 1, 1, tzinfo=UTC)
                   - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())
    assert str(seconds) in str(after)


def _by_use_case(use_case: str) -> list[dict[str, Any]]:
    return [f for f in more.forms(LEARNED) if f["use_case"] == use_case]


def _learned(use_case: str) -> list[dict[str, Any]]:
    return [f for f in LEARNED if f["use_case"] == use_case]


def test_billing_logs_keep_ecs20a_selective_access() -> None:
    sibling = _learned("ECS20a")[0]["payload"]["access_request_list_of_specification"][0]
    for use_case in ("ECS20b", "ECS20c"):
        (form,) = _by_use_case(use_case)
        spec = form["payload"]["access_request_list_of_specification"][0]
        assert spec["access_selection"]["access_selector"] == \
            sibling["access_selection"]["access_selector"]
        assert spec["cosem_attribute_descriptor"]["class_id"] == 7
    objects = {_by_use_case(u)[0]["payload"]["access_request_list_of_specification"][0]
               ["cosem_attribute_descriptor"]["instance_id"] for u in ("ECS20b", "ECS20c")}
    assert len(objects) == 2


def test_prepayment_daily_log_asks_one_prepay_snapshot_per_gcs16a_snapshot() -> None:
    sibling = _learned("GCS16a")[0]["payload"]["components"]
    forms = _by_use_case("GCS16b")
    assert {f["name"].split()[-1] for f in forms} == {"KRP", "URP"}
    for form in forms:
        components = form["payload"]["components"]
        assert len(components) == len(sibling)
        assert {c["zcl_frame"]["payload"]["command"] for c in components} == \
            {"prepayment/get-prepay-snapshot"}
        assert [c["zcl_frame"]["payload"]["fields"]["snapshot_offset"] for c in components] == \
            [c["zcl_frame"]["payload"]["fields"]["snapshot_offset"] for c in sibling]
    (urp,) = [f for f in forms if f["name"].endswith("URP")]
    assert urp["remote_party_ka_certificate"] and "KAPublicSecurityCredentials" in urp["paths"]


def test_clear_event_log_never_clears_the_security_log() -> None:
    (form,) = _by_use_case("CS11")
    (component,) = form["payload"]["components"]
    assert component["zcl_frame"]["payload"]["fields"]["log_id"] == more.GBCS_EVENT_LOG
    assert component["extended_header_cluster_id"] == more.EVENTS


def test_cin_is_the_one_gcs36_sends() -> None:
    (form,) = _by_use_case("ECS50")
    cin = _learned("GCS36")[0]["payload"]["components"][0]["zcl_frame"]["payload"]["fields"][
        "customer_id_number"]
    assert form["payload"]["access_request_list_of_data"][0]["value"] == cin
    assert form["sender"] == _learned("GCS36")[0]["sender"]


def test_without_the_learned_siblings_no_form_is_authored() -> None:
    assert more.forms([]) == []


def test_meter_end_of_a_method_c_join_carries_the_other_device_certificate(keys: KeyStore) -> None:
    path = next(p for p in TEMPLATES if p.name.startswith("CS03CCritical"))
    other = parse_xml(path.read_bytes()).findtext(f".//{SR}OtherDeviceID")
    assert other
    view = payload_json(_command(path, keys).payload)
    role, entity, _kind, certificate = view["elements"]
    assert role["value"] == more.METHOD_C_METER_END
    assert entity["value"] == other.replace("-", "").lower()
    expected = keys.certificate(EUI64.parse(other), "ka")
    assert expected is not None
    assert encode_payload(payload_from_json(certificate)) == expected.public_bytes(Encoding.DER)


def test_no_certificate_source_without_the_other_device_in_smki(keys: KeyStore) -> None:
    assert more.derived_sources({"OtherDeviceID": "00-11-22-33-44-55-66-77"}, keys) == {}
    assert more.derived_sources({}, keys) == {}
