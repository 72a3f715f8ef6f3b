"""ESME use cases without an RTDS Command vector: the Transform builds their commands from the
forms written from GBCS (`core.transform.authored.electricity`), for every DUIS template of
them; the command decodes, a non-critical one carries a MAC that verifies, a critical one is
a Pre-Command that, signed by the user, is MACed for the device; and the DUIS values the
forms bind reach the payload (a changed request value changes the commanded value)."""

from __future__ import annotations

import base64
import copy
import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from opendcc.config import reference_dir
from opendcc.core.transform import finish_signed_precommand, transform
from opendcc.core.transform.authored.electricity import forms
from opendcc.core.transform.learn import load_command_data
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.duis.response_codes import DuisError
from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.smki.keystore import KeyStore

NOW = datetime(2014, 6, 1, tzinfo=UTC)
DCC_COUNTER = 10**13
SR = "{http://www.dccinterface.co.uk/ServiceUserGateway}"
#: The learned forms, whose sibling use cases some authored forms take objects from.
LEARNED = load_command_data(reference_dir().resolve())[0]["forms"]
AUTHORED = sorted({f["use_case"] for f in forms(LEARNED)})
TEMPLATES = sorted(p for p in (reference_dir() / "duis" / "templates").glob("*.XML")
                   if p.name.split("_")[0] in AUTHORED)


def _request(path: Path, edit: dict[str, str] | None = None) -> DuisRequest:
    return read_request(_root(path, edit))


def _root(path: Path, edit: dict[str, str] | None = None) -> etree._Element:
    root = parse_xml(path.read_bytes())
    body = root.find(f"{SR}Body")
    assert body is not None
    for step_path, text in (edit or {}).items():
        node = body[0]
        for step in step_path.split("/"):
            name, _, number = step.partition("[")
            found = [c for c in node if etree.QName(c).localname == name]
            node = found[int(number.rstrip("]")) - 1 if number else 0]
        node.text = text
    return root


def _command(path: Path, keys: KeyStore, edit: dict[str, str] | None = None) -> codec.GbcsMessage:
    """The command for a template (a Pre-Command signed by its user, then MACed by the DCC)."""
    result = transform(_request(path, edit), now=NOW, counter=DCC_COUNTER, keys=keys,
                       device_type="ESME")
    msg = codec.decode(result.gbcs, keys)
    if result.pre_command:
        assert msg.kind is MessageKind.PRECOMMAND
        signed = codec.sign_apdu(dataclasses.replace(msg.apdu, signature=bytes(64)), keys)
        result = finish_signed_precommand(_signed(_root(path, edit), bytes(signed)), keys=keys)
        msg = codec.decode(result.gbcs, keys)
        assert msg.signature_check is Verification.VERIFIED
    assert msg.kind is MessageKind.COMMAND and msg.mac_check is Verification.VERIFIED
    return msg


def _signed(root: etree._Element, gbcs: bytes) -> DuisRequest:
    """The CV 5 request carrying the user-signed Pre-Command (DUIS 5.4 §3.2)."""
    root.find(f"{SR}Header/{SR}CommandVariant").text = "5"  # type: ignore[union-attr]
    body = root.find(f"{SR}Body")
    assert body is not None
    for child in list(body):
        body.remove(child)
    holder = etree.SubElement(body, f"{SR}SignedPreCommand")
    etree.SubElement(holder, f"{SR}GBCSPayload").text = base64.b64encode(gbcs).decode()
    return read_request(root)


def _values(msg: codec.GbcsMessage) -> list[Any]:
    view = codec.to_json(msg)["Payload"]["Decoded"]
    return list(view["access_request_list_of_data"])


def _specs(msg: codec.GbcsMessage) -> list[tuple[int, str, int]]:
    view = codec.to_json(msg)["Payload"]["Decoded"]
    out = []
    for spec in view["access_request_list_of_specification"]:
        d = spec.get("cosem_attribute_descriptor") or spec.get("cosem_method_descriptor")
        out.append((d["class_id"], d["instance_id"], d.get("attribute_id", d.get("method_id"))))
    return out


def test_every_authored_use_case_but_the_other_6_5_variants_has_a_template() -> None:
    # ECS29a/c/d are authored so that SRV 6.5 requests choose their own variant (below).
    assert {p.name.split("_")[0] for p in TEMPLATES} == set(AUTHORED) - {"ECS29a", "ECS29c", "ECS29d"}


