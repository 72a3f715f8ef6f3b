"""The SMKI repository service: the plain search/download/CRL API and the DCC Boxed
certificatesearch / retrievecertificate API with its status codes."""

from __future__ import annotations

import base64
import io
import re
import zipfile
from datetime import UTC, datetime

import pytest
from cryptography import x509
from fastapi.testclient import TestClient

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.profile import parse_certificate
from opendcc.smki.service import create_smki_app

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
DEVICE = EUI64.parse("00-DB-12-34-56-78-90-A4")
SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")


@pytest.fixture
def client(authority: Authority) -> TestClient:
    authority.repository.import_reference(reference_dir())
    return TestClient(create_smki_app(authority.repository, authority=authority, now=lambda: NOW))


def _post(client: TestClient, path: str, root: str, **fields: str) -> tuple[int, str]:
    body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    r = client.post(f"/services/{path}?apikey=anything",
                    content=f'<?xml version="1.0" encoding="utf-8"?><{root}>{body}</{root}>',
                    headers={"content-type": "application/xml"})
    return r.status_code, r.text


def test_search_by_device_finds_both_usages(client: TestClient) -> None:
    status, text = _post(client, "certificatesearch", "CertificateSearchRequest",
                         CertificateSubjectAltName=DEVICE.hyphenated)
    assert status == 200
    assert sorted(re.findall(r"<CertificateUsage>(\w+)</CertificateUsage>", text)) == ["DS", "KA"]
    assert "<CertificateStatus>I</CertificateStatus>" in text
    assert "<CertificateRole>" not in text  # devices have no role


def test_search_by_subject_gives_roles_and_statuses(client: TestClient) -> None:
    status, text = _post(client, "certificatesearch", "CertificateSearchRequest",
                         CertificateSubjectName=SUPPLIER.hyphenated)
    assert status == 200
    roles = set(re.findall(r"<CertificateRole>(\d+)</CertificateRole>", text))
    assert {"2", "135"} <= roles
    # Z1-supplier-ds expired on 2025-10-29: listed with status E.
    assert "<CertificateStatus>E</CertificateStatus>" in text


def test_retrieve_by_hex_serial_returns_the_certificate_body(client: TestClient) -> None:
    _, found = _post(client, "certificatesearch", "CertificateSearchRequest",
                     CertificateSubjectAltName=DEVICE.hyphenated)
    serial = re.findall(r"<CertificateSerial>(\w+)</CertificateSerial>", found)[0]
    status, text = _post(client, "retrievecertificate", "CertificateDataRequest",
                         CertificateSerial=serial.lower())
    assert status == 200
    body = re.search(r"<CertificateBody>([^<]+)</CertificateBody>", text)
    assert body is not None
    cert = parse_certificate(base64.b64decode("".join(body.group(1).split())))
    assert cert.entity == DEVICE and cert.serial_hex == serial
    assert f"<CertificateSubjectAltName>{DEVICE.hyphenated}</CertificateSubjectAltName>" in text


def test_no_result_is_402(client: TestClient) -> None:
    assert _post(client, "certificatesearch", "CertificateSearchRequest",
                 CertificateSubjectAltName="11-22-33-44-55-66-77-88")[0] == 402
    assert _post(client, "retrievecertificate", "CertificateDataRequest",
                 CertificateSerial="1234")[0] == 402


@pytest.mark.parametrize("body", [
    "<CertificateSearchRequest/>",
    "<CertificateSearchRequest><CertificateSubjectAltName>nonsense</CertificateSubjectAltName>"
    "</CertificateSearchRequest>",
    "<CertificateSearchRequest><CertificateSubjectName>90-B3-D5-1F-30-01-00-00"
    "</CertificateSubjectName><CertificateUsage>XX</CertificateUsage></CertificateSearchRequest>",
    "<Other/>",
    "not xml",
    '<!DOCTYPE x [<!ENTITY e "x">]><CertificateSearchRequest>&e;</CertificateSearchRequest>',
], ids=["empty", "bad-eui", "bad-usage", "wrong-root", "not-xml", "dtd"])
def test_invalid_search_parameters_are_401(client: TestClient, body: str) -> None:
    r = client.post("/services/certificatesearch", content=body,
                    headers={"content-type": "application/xml"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/xml")


def test_status_filter_narrows_the_search(client: TestClient) -> None:
    status, text = _post(client, "certificatesearch", "CertificateSearchRequest",
                         CertificateSubjectName=SUPPLIER.hyphenated, CertificateStatus="I",
                         CertificateUsage="DS", CertificateRole="135")
    assert status == 200 and text.count("<Result>") == 1


def test_plain_search_and_downloads(client: TestClient, authority: Authority) -> None:
    cred = authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW, common_name="ACME")
    serial = cred.certificate.serial_hex
    listed = client.get(f"/certificates?entity={SUPPLIER.hex}&usage=ds&role=supplier").json()
    assert serial in {c["serial"] for c in listed}
    assert client.get(f"/certificates/{serial}").json()["status"] == "I"
    pem = client.get(f"/certificates/{serial}.pem")
    assert parse_certificate(pem.content) == cred.certificate
    assert client.get(f"/certificates/{serial}.der").content == cred.certificate.der
    assert client.get(f"/certificates?device={DEVICE}").json()[0]["kind"] == "device"
    assert client.get("/certificates/FFFF.pem").status_code == 404
    assert client.get("/certificates?entity=nonsense").status_code == 400


def test_crl_lists_a_revoked_certificate(client: TestClient, authority: Authority) -> None:
    cred = authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW)
    authority.revoke(cred.certificate.serial, at=NOW, reason="key compromise")
    crl = x509.load_der_x509_crl(client.get("/crl").content)
    assert crl.get_revoked_certificate_by_serial_number(cred.certificate.serial) is not None
    assert client.get(f"/certificates/{cred.certificate.serial_hex}").json()["status"] == "R"
    assert [r["serial"] for r in client.get("/revocations").json()] == [cred.certificate.serial_hex]


def test_org_certs_zip_pairs_certificates_with_test_keys(client: TestClient) -> None:
    for path in ("/org-certs.zip", "/assets/crypto/org-crypto.zip"):
        r = client.get(path)
        assert r.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
        assert "org-certs/cert/xml-sign-90B3D51F30010000-ds.pem" in names
        assert "org-certs/key/xml-sign-90B3D51F30010000-ds.key" in names
