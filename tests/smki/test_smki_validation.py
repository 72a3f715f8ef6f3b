"""Bad certificates are refused with their reason; good ones (ZAZ1 and opendcc-issued) pass the
same check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.smki.authority import Authority, Pki, trust_store_for
from opendcc.smki.errors import (
    EntityMismatch,
    Expired,
    MalformedCertificate,
    NotYetValid,
    Revoked,
    UntrustedIssuer,
    WrongKeyUsage,
)
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import RemotePartyRole, parse_certificate
from opendcc.smki.validation import TrustStore, Validator

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)  # after the Z1-* (2025-10-29) expiry

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
OTHER = EUI64.parse("90-B3-D5-1F-30-02-00-00")
REFERENCE = reference_dir()


@pytest.fixture
def issued(authority: Authority) -> tuple[Authority, Validator]:
    return authority, authority.validator()


def test_opendcc_issued_certificate_is_accepted(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    cred = authority.issue_organisation(SUPPLIER, RemotePartyRole.SUPPLIER, KeyUsage.DS, at=NOW)
    assert validator.validate(cred.certificate.der, at=NOW, usage="ds",
                              expected_entity=SUPPLIER).serial == cred.certificate.serial


def test_zaz1_certificate_is_accepted_by_the_same_validator(authority: Authority) -> None:
    authority.repository.import_reference(REFERENCE)
    validator = authority.validator()
    pem = (REFERENCE / "keys" / "xml-sign-90B3D51F30010000-ds.pem").read_bytes()
    assert validator.validate(pem, at=NOW, usage="ds", expected_entity=SUPPLIER).entity == SUPPLIER


def test_expired_certificate_is_rejected_with_its_end_date(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    cred = authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW - timedelta(days=30),
                                        validity=timedelta(days=10))
    with pytest.raises(Expired, match=f"{(NOW - timedelta(days=20)):%Y-%m-%d}") as err:
        validator.validate(cred.certificate, at=NOW, usage="ds")
    assert err.value.reason == "expired"


def test_not_yet_valid_certificate_is_rejected(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    cred = authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW + timedelta(days=1))
    with pytest.raises(NotYetValid, match="not valid before"):
        validator.validate(cred.certificate, at=NOW, usage="ds")


def test_key_agreement_certificate_used_for_signing_is_rejected(
        issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    cred = authority.issue_organisation(SUPPLIER, 2, "ka", at=NOW)
    with pytest.raises(WrongKeyUsage, match="certifies a ka key, used for ds"):
        validator.validate(cred.certificate, at=NOW, usage="ds")


def test_certificate_from_another_pki_is_rejected(issued: tuple[Authority, Validator]) -> None:
    _, validator = issued
    stranger = Pki.from_seed("some-other-seed").issue_organisation(SUPPLIER, 2, "ds", at=NOW)
    with pytest.raises(UntrustedIssuer, match="ODCC OCA"):
        validator.validate(stranger.certificate, at=NOW, usage="ds")


def test_zaz1_certificate_not_imported_is_rejected() -> None:
    pem = (REFERENCE / "keys" / "xml-sign-90B3D51F30010000-ds.pem").read_bytes()
    with pytest.raises(UntrustedIssuer, match="Z1"):
        Validator(TrustStore()).validate(pem, at=NOW, usage="ds")


def test_revoked_certificate_is_rejected(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    cred = authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW)
    authority.revoke(cred.certificate.serial, at=NOW, reason="key compromise")
    with pytest.raises(Revoked, match="revoked") as err:
        validator.validate(cred.certificate, at=NOW, usage="ds")
    assert err.value.serial == cred.certificate.serial


@pytest.mark.parametrize("data", [b"", b"\x30\x03\x02\x01", b"not a certificate at all",
                                  b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n"],
                         ids=["empty", "truncated", "text", "bad-base64"])
def test_malformed_der_is_rejected(issued: tuple[Authority, Validator], data: bytes) -> None:
    with pytest.raises(MalformedCertificate):
        issued[1].validate(data, at=NOW, usage="ds")


def test_corrupted_signature_is_rejected(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    der = bytearray(authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW).certificate.der)
    der[-5] ^= 0x01
    with pytest.raises((UntrustedIssuer, MalformedCertificate)):
        validator.validate(bytes(der), at=NOW, usage="ds")


def test_certificate_of_one_entity_presented_by_another_is_rejected(
        issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    cred = authority.issue_organisation(SUPPLIER, 2, "ds", at=NOW)
    with pytest.raises(EntityMismatch, match=f"certifies entity {SUPPLIER}, presented by {OTHER}"):
        validator.validate(cred.certificate, at=NOW, usage="ds", expected_entity=OTHER)


def test_rejection_changes_nothing(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    before = len(authority.repository.search())
    with pytest.raises(MalformedCertificate):
        validator.validate(b"junk", at=NOW, usage="ds")
    assert len(authority.repository.search()) == before


def test_subordinate_ca_of_an_untrusted_root_cannot_be_added() -> None:
    pki = Pki.from_seed("x" * 32)
    with pytest.raises(UntrustedIssuer):
        TrustStore().add_ca(pki.organisation_ca.certificate)
    assert len(trust_store_for(pki).authorities) == 3


def test_device_certificate_validates_for_its_device(issued: tuple[Authority, Validator]) -> None:
    authority, validator = issued
    device = EUI64.parse("00-DB-12-34-56-78-90-A4")
    cred = authority.issue_device(device, "ka", at=NOW)
    assert validator.validate(cred.certificate, at=NOW, usage="ka", expected_entity=device).entity == device
    assert parse_certificate(cred.certificate.pem()) == cred.certificate