def _voltage_variant(single: bool, not_reset: bool) -> etree._Element:
    """The ECS29b template turned into another SRV 6.5 variant (DUIS: a choice of single-phase
    or three polyphase settings, and RMSVoltageCountersNotReset)."""
    root = _root(next(p for p in TEMPLATES if p.name.startswith("ECS29b_")))
    body = root.find(f"{SR}Body")
    assert body is not None
    srv = body[0]
    poly = [c for c in srv if etree.QName(c).localname == "PolyPhaseVoltageSettings"]
    if single:
        settings = poly[0].find(f"{SR}PhaseVoltageSettings")
        assert settings is not None
        settings.tag = f"{SR}SinglePhaseVoltageSettings"
        poly[0].addprevious(settings)
        for item in poly:
            srv.remove(item)
    if not_reset:
        etree.SubElement(srv, f"{SR}RMSVoltageCountersNotReset")
    return root


@pytest.mark.parametrize(("single", "not_reset", "use_case", "phases", "resets"), [
    (True, False, "ECS29a", 1, 2), (False, False, "ECS29b", 3, 6),
    (True, True, "ECS29c", 1, 0), (False, True, "ECS29d", 3, 0)])
def test_a_6_5_request_gets_the_command_of_its_variant(single: bool, not_reset: bool, use_case: str,
                                                       phases: int, resets: int,
                                                       keys: KeyStore) -> None:
    request = read_request(_voltage_variant(single, not_reset))
    result = transform(request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type="ESME")
    msg = codec.decode(result.gbcs, keys)
    assert msg.use_case.code == use_case
    specs = _specs(msg)
    assert sum(1 for s in specs if s[0] == 7) == phases
    assert sum(1 for s in specs if s[0] == 3) == resets
    over = [v["value"] for (c, o, _), v in zip(specs, _values(msg), strict=True)
            if c == 1 and o.split(":")[1].split(".")[1] == "35"]  # Blue Book D 35: over threshold
    assert over == ([264] if single else [264, 126, 126])


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.stem)
def test_template_transforms_to_a_command_of_its_use_case(path: Path, keys: KeyStore) -> None:
    request = _request(path)
    msg = _command(path, keys)
    assert msg.use_case.code == path.name.split("_")[0]
    assert msg.apdu.recipient == request.request_id.target
    assert msg.apdu.originator == request.request_id.originator
    assert _values(msg), "the payload decodes to a DLMS access-request"


def test_ecs57_resets_only_the_registers_the_request_names(keys: KeyStore) -> None:
    [all_, some] = [p for p in TEMPLATES if p.name.startswith("ECS57")]
    every = _specs(_command(all_, keys))
    assert [s[1] for s in every][:2] == ["1-0:1.6.0.255", "1-0:2.6.0.255"]  # Blue Book
    assert len(every) == 3 and every[2] in _read_by("ECS18b", 4, method=1)
    assert _specs(_command(some, keys)) == [every[2]]


def _read_by(use_case: str, class_id: int, *, method: int) -> list[tuple[int, str, int]]:
    """(class, OBIS, `method`) of each object of that class the learned form of `use_case` names."""
    return [(class_id, d["instance_id"], method)
            for f in LEARNED if f["use_case"] == use_case
            for spec in f["payload"]["access_request_list_of_specification"]
            for d in [spec.get("cosem_attribute_descriptor") or spec.get("cosem_method_descriptor")]
            if d["class_id"] == class_id]


