"""The key store imports the ZAZ1 test PKI and finds credentials the ways DUIS and GBCS need."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore, KeyUsage, load_certificate

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
DCC_ACB = EUI64.parse("90-B3-D5-1F-30-00-00-02")


@pytest.fixture(scope="module")
def keystore(reference: Path) -> KeyStore:
    return KeyStore.from_reference(reference)


def test_every_reference_certificate_is_indexed(keystore: KeyStore, reference: Path) -> None:
    pems = [p for p in (reference / "keys").glob("*.pem") if not p.name.endswith(".key.pem")]
    pems += list((reference / "gbcs" / "keystore").glob("*.pem"))
    for pem in pems:
        if b"BEGIN CERTIFICATE" not in pem.read_bytes():
            continue
        cert = load_certificate(pem.read_bytes())
        found = keystore.by_issuer_serial(cert.issuer, cert.serial_number)
        assert found is not None and found.certificate == cert, pem.name


def test_duis_keyinfo_issuer_form_finds_the_xml_signing_certificate(keystore: KeyStore) -> None:
    cred = keystore.xml_signing(SUPPLIER)
    assert cred is not None and cred.private_key is not None
    assert cred.name.startswith("xml-sign-")
    assert keystore.lookup("CN=Z1,OU=07", cred.serial) == cred.certificate
    assert keystore.lookup("OU=07, CN=Z1", cred.serial) == cred.certificate
    assert keystore.lookup("CN=U1,OU=07", cred.serial) is None


def test_dcc_response_signing_credential(keystore: KeyStore) -> None:
    cred = keystore.xml_signing(DCC_ACB)
    assert cred is not None and cred.name == "dsp-xml-sign-90B3D51F30000002-ds"


def test_gbcs_lookups_by_device_and_usage(keystore: KeyStore) -> None:
    device = EUI64.parse("00-DB-12-34-56-78-90-01")
    assert keystore.certificate(device, KeyUsage.DS) is not None
    assert keystore.certificate(device, "ka") is not None
    assert keystore.private_key(SUPPLIER, "ka") is not None
    assert keystore.certificate(SUPPLIER, "ka", pp=True) is not None
    assert keystore.certificate(EUI64.parse("11-11-11-11-11-11-11-11"), "ds") is None


def test_bare_public_keys_are_kept(keystore: KeyStore) -> None:
    assert keystore.public_key(EUI64.parse("FF-FF-FF-FF-FF-FF-FF-FE"), "ka") is not None


def test_unparseable_boxed_certificates_are_reported_not_fatal(keystore: KeyStore) -> None:
    assert set(keystore.skipped) <= {"mdr-ds", "mdr-ka"}
