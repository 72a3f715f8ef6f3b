"""Response forms: learned from the RTDS vectors in the reference folder at run time, with no
value of the vectors kept, and a clear error naming OPENDCC_REFERENCE where there is none."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from devices.gbcs.sites import Site
from opendcc.devices.gbcs import UnsupportedUseCase
from opendcc.devices.gbcs.errors import ResponseFormsUnavailable
from opendcc.devices.gbcs.forms import RTDS, built_form, forms, learn_response_forms, neutral
from opendcc.devices.gbcs.settings import served as is_served
from opendcc.devices.gbcs.templates import shape, shape_key
from opendcc.gbcs import decode
from opendcc.gbcs.payloads import payload_json

PACKAGE = Path(__file__).resolve().parents[3] / "src" / "opendcc" / "devices" / "gbcs"


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for k, v in node.items() if k != "@type" for leaf in _leaves(v)]
    if isinstance(node, list):
        return [leaf for v in node for leaf in _leaves(v)]
    return [node]


def test_every_served_use_case_with_rtds_pairs_has_a_form(reference: Path) -> None:
    served = {decode(bytes.fromhex(p.read_text().strip())).use_case.code
              for p in (reference / RTDS).glob("*/*_COMMAND_GBCS.HEX")
              if p.with_name(p.name.replace("_COMMAND_", "_RESPONSE_")).exists()}
    learned = forms()
    assert {code for code in served if is_served(code)} == set(learned)
    print(f"\n{sum(len(v) for v in learned.values())} forms for {len(learned)} use cases")


def test_forms_keep_no_value_of_the_vectors() -> None:
    for rows in forms().values():
        for form in rows:
            assert neutral(form.payload) == form.payload, f"{form.use_case}: already neutral"


def test_no_long_vector_octets_survive_in_any_form(reference: Path) -> None:
    """Every octet-string of 8 or more octets in an RTDS Response (device IDs, system titles,
    log entries, ciphertexts) is absent from the learned forms, unless it is all zeros or
    0xFF or a COSEM object definition GBCS fixes."""
    text = json.dumps({code: [f.payload for f in rows] for code, rows in forms().items()})
    for path in sorted((reference / RTDS).glob("*/*_RESPONSE_GBCS.HEX")):
        response = decode(bytes.fromhex(path.read_text().strip()))
        for leaf in _leaves(payload_json(response.payload)):
            if isinstance(leaf, str) and len(leaf) >= 16 and set(leaf) - set("0f"):
                try:
                    bytes.fromhex(leaf)
                except ValueError:
                    continue
                assert f'"{leaf}"' not in text, f"{path.name}: {leaf} leaked into a form"


def test_no_learned_data_is_kept_in_the_package() -> None:
    assert not list(PACKAGE.glob("*.json"))


def test_without_a_reference_folder_the_error_names_opendcc_reference(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENDCC_REFERENCE", str(tmp_path))
    with pytest.raises(ResponseFormsUnavailable, match="OPENDCC_REFERENCE"):
        forms()


def test_the_endpoint_refuses_commands_clearly_without_a_reference_folder(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: Path) -> None:
    path = sorted((reference / RTDS).glob("*/ECS17b_*SUCCESS*_COMMAND_GBCS.HEX"))[0]
    command = site.command(decode(bytes.fromhex(path.read_text().strip())))
    monkeypatch.setenv("OPENDCC_REFERENCE", str(tmp_path))
    with pytest.raises(UnsupportedUseCase, match="OPENDCC_REFERENCE"):
        site.endpoint.handle(command)


def _built_cases(reference: Path) -> list[tuple[str, Any, bool]]:
    out = []
    for path in sorted((reference / RTDS).glob("*/*_SUCCESS_COMMAND_GBCS.HEX")):
        command = decode(bytes.fromhex(path.read_text().strip()))
        if is_served(command.use_case.code):
            out.append((command.use_case.code, payload_json(command.payload),
                        bool(command.apdu.signature)))
    return out


def test_forms_built_from_gbcs_match_the_rtds_responses(reference: Path) -> None:
    """Every RTDS success command whose Response opendcc builds without the vectors (DLMS
    sets and actions returning nothing): the built form has the structure, signing and
    dating of the RTDS Response."""
    built = 0
    for code, view, critical in _built_cases(reference):
        form = built_form(code, view, critical=critical)
        if form is None:
            continue
        [learned] = [f for f in forms()[code] if f.success and f.command_shape == shape_key(view)]
        assert (shape(form.payload), form.signed, form.dated) == \
            (shape(learned.payload), learned.signed, learned.dated), code
        built += 1
    print(f"\n{built} RTDS success commands answered with forms built from GBCS")
    assert built


def test_a_built_form_needs_no_reference_folder(
        site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reference: Path) -> None:
    """ECS43 (supply enable, a DLMS action) is answered with no reference folder at all."""
    path = sorted((reference / RTDS).glob("*/ECS43_*_SUCCESS_COMMAND_GBCS.HEX"))[0]
    command = site.command(decode(bytes.fromhex(path.read_text().strip())))
    monkeypatch.setenv("OPENDCC_REFERENCE", str(tmp_path))
    answer = site.endpoint.answer(command)
    assert answer.executed and answer.use_case == "ECS43"


def test_learning_reads_the_folder_it_is_given(reference: Path) -> None:
    assert learn_response_forms(reference) == forms()