def _learned_requests(use_case: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    [form, *_] = [f for f in LEARNED if f["use_case"] == use_case]
    payload = form["payload"]
    return list(zip(payload["access_request_list_of_specification"],
                    payload["access_request_list_of_data"], strict=True))


@pytest.mark.parametrize("dating", ["IMMEDIATE", "FUTURE_DATED", "CANCELLATION"])
def test_ecs02_sets_the_account_ecs03_sets_to_credit_mode(dating: str, keys: KeyStore) -> None:
    """SRV 1.6 `Credit` is ECS02 (0x001A): ECS03's Account (learned) with payment_mode 1
    (credit, Blue Book class 111) and its activation time: all zero now, the execution time
    when future-dated, all 0xFF to cancel; none of ECS03's prepayment settings."""
    [path] = [p for p in TEMPLATES if p.name.startswith(f"ECS02_1.6_{dating}")]
    msg = _command(path, keys)
    assert msg.use_case.code == "ECS02" and msg.apdu.message_code == 0x001A
    account = {o for (c, o, _a) in _read_by("ECS03", 111, method=0)}
    specs, values = _specs(msg), _values(msg)
    assert [(c, a) for c, _o, a in specs] == [(111, 2), (111, 13)]
    assert {o for _c, o, _a in specs} == account
    assert values[0]["elements"][0] == {"@type": "enum", "value": 1}
    activation = bytes.fromhex(values[1]["value"])
    if dating == "IMMEDIATE":
        assert not any(activation[:9])
    elif dating == "CANCELLATION":
        assert all(b == 0xFF for b in activation[:9])
    else:
        assert activation[:2] == (2030).to_bytes(2, "big") and activation[2:4] == bytes([1, 15])


def test_a_prepayment_request_is_still_ecs03(keys: KeyStore) -> None:
    [path] = [p for p in (reference_dir() / "duis" / "templates").glob("ECS03_1.6_IMMEDIATE*")]
    msg = _command(path, keys)
    assert msg.use_case.code == "ECS03"


def test_forms_taken_from_a_sibling_are_left_out_without_it() -> None:
    """No learned sibling, no form (the use case stays not tabulated), never a stale value."""
    alone = {f["use_case"] for f in forms([])}
    assert alone.isdisjoint({"ECS02", "ECS44", "ECS37", "ECS39b", "ECS27", "ECS22a", "ECS29b"})
    assert {"ECS48", "ECS17c", "ECS26c"} <= alone


def test_arm_runs_the_script_after_those_enable_and_disable_run() -> None:
    """The arm script identifier is derived at run time from ECS42 / ECS43 (a documented
    guess), not written into the source: other learned numbers give another arm script."""
    learned = [f for f in LEARNED if f["use_case"] in ("ECS42", "ECS43")]
    scripts = [data["value"] for u in ("ECS42", "ECS43") for spec, data in _learned_requests(u)
               if spec["@type"] == "access-request-action"]
    [arm] = [f for f in forms(learned) if f["use_case"] == "ECS44"]
    assert arm["payload"]["access_request_list_of_data"][0]["value"] == max(scripts) + 1
    shifted = copy.deepcopy(learned)
    for f in shifted:
        f["payload"]["access_request_list_of_data"][0]["value"] += 100
    [arm] = [f for f in forms(shifted) if f["use_case"] == "ECS44"]
    assert arm["payload"]["access_request_list_of_data"][0]["value"] == max(scripts) + 101


#: Template, a body value to change, and the payload value it must become.
EDITS = [
    ("ECS39b", {"ExportMPAN": "1099999999999"}, "31303939393939393939393939"),
    ("ECS37", {"MaximumDemandTimePeriodSchedule/StartTime": "16:30:00.00Z"}, "101e00"),
    ("ECS48", {"DailyTariffBlockCounterMatrixReset": "false"}, 0),
    ("ECS29b", {"PolyPhaseVoltageSettings[2]/PhaseVoltageSettings/AverageRMSOverVoltageThreshold":
                "130"}, 130),
    ("ECS22a", {"ReadLogPeriod/StartDateTime": "2014-10-01T10:00:00.00Z"}, 465472800),
]


@pytest.mark.parametrize(("use_case", "edit", "expected"), EDITS, ids=[e[0] for e in EDITS])
def test_a_changed_request_value_changes_the_commanded_value(use_case: str, edit: dict[str, str],
                                                             expected: Any, keys: KeyStore) -> None:
    [path] = [p for p in TEMPLATES if p.name.startswith(use_case + "_")]
    before = codec.to_json(_command(path, keys))["Payload"]["Decoded"]
    after = codec.to_json(_command(path, keys, edit))["Payload"]["Decoded"]
    changed = _diff(before, after)
    assert changed, "the edited value must reach the payload"
    assert any(v == expected or (isinstance(v, str) and isinstance(expected, str)
                                 and v.startswith(expected)) for v in changed), changed


def _diff(a: Any, b: Any) -> list[Any]:
    """The leaves of `b` that differ from `a` (same structure)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [x for k in b if k != "long_invoke_id_and_priority" for x in _diff(a.get(k), b[k])]
    if isinstance(a, list) and isinstance(b, list):
        return [x for u, v in zip(a, b, strict=True) for x in _diff(u, v)]
    return [] if a == b else [b]


def test_a_value_that_is_not_an_xs_boolean_is_refused(keys: KeyStore) -> None:
    [path] = [p for p in TEMPLATES if p.name.startswith("ECS48_")]
    with pytest.raises(DuisError):
        transform(_request(path, {"DailyTariffBlockCounterMatrixReset": "maybe"}), now=NOW,
                  counter=DCC_COUNTER, keys=keys, device_type="ESME")


def test_forms_name_their_message_codes_from_the_use_case_table() -> None:
    for form in forms(LEARNED):
        assert USE_CASE_BY_CODE[int(form["message_code"], 16)] == form["use_case"], form["name"]
        assert re.fullmatch(r"[0-9A-F]{4}", form["message_code"])
