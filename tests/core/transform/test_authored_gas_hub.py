"""The authored command forms of the gas and hub families (`core/transform/authored/gas.py`,
`hub.py`): use cases the reference folder has no RTDS Command vector for (CCS01, DBCH05, CS06,
CS02c, GCS39, GCS40a/b, GCS25a), transformed from their DUIS templates (and variants of them),
decoded, MAC- or signature-checked, and checked against what GBCS says the payload carries."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from lxml import etree
from transform_rtds import REF

from opendcc.client.correlate import correlate
from opendcc.core.transform import fields, finish_signed_precommand, transform
from opendcc.core.transform.builder import select_form
from opendcc.core.transform.content import build_content
from opendcc.core.transform.tables import default_tables
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import SR, DuisRequest, read_request
from opendcc.gbcs import codec
from opendcc.gbcs.codec import GbcsMessage, MessageKind, Verification
from opendcc.smki.keystore import KeyStore

TEMPLATES = REF / "duis" / "templates"
NOW = datetime(2014, 6, 1, tzinfo=UTC)
ZCL_NOW = int((NOW - datetime(2000, 1, 1, tzinfo=UTC)).total_seconds())
#: Template file stem -> the use case the authored form serves.
AUTHORED = {
    "CCS01_8.11_SUCCESS": "CCS01", "DBCH05_6.29_SUCCESS": "DBCH05",
    "CS06_11.3_FUTURE_DATED_SUCCESS": "CS06", "CS06_11.3_CANCELLATION_SUCCESS": "CS06",
    "CS02c_6.17_SUCCESS": "CS02c", "GCS39_7.3_SUCCESS": "GCS39",
    "GCS40a_1.5_SUCCESS": "GCS40a", "GCS25a_6.8_SUCCESS": "GCS25a",
}
DEVICE_TYPE = {"CCS01": "CHF", "DBCH05": "CHF", "CS06": "ESME", "CS02c": "ESME",
               "GCS39": "GSME", "GCS40a": "GSME", "GCS25a": "GSME", "GCS40b": "GSME"}


def _request(stem: str, edit: dict[str, str] | None = None,
             drop: str | None = None, add: tuple[str, str, str] | None = None) -> DuisRequest:
    root = parse_xml((TEMPLATES / f"{stem}_REQUEST_DUIS.XML").read_bytes())
    for name, text in (edit or {}).items():
        node = root.find(f".//{{{SR}}}{name}")
        assert node is not None, name
        node.text = text
    if drop is not None:
        node = root.find(f".//{{{SR}}}{drop}")
        assert node is not None
        parent = node.getparent()
        assert parent is not None
        parent.remove(node)
    if add is not None:
        parent_name, name, text = add
        holder = root.find(f".//{{{SR}}}{parent_name}")
        assert holder is not None
        child = etree.SubElement(holder, f"{{{SR}}}{name}")
        child.text = text
    return read_request(root)


def _send(request: DuisRequest, keys: KeyStore, use_case: str | None = None,
          device_type: str | None = None) -> tuple[Any, GbcsMessage]:
    result = transform(request, now=NOW, counter=4242, keys=keys, use_case=use_case,
                       device_type=device_type)
    return result, codec.decode(result.gbcs, keys)


def _payload(msg: GbcsMessage) -> Any:
    return codec.to_json(msg)["Payload"]["Decoded"]


def _fields(view: Any, component: int = 0) -> dict[str, Any]:
    fields: dict[str, Any] = view["components"][component]["zcl_frame"]["payload"]["fields"]
    return fields


@pytest.mark.parametrize("stem", sorted(AUTHORED))
def test_each_template_is_transformed_with_its_use_case_message_code_and_checks(
        stem: str, keys: KeyStore) -> None:
    request = _request(stem)
    use_case = AUTHORED[stem]
    result, msg = _send(request, keys, device_type=DEVICE_TYPE[use_case])
    assert result.use_case == use_case and msg.use_case.code == use_case
    assert msg.apdu.recipient == request.request_id.target
    if request.command_variant == 4:  # critical: a Pre-Command the SDK's correlation accepts
        assert msg.kind is MessageKind.PRECOMMAND and result.pre_command
        assert correlate(request, result.gbcs).passed
        signed = codec.sign_apdu(dataclasses.replace(msg.apdu, signature=bytes(64)), keys)
        finished = codec.decode(_finish(request, bytes(signed), keys), keys)
        assert finished.signature_check is Verification.VERIFIED
        assert finished.mac_check is Verification.VERIFIED
    else:  # non-critical: the DCC originates it for the user and MACs it for the device
        assert msg.kind is MessageKind.COMMAND and msg.mac_check is Verification.VERIFIED
        assert msg.apdu.other_information.remote_party_id == request.request_id.originator


def _finish(request: DuisRequest, signed: bytes, keys: KeyStore) -> bytes:
    """CV 5: the user sends the signed Pre-Command back (sr:SignedPreCommand)."""
    import base64

    root = etree.Element(f"{{{SR}}}Request", nsmap={"sr": SR})
    header = etree.SubElement(root, f"{{{SR}}}Header")
    rid = request.request_id
    for name, text in (("RequestID", str(rid)), ("CommandVariant", "5"),
                       ("ServiceReference", request.service_reference),
                       ("ServiceReferenceVariant", request.service_reference_variant)):
        etree.SubElement(header, f"{{{SR}}}{name}").text = text
    body = etree.SubElement(root, f"{{{SR}}}Body")
    pre = etree.SubElement(body, f"{{{SR}}}SignedPreCommand")
    etree.SubElement(pre, f"{{{SR}}}GBCSPayload").text = base64.b64encode(signed).decode()
    return finish_signed_precommand(read_request(root), keys=keys).gbcs


def test_ccs01_registers_the_device_with_its_install_code_and_join_time(keys: KeyStore) -> None:
    _, msg = _send(_request("CCS01_8.11_SUCCESS", {"JoinTimePeriod": "600",
                                                   "InstallCode": "A1B2C3D4E5F6"}), keys)
    view = _payload(msg)
    method = view["access_request_list_of_specification"][0]["cosem_method_descriptor"]
    assert (method["class_id"], method["instance_id"], method["method_id"]) == (
        104, "0-0:30.3.0.255", 1)
    ieee, key, timeout = view["access_request_list_of_data"][0]["elements"]
    assert ieee["value"] == "00db1234567890a0"
    assert key["value"] == "a1b2c3d4e5f6" and timeout["value"] == 600


def test_ccs02_removal_still_takes_the_learned_form(keys: KeyStore) -> None:
    result, _ = _send(_request("CCS02_8.11_SUCCESS"), keys)
    assert result.use_case == "CCS02"


def test_gcs39_arms_the_valve_at_once_and_asks_for_the_supply_status(keys: KeyStore) -> None:
    _, msg = _send(_request("GCS39_7.3_SUCCESS"), keys, device_type="GSME")
    component = _payload(msg)["components"][0]
    assert component["extended_header_cluster_id"] == 0x0702
    assert component["zcl_frame"]["payload"]["command"] == "metering/change-supply"
    fields = _fields(_payload(msg))
    assert fields["proposed_supply_status"] == 1 and fields["supply_control_bits"] == 1
    assert fields["implementation_date_time"] == 0
    assert fields["issuer_event_id"] == fields["request_date_time"] == ZCL_NOW


@pytest.mark.parametrize(("body", "kind", "value"), [
    ({"AdjustMeterBalance": "-1500"}, 0, -1500), ({"AdjustMeterBalance": "23130"}, 0, 23130)])
def test_gcs40a_adjusts_the_prepayment_balance_by_the_amount(
        body: dict[str, str], kind: int, value: int, keys: KeyStore) -> None:
    _, msg = _send(_request("GCS40a_1.5_SUCCESS", body), keys, device_type="GSME")
    fields = _fields(_payload(msg))
    assert (fields["credit_adjustment_type"], fields["credit_adjustment_value"]) == (kind, value)


def test_gcs40b_resets_the_prepayment_balance_to_zero(keys: KeyStore) -> None:
    request = _request("GCS40a_1.5_SUCCESS", drop="AdjustMeterBalance",
                       add=("PrepaymentMode", "ResetMeterBalance", ""))
    result, msg = _send(request, keys, device_type="GSME")
    assert result.use_case == "GCS40b" and msg.apdu.message_code == 0x00B4
    fields = _fields(_payload(msg))
    assert (fields["credit_adjustment_type"], fields["credit_adjustment_value"]) == (1, 0)


def test_credit_mode_adjustments_keep_the_learned_gcs40c(keys: KeyStore) -> None:
    result, _ = _send(_request("GCS40c_1.5_SUCCESS"), keys, device_type="GSME")
    assert result.use_case == "GCS40c"


@pytest.mark.parametrize(("periodicity", "duration", "kind"), [
    ("Daily", 1, 0x21), ("Weekly", 1, 0x22), ("Quarterly", 3, 0x23), ("SixMonthly", 6, 0x23),
    ("Yearly", 12, 0x23)])
def test_gcs25a_billing_period_follows_the_periodicity(
        periodicity: str, duration: int, kind: int, keys: KeyStore) -> None:
    request = _request("GCS25a_6.8_SUCCESS", {"Periodicity": periodicity,
                                             "BillingPeriodStart": "2016-04-01T00:00:00Z"})
    result, msg = _send(request, keys, device_type="GSME")
    assert result.use_case == "GCS25a"
    start = int((datetime(2016, 4, 1, tzinfo=UTC) - datetime(2000, 1, 1, tzinfo=UTC))
                .total_seconds())
    billing, block = _fields(_payload(msg), 0), _fields(_payload(msg), 1)
    assert (billing["billing_period_duration"], billing["billing_period_duration_type"]) == (
        duration, kind)
    assert (block["block_period_duration"], block["block_period_duration_type"]) == (duration, kind)
    assert billing["billing_period_start_time"] == block["block_period_start_time"] == start


def test_a_monthly_billing_calendar_keeps_the_learned_gcs25(keys: KeyStore) -> None:
    result, _ = _send(_request("GCS25a_6.8_SUCCESS", {"Periodicity": "Monthly"}), keys,
                      device_type="GSME")
    assert result.use_case == "GCS25"


def _asn1(msg: GbcsMessage) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("octets")) for e in _payload(msg)["elements"]}


def test_cs06_future_dated_carries_hash_counter_and_execution_time(keys: KeyStore) -> None:
    request = _request("CS06_11.3_FUTURE_DATED_SUCCESS")
    _, msg = _send(request, keys)
    values = _asn1(msg)
    assert values["manufacturerImageHash"] == (
        "aa758690730934ff0685aa758690730934ff0685657788990011223344556677")
    assert values["originatorCounter"] == msg.apdu.originator_counter == request.request_id.counter
    assert values["executionDateTime"] == "20300115090000Z"


def test_cs06_cancellation_and_immediate_activation(keys: KeyStore) -> None:
    _, cancel = _send(_request("CS06_11.3_CANCELLATION_SUCCESS"), keys)
    assert _asn1(cancel)["executionDateTime"] == "99991231235959Z"
    result, now = _send(_request("CS06_11.3_FUTURE_DATED_SUCCESS", drop="ExecutionDateTime"), keys)
    assert result.form == "CS06 11.3 IMMEDIATE AUTHORED"
    assert "executionDateTime" not in _asn1(now)


@pytest.mark.parametrize(("word", "octets"), [("Digital Signature", "80"), ("Key Agreement", "08")])
def test_cs02c_asks_for_the_credential_type(word: str, octets: str, keys: KeyStore) -> None:
    _, msg = _send(_request("CS02c_6.17_SUCCESS", {"CredentialType": word}), keys)
    assert _asn1(msg)["keyUsage"] == octets


def test_dbch05_sets_the_channel_scan_attribute(keys: KeyStore) -> None:
    _, msg = _send(_request("DBCH05_6.29_SUCCESS"), keys)
    view = _payload(msg)
    attribute = view["access_request_list_of_specification"][0]["cosem_attribute_descriptor"]
    assert (attribute["class_id"], attribute["instance_id"], attribute["attribute_id"]) == (
        1, "0-0:94.44.10.1", 2)
    assert msg.apdu.originator != msg.apdu.other_information.remote_party_id


def test_authored_forms_fill_gaps_only() -> None:
    tables = default_tables()
    for use_case in set(AUTHORED.values()) | {"GCS40b"}:
        forms = tables.for_use_case(use_case)
        assert forms and all(f.name.endswith("AUTHORED") for f in forms), use_case


@pytest.mark.parametrize("stem", sorted(AUTHORED))
def test_patched_skeleton_equals_the_rebuilt_one(stem: str, keys: KeyStore) -> None:
    """The fast path (patching the skeleton tree) builds the same payload as the JSON rebuild."""
    request = _request(stem)
    use_case = AUTHORED[stem]
    srv = load_catalogue().get(request.service_reference_variant)
    form = select_form(request, srv, keys=keys, use_case=use_case,
                       device_type=DEVICE_TYPE[use_case])
    sources = {**fields.leaves(request.body), "@counter": "1300", "@request_counter": "1000",
               "@originator": request.request_id.originator.hyphenated,
               "@target": request.request_id.target.hyphenated,
               "@sender": request.request_id.originator.hyphenated,
               "@now": "2014-06-01T00:00:00Z"}
    assert build_content(form, sources) == build_content(form, sources, fast=False)
