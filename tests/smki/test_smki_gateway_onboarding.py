"""Acceptance: a supplier given new keys with `opendcc smki issue` signs DUIS that the gateway
accepts; once `opendcc smki revoke` ran in another process, its next request is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from typer.testing import CliRunner

from opendcc.cli.main import app as cli
from opendcc.client.builder import build_request
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.xmldsig import sign
from opendcc.gateway.app import create_app
from opendcc.gateway.wiring import GatewayConfig, Services, build_services
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import load_certificate, load_private_key

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")  # a ZAZ1 supplier user of the demo estate
DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
runner = CliRunner()


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[Services, TestClient]]:
    services = build_services(GatewayConfig(store_url="sqlite://",
                                            smki_url=str(tmp_path / "smki.sqlite3")))
    yield services, TestClient(create_app(services=services))
    services.close()


def _read_inventory(counter: int, key: Path, cert: Path) -> bytes:
    srv = load_catalogue().get("8.2")
    root = build_request(RequestID(SUPPLIER, DCC, counter), srv, 8,
                         {"ReadInventory": {"DeviceID": ESME.hyphenated}})
    sign(root, load_private_key(key.read_bytes()), load_certificate(cert.read_bytes()))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _response_code(body: bytes) -> str:
    root = parse_xml(body)
    code = root.find(".//{*}ResponseCode")
    assert code is not None and code.text
    return code.text


def test_supplier_onboarded_with_new_keys_is_accepted_until_revoked(
        gateway: tuple[Services, TestClient], tmp_path: Path) -> None:
    _, http = gateway
    repository = str(tmp_path / "smki.sqlite3")
    issued = runner.invoke(cli, ["smki", "issue", "--entity", str(SUPPLIER), "--role", "xml-sign",
                                 "--usage", "ds", "--out", str(tmp_path), "--repository", repository])
    assert issued.exit_code == 0, issued.output
    cert = tmp_path / f"{SUPPLIER.lower}-xml-sign-ds.pem"
    key = tmp_path / f"{SUPPLIER.lower}-xml-sign-ds.key"

    reply = http.post("/api/v1/serviceD", content=_read_inventory(1, key, cert),
                      headers={"Content-Type": "application/xml"})
    assert reply.status_code == 200, (reply.status_code, reply.text)
    assert _response_code(reply.content) == "I0", reply.text

    serial = format(load_certificate(cert.read_bytes()).serial_number, "X")
    revoked = runner.invoke(cli, ["smki", "revoke", serial, "--repository", repository])
    assert revoked.exit_code == 0, revoked.output
    reply = http.post("/api/v1/serviceD", content=_read_inventory(2, key, cert),
                      headers={"Content-Type": "application/xml"})
    assert reply.status_code == 401
    assert "CertificateRevoked" in reply.text and serial in reply.text
