"""DUIS 5.4 §3: every kind of bad request gets its specified answer and changes nothing.

Each case checks the HTTP status, the DUIS response code where DUIS assigns one, that the
message names the problem, and that no counter moved and nothing was queued for delivery.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from gateway_support import (
    ESME,
    NETWORK_OPERATOR,
    SUPPLIER,
    last_counter,
    outbox_size,
    request_xml,
)
from lxml import etree

import dcctool
from opendcc.client.builder import SR_NS
from opendcc.config import reference_dir
from opendcc.duis.parser import parse_xml
from opendcc.duis.xmldsig import sign
from opendcc.gateway.wiring import Services
from opendcc.smki.keystore import KeyStore, load_certificate, load_private_key

SAMPLES = reference_dir() / "duis" / "samples"
INVENTORY = {"ReadInventory": {"DeviceID": ESME.hyphenated}}


def _tampered() -> bytes:
    return request_xml("8.2", INVENTORY).replace(b"90-A0</", b"90-A1</")


def _unknown_certificate() -> bytes:
    root = parse_xml(request_xml("8.2", INVENTORY))
    serial = root.find(".//{http://www.w3.org/2000/09/xmldsig#}X509SerialNumber")
    assert serial is not None
    serial.text = "1234567890"
    return etree.tostring(root)


def _expired_certificate() -> bytes:
    # The Z1-supplier-ds certificate of the same organisation expired on 2025-10-29.
    keys = reference_dir() / "keys"
    certificate = load_certificate((keys / "Z1-supplier-ds.pem").read_bytes())
    private_key = load_private_key((keys / "Z1-supplier-ds.key").read_bytes())
    root = parse_xml(request_xml("8.2", INVENTORY, signed=False))
    sign(root, private_key, certificate)
    return etree.tostring(root)


def _unknown_variant() -> bytes:
    return request_xml("8.2", INVENTORY).replace(
        b"<sr:ServiceReferenceVariant>8.2<", b"<sr:ServiceReferenceVariant>99.9<")


@dataclass(frozen=True)
class Case:
    name: str
    body: Callable[[], bytes]
    status: int
    code: str | None  # DUIS response code, or None where DUIS answers with HTTP alone
    says: str  # what the answer's message must name
    endpoint: str = "serviceD"
    content_type: str = "application/xml"


CASES = [
    Case("malformed XML", lambda: b"<sr:Request><sr:Header>", 400, None, "not well-formed"),
    Case("XXE entity expansion", lambda: (SAMPLES / "duis-xxe.xml").read_bytes(), 400, None,
         "DTD"),
    Case("schema-invalid sample",
         lambda: (SAMPLES / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS-invalid.XML").read_bytes(),
         400, None, "Schema", endpoint="serviceS"),
    Case("unsigned", lambda: request_xml("8.2", INVENTORY, signed=False), 401, None,
         "no ds:Signature"),
    Case("bad signature", _tampered, 401, None, "digest"),
    Case("signer not originator",
         lambda: request_xml("8.2", INVENTORY, originator=NETWORK_OPERATOR, signer=SUPPLIER),
         200, "E1", "not the signer"),
    Case("unknown certificate", _unknown_certificate, 401, None, "1234567890"),
    Case("expired certificate", _expired_certificate, 401, None, "2025"),
    Case("role not eligible",
         lambda: request_xml("8.3", {"DecommissionDevice": {"DeviceID": ESME.hyphenated}},
                             originator=NETWORK_OPERATOR), 200, "E2", "8.3"),
    Case("unknown SRV variant", _unknown_variant, 400, None, "99.9"),
    Case("oversize body", lambda: b"<x>" + b" " * 2_000_000 + b"</x>", 413, None, "limit"),
    Case("wrong content type", lambda: request_xml("8.2", INVENTORY), 415, None,
         "application/xml", content_type="text/plain"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_request_gets_its_specified_answer_and_changes_nothing(
    case: Case, http: TestClient, services: Services
) -> None:
    before = (last_counter(services, SUPPLIER), last_counter(services, NETWORK_OPERATOR))
    reply = http.post(f"/api/v1/{case.endpoint}", content=case.body(),
                      headers={"Content-Type": case.content_type})
    assert reply.status_code == case.status, reply.text
    if case.code is None:
        assert reply.headers["content-type"].startswith("text/plain")
        assert case.says in reply.text
    else:
        root = etree.fromstring(reply.content)
        assert root.findtext(f"{{{SR_NS}}}Header/{{{SR_NS}}}ResponseCode") == case.code
    assert (last_counter(services, SUPPLIER), last_counter(services, NETWORK_OPERATOR)) == before
    assert outbox_size(services) == 0


def test_a_replayed_counter_is_rejected(http: TestClient, services: Services) -> None:
    first = request_xml("8.2", INVENTORY, counter=500)
    assert http.post("/api/v1/serviceD", content=first,
                     headers={"Content-Type": "application/xml"}).status_code == 200
    again = http.post("/api/v1/serviceD", content=first, headers={"Content-Type": "application/xml"})
    assert again.status_code == 409
    assert "500" in again.text
    assert last_counter(services, SUPPLIER) == 500


def test_a_lower_counter_is_rejected(http: TestClient, services: Services) -> None:
    headers = {"Content-Type": "application/xml"}
    assert http.post("/api/v1/serviceD", content=request_xml("8.2", INVENTORY, counter=500),
                     headers=headers).status_code == 200
    lower = http.post("/api/v1/serviceD", content=request_xml("8.2", INVENTORY, counter=499),
                      headers=headers)
    assert lower.status_code == 409
    assert "499" in lower.text
    assert last_counter(services, SUPPLIER) == 500


def test_a_revoked_certificate_is_rejected(http: TestClient, services: Services) -> None:
    cred = KeyStore.from_reference().xml_signing(SUPPLIER)
    assert cred is not None and services.repository is not None
    services.repository.revoke(cred.serial, at=datetime(2026, 1, 1, tzinfo=UTC),
                               reason="keyCompromise")
    reply = http.post("/api/v1/serviceD", content=request_xml("8.2", INVENTORY),
                      headers={"Content-Type": "application/xml"})
    assert reply.status_code == 401
    assert "revoked" in reply.text
    assert last_counter(services, SUPPLIER) is None


@pytest.mark.java
@pytest.mark.parametrize("case", [c for c in CASES if c.code is not None], ids=lambda c: c.name)
def test_every_signed_error_answer_passes_the_dcc_tool(case: Case, http: TestClient) -> None:
    reply = http.post(f"/api/v1/{case.endpoint}", content=case.body(),
                      headers={"Content-Type": case.content_type})
    ok, diagnostics = dcctool.validate(reply.content)
    assert ok, diagnostics


def test_a_response_document_is_not_a_request(http: TestClient) -> None:
    sample = (SAMPLES / "read-inventory-response-5.4.xml").read_bytes()
    reply = http.post("/api/v1/serviceD", content=sample, headers={"Content-Type": "application/xml"})
    assert reply.status_code == 400
    assert "sr:Request" in reply.text or "Signature" in reply.text

