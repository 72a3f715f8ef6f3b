"""Every kind of DUIS response opendcc sends passes the published DCC Boxed clients:
`@smartdcc/duis-sign-wrap` `validateDuis` (schema and the DCC's signature) and
`@smartdcc/duis-parser` `parseDuis('simplified')`.

The synchronous acknowledgement, the DCC-only response (8.2) and the E-code answers come from
the live gateway (test_boxed_requests.py, test_boxed_delivery.py). The kinds below are not
produced by the running gateway yet (no transform or device layer is wired to it): they are
built here with the gateway's own builder around RTDS vectors and signed by its own DCC signer
(see boxed_support), the way the gateway will send them:

| kind | DUIS body | source |
| --- | --- | --- |
| transform Pre-Command (CV 4) | ResponseMessage/PreCommand | built, RTDS PRECOMMAND |
| async device response | ResponseMessage/GBCSPayload | built, RTDS RESPONSE |
| future-dated outcome | ResponseMessage/FutureDatedDeviceAlertMessage | built, RTDS 8F66/8F67 |
| device alert | DeviceAlertMessage | built, RTDS ALERT |
| DCC alert | DCCAlertMessage (AD1) | built |

Device responses and alerts are also delivered through the gateway's `Services.deliver` to a
receiver running the clients (test_boxed_delivery.py). One of each goes through the Node
clients exactly as a DCC Boxed user runs them (one JVM per
`validateDuis`). The sweeps over whole RTDS folders check the signature with the same jar
(`dcc-xmldsig.jar`, byte-identical to duis-sign-wrap's `dist/tool.jar`, asserted) kept in one
JVM, and parse every document with duis-parser.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from boxed_support import (
    NODE_DIR,
    SUPPLIER,
    Vector,
    alert_code_of,
    check_with_clients,
    dcc_alert,
    dcc_signer,
    device_alert,
    device_response,
    future_dated_alert,
    now,
    parse_with_duis_parser,
    precommand_response,
    vectors,
)
from lxml import etree

import dcctool
from opendcc.config import reference_dir

pytestmark = [pytest.mark.java]

Build = Callable[[Vector, datetime], etree._Element]
KINDS: dict[str, tuple[str, Build, str]] = {
    # kind: (RTDS vector kind, builder, the body duis-parser must recognise)
    "PreCommand": ("PRECOMMAND", precommand_response, "PreCommand"),
    "device response": ("RESPONSE", device_response, "GBCSPayload"),
    "future-dated outcome": ("FUTURE_DATED", future_dated_alert, "FutureDatedDeviceAlertMessage"),
    "device alert": ("ALERT", lambda v, at: device_alert(v, alert_code_of(v), at),
                     "DeviceAlertMessage"),
}
REPRESENTATIVES = {
    "PreCommand": "ECS08_2.1_IMMEDIATE_SUCCESS_PRECOMMAND_GBCS.HEX",
    "device response": "ECS17b_4.1.1_SINGLE_SUCCESS_RESPONSE_GBCS.HEX",
    "future-dated outcome": "ECS08_2.1_8F66_FUTURE_DATED_SUCCESS_ALERT_CALENDAR_GBCS.HEX",
    "device alert": "ECS80_NA_8F36_ALERT_GBCS.HEX",
}


def _deliverable(kind: str) -> list[Vector]:
    """The RTDS vectors of a kind that DUIS carries (device responses need an SRV)."""
    found = vectors(KINDS[kind][0])
    return [v for v in found if v.srv is not None] if kind != "device alert" else found


def _signed(kind: str, vector: Vector) -> bytes:
    return dcc_signer().sign(KINDS[kind][1](vector, now()))


def test_duis_sign_wrap_bundles_the_dcc_tool_used_for_the_sweeps(boxed_clients: Path) -> None:
    bundled = NODE_DIR / "node_modules" / "@smartdcc" / "duis-sign-wrap" / "dist" / "tool.jar"
    reference = reference_dir() / "tools" / "dcc-xmldsig.jar"
    assert hashlib.sha256(bundled.read_bytes()).digest() == \
        hashlib.sha256(reference.read_bytes()).digest()


def test_one_of_every_kind_passes_validate_duis_and_parse_duis(boxed_clients: Path) -> None:
    documents: dict[str, bytes] = {}
    for kind, name in REPRESENTATIVES.items():
        (vector,) = [v for v in _deliverable(kind) if v.name == name]
        documents[kind] = _signed(kind, vector)
    documents["DCC alert"] = dcc_signer().sign(dcc_alert(SUPPLIER, 1, now()))
    expected = {**{k: v[2] for k, v in KINDS.items()}, "DCC alert": "DCCAlertMessage"}
    results = check_with_clients(list(documents.values()))
    for kind, result in zip(documents, results, strict=True):
        assert result["valid"], f"{kind}: validateDuis refused: {result.get('error')}"
        assert result["parsed"] and result["isResponse"], f"{kind}: {result}"
        assert result["kind"] == expected[kind], f"{kind}: duis-parser sees {result['kind']}"
        assert result["responseCode"] == "I0"


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_rtds_vector_of_a_kind_makes_a_response_the_clients_accept(
        kind: str, boxed_clients: Path) -> None:
    found = _deliverable(kind)
    assert found, f"no RTDS vectors for {kind}"
    documents = [_signed(kind, v) for v in found]
    refused = [(v.name, why) for v, doc in zip(found, documents, strict=True)
               for ok, why in [dcctool.validate(doc)] if not ok]
    assert not refused, f"{len(refused)}/{len(found)} refused by the DCC tool: {refused[:3]}"
    parsed = parse_with_duis_parser(documents)
    wrong = [(v.name, r) for v, r in zip(found, parsed, strict=True)
             if not (r["parsed"] and r["isResponse"] and r["kind"] == KINDS[kind][2])]
    assert not wrong, f"{len(wrong)}/{len(found)} not parsed as {KINDS[kind][2]}: {wrong[:3]}"
