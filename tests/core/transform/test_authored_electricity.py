"""ESME use cases without an RTDS Command vector: the Transform builds their commands from the
forms written from GBCS (`core.transform.authored.electricity`), for every DUIS template of
them; the command decodes, a non-critical one carries a MAC that verifies, a critical one is
a Pre-Command that, signed by the user, is MACed for the device; and the DUIS values the
forms bind reach the payload (a changed request value changes the commanded value)."""

from __future__ import annotations

import base64
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
AUTHORED = sorted({f["use_case"] for f in forms()})
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
            if (c, o[-6:]) == (1, "35.0.4")]
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
    assert [s[1] for s in _specs(_command(all_, keys))] == [
        "1-0:1.6.0.255", "1-0:2.6.0.255", "1-0:1.6.1.255"]
    assert _specs(_command(some, keys)) == [(4, "1-0:1.6.1.255", 1)]


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
    for form in forms():
        assert USE_CASE_BY_CODE[int(form["message_code"], 16)] == form["use_case"], form["name"]
        assert re.fullmatch(r"[0-9A-F]{4}", form["message_code"])
