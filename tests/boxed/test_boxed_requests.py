"""Requests signed by the published DCC Boxed signer (`@smartdcc/duis-sign-wrap` `signDuis`) are
accepted by the running gateway on all three DCC Boxed endpoints, and every synchronous answer
passes the same client's `validateDuis` and `@smartdcc/duis-parser`."""

from __future__ import annotations

from pathlib import Path

import pytest
from boxed_support import (
    ESME,
    SUPPLIER,
    Server,
    check_with_clients,
    request_id_of,
    response_code,
    sign_with_duis_sign_wrap,
    unsigned_template,
)
from lxml import etree

from opendcc.client.builder import build_request
from opendcc.duis.catalogue import load_catalogue
from opendcc.gateway.wiring import DCC_ID
from opendcc.ids import RequestID

pytestmark = [pytest.mark.java]


def _read_inventory() -> bytes:
    """SRV 8.2 (no RTDS template): built as a DCC Boxed user's tooling would, left unsigned."""
    root = build_request(RequestID(SUPPLIER, DCC_ID, 1), load_catalogue().get("8.2"), 8,
                         {"ReadInventory": {"DeviceID": ESME.hyphenated}})
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# (what, endpoint, unsigned request, codes meaning "accepted", body kind duis-parser must see)
CASES = [
    ("non-device SRV 8.2 Read Inventory (CV 8)", "serviceD", _read_inventory(),
     {"I0"}, {"DSPInventory"}),
    ("device SRV 4.1.1 Read Instantaneous Import Registers (CV 1)", "serviceS",
     unsigned_template("ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML"), {"I99"}, {"NoBody"}),
    # Critical: the gateway does not return Pre-Commands yet. E20 ("unable to communicate")
    # comes from the Data Service, i.e. after signature, replay and access checks passed.
    # (GCS05: SRV 2.1 to an ESME is ECS08a, which has no command form yet, see docs/transform.md)
    ("critical SRV 2.1 Update Prepay Configuration (CV 4)", "serviceT",
     unsigned_template("GCS05_2.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"), {"I0", "E20"},
     {"PreCommand", "NoBody"}),
]


@pytest.fixture(scope="module")
def answers(boxed_clients: Path, boxed_server: Server) -> list[tuple[bytes, bytes, int]]:
    """Each case signed by duis-sign-wrap (in order, so the tool's ms counters rise) and sent."""
    signed = sign_with_duis_sign_wrap([case[2] for case in CASES])
    out = []
    for (_, endpoint, *_rest), request in zip(CASES, signed, strict=True):
        reply = boxed_server.post(endpoint, request)
        out.append((request, reply.content, reply.status_code))
    return out


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c[1] for c in CASES])
def test_requests_signed_by_duis_sign_wrap_are_accepted(
        index: int, answers: list[tuple[bytes, bytes, int]]) -> None:
    what, _endpoint, _unsigned, accepted, _kinds = CASES[index]
    request, reply, status = answers[index]
    assert status == 200, f"{what}: HTTP {status} {reply[:300]!r}"
    assert response_code(reply) in accepted, f"{what}: {reply[:600]!r}"
    assert request_id_of(reply) == request_id_of(request)


def test_synchronous_answers_pass_the_dcc_boxed_clients(
        answers: list[tuple[bytes, bytes, int]]) -> None:
    results = check_with_clients([reply for _, reply, _ in answers])
    for (what, _e, _u, _a, kinds), result in zip(CASES, results, strict=True):
        assert result["valid"], f"{what}: validateDuis refused: {result.get('error')}"
        assert result["parsed"] and result["isResponse"], f"{what}: {result}"
        assert result["kind"] in kinds, f"{what}: duis-parser sees {result['kind']}"
