"""Every certificate of the ZAZ1 test PKI parses in the SMKI profile and validates in import mode."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.smki.errors import Expired, MalformedCertificate
from opendcc.smki.profile import CertificateKind, RemotePartyRole, parse_certificate
from opendcc.smki.validation import TrustStore, Validator

REFERENCE = reference_dir()
NOW = datetime.now(UTC)


def _pem_files(folder: str) -> list[Path]:
    return [p for p in sorted((REFERENCE / folder).glob("*.pem")) if not p.name.endswith(".key.pem")]


def _boxed_entries() -> list[tuple[str, str, str, dict[str, object]]]:
    data = json.loads((REFERENCE / "keys" / "dccboxed-keystore.json").read_text())
    return [(eui, usage, serial, entry) for eui, usages in data.items()
            for usage, by_serial in usages.items() for serial, entry in by_serial.items()]


# A reference quirk: this file holds the KA certificate of the second test supplier.
MISNAMED = {"90b3d51f30000007-ka.pem": "90B3D51F30030000"}


@pytest.fixture(scope="module")
def import_mode() -> Validator:
    return Validator(TrustStore.from_reference(REFERENCE))


def _validates_or_reports_expiry(validator: Validator, pem: bytes, usage: str) -> None:
    cert = parse_certificate(pem)
    if cert.not_after < NOW:
        with pytest.raises(Expired) as err:
            validator.validate(cert, at=NOW, usage=usage)
        assert f"{cert.not_after:%Y-%m-%d}" in str(err.value)
        assert err.value.not_after == cert.not_after
    else:
        assert validator.validate(cert, at=NOW, usage=usage) == cert


@pytest.mark.parametrize("path", _pem_files("keys"), ids=lambda p: p.name)
def test_organisation_certificate_names_entity_role_and_usage(path: Path, import_mode: Validator) -> None:
    cert = parse_certificate(path.read_bytes())
    assert cert.kind == CertificateKind.ORGANISATION
    assert cert.entity is not None and cert.role is not None
    assert cert.usage is not None
    assert cert.usage.value == ("ka" if "-ka" in path.stem else "ds")
    if "-sign-" in path.name:  # xml-sign-<EUI>-ds, dsp-xml-sign-<EUI>-ds
        assert cert.entity == EUI64.parse(path.name.split("-sign-")[1][:16])
        assert cert.role in (RemotePartyRole.XML_SIGN, RemotePartyRole.DSP_XML_SIGN)
    _validates_or_reports_expiry(import_mode, path.read_bytes(), cert.usage.value)


@pytest.mark.parametrize("path", _pem_files("gbcs/keystore"), ids=lambda p: p.name)
def test_rtds_keystore_certificate_names_its_eui_and_usage(path: Path, import_mode: Validator) -> None:
    text = path.read_bytes()
    if b"BEGIN CERTIFICATE" not in text:
        # fffffffffffffffe-ka.pem is a bare public key: not a certificate, and said so.
        with pytest.raises(MalformedCertificate, match="not a certificate"):
            parse_certificate(text)
        return
    cert = parse_certificate(text)
    eui, usage = path.stem.split("-")[0], path.stem.rsplit("-", 1)[1]
    assert cert.entity == EUI64.parse(MISNAMED.get(path.name, eui))
    assert cert.usage is not None and cert.usage.value == usage
    assert cert.kind in (CertificateKind.DEVICE, CertificateKind.ORGANISATION)
    _validates_or_reports_expiry(import_mode, text, usage)


@pytest.mark.parametrize("eui,usage,serial,entry", _boxed_entries(),
                         ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None)
def test_dccboxed_keystore_entry_matches_its_certificate(eui: str, usage: str, serial: str,
                                                         entry: dict[str, object],
                                                         import_mode: Validator) -> None:
    cert = parse_certificate(str(entry["certificate"]))
    assert cert.serial == int(serial)
    assert cert.entity == EUI64.parse(eui)
    assert cert.role == entry["role"]
    want = "ds" if usage == "digitalSignature" else "ka"
    assert cert.usage is not None and cert.usage.value == want
    _validates_or_reports_expiry(import_mode, str(entry["certificate"]).encode(), want)


def test_null_algorithm_parameters_are_read_and_reported() -> None:
    mdr = [e for _, _, _, e in _boxed_entries() if str(e["name"]).startswith("mdr-")]
    assert mdr
    for entry in mdr:
        cert = parse_certificate(str(entry["certificate"]))
        assert cert.deviations and "NULL parameters" in cert.deviations[0]
        assert cert.der.startswith(b"\x30")


def test_z1_signing_certificates_expired_on_2025_10_29(import_mode: Validator) -> None:
    cert = parse_certificate((REFERENCE / "keys" / "Z1-supplier-ds.pem").read_bytes())
    with pytest.raises(Expired, match="2025-10-29"):
        import_mode.validate(cert, at=NOW, usage="ds")
    xml = parse_certificate((REFERENCE / "keys" / "xml-sign-90B3D51F30010000-ds.pem").read_bytes())
    assert xml.not_after.year == 2118
    assert import_mode.validate(xml, at=NOW, usage="ds",
                                expected_entity=EUI64.parse("90-B3-D5-1F-30-01-00-00")) == xml


def test_repaired_certificate_object_is_still_the_imported_one(import_mode: Validator) -> None:
    entry = next(e for _, _, _, e in _boxed_entries() if e["name"] == "mdr-ds")
    cert = parse_certificate(str(entry["certificate"]))
    assert import_mode.validate(cert.certificate, at=cert.not_before, usage="ds").entity == cert.entity
