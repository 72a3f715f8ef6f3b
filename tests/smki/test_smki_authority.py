"""Issue, renew and revoke: the lifecycle of organisation and device certificates, and a revocation
seen by every process sharing the repository."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opendcc.ids import EUI64
from opendcc.smki.authority import ORGANISATION_ROLES, Authority, Pki
from opendcc.smki.errors import RepositoryError, Revoked, UntrustedIssuer
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import CertificateKind, RemotePartyRole, parse_certificate
from opendcc.smki.repository import CertificateRepository, CertificateStatus

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ENTITY = EUI64.parse("90-B3-D5-1F-30-0A-00-01")


def test_same_seed_gives_the_same_cas_byte_for_byte() -> None:
    a, b = Pki.from_seed("seed-one-seed-one"), Pki.from_seed("seed-one-seed-one")
    assert [ca.certificate.der for ca in a.authorities] == [ca.certificate.der for ca in b.authorities]
    assert Pki.from_seed("seed-two").root.certificate.der != a.root.certificate.der


@pytest.mark.parametrize("role", sorted(ORGANISATION_ROLES), ids=lambda r: r.label)
@pytest.mark.parametrize("usage", list(KeyUsage), ids=lambda u: u.value)
def test_organisation_certificate_carries_entity_role_and_usage(
        authority: Authority, role: RemotePartyRole, usage: KeyUsage) -> None:
    cred = authority.issue_organisation(ENTITY, role, usage, at=NOW, common_name="ACME ENERGY")
    cert = parse_certificate(cred.certificate.der)
    assert (cert.kind, cert.entity, cert.role, cert.usage) == (
        CertificateKind.ORGANISATION, ENTITY, role, usage)
    assert cert.certificate.subject.rfc4514_string().startswith(
        f"2.5.4.45=#00{ENTITY.lower},OU={role:02X}")
    assert cred.private_key is not None
    assert authority.validator().validate(cert, at=NOW, usage=usage, expected_entity=ENTITY) == cert


@pytest.mark.parametrize("role", [RemotePartyRole.ROOT, RemotePartyRole.ISSUING_AUTHORITY])
def test_no_organisation_certificate_for_ca_roles(authority: Authority, role: RemotePartyRole) -> None:
    with pytest.raises(RepositoryError, match="no organisation certificate"):
        authority.issue_organisation(ENTITY, role, "ds", at=NOW)


def test_device_certificate_at_manufacture_has_no_subject_and_does_not_expire(
        authority: Authority) -> None:
    device = EUI64.parse("00-DB-12-34-56-78-90-A4")
    cert = authority.issue_device(device, "ds", at=NOW).certificate
    assert cert.kind == CertificateKind.DEVICE and cert.entity == device
    assert len(cert.certificate.subject) == 0 and cert.not_after.year == 9999
    assert authority.repository.search(entity=device)[0].certificate == cert


def test_renewal_replaces_the_certificate_and_marks_the_old_one_not_in_use(
        authority: Authority) -> None:
    old = authority.issue_organisation(ENTITY, 2, "ds", at=NOW, common_name="ACME").certificate
    new = authority.renew(old.serial_hex, at=NOW + timedelta(days=1)).certificate
    assert (new.entity, new.role, new.usage, new.common_name) == (ENTITY, 2, KeyUsage.DS, "ACME")
    assert new.serial != old.serial
    repo = authority.repository
    later = NOW + timedelta(days=2)
    assert repo.get(old.serial).status(later) == CertificateStatus.NOT_IN_USE  # type: ignore[union-attr]
    assert repo.get(new.serial).status(later) == CertificateStatus.IN_USE  # type: ignore[union-attr]


def test_revocation_is_listed_and_published_in_the_crl(authority: Authority) -> None:
    cert = authority.issue_organisation(ENTITY, 2, "ds", at=NOW).certificate
    authority.revoke(cert.serial, at=NOW, reason="key compromise")
    stored = authority.repository.get(cert.serial)
    assert stored is not None and stored.status(NOW) == CertificateStatus.REVOKED
    crl = authority.crl(authority.pki.organisation_ca, at=NOW)
    assert crl.get_revoked_certificate_by_serial_number(cert.serial) is not None
    assert crl.is_signature_valid(authority.pki.organisation_ca.key.public_key())


def test_revoking_an_unknown_serial_is_refused(authority: Authority) -> None:
    with pytest.raises(RepositoryError, match="no published certificate"):
        authority.revoke("ABCDEF", at=NOW)
    assert authority.repository.revocations() == []


def test_seed_is_kept_in_the_repository(tmp_path: Path) -> None:
    first = Authority.open(CertificateRepository(tmp_path / "r.sqlite3"))
    second = Authority.open(CertificateRepository(tmp_path / "r.sqlite3"))
    assert first.pki.root.certificate.der == second.pki.root.certificate.der
    with pytest.raises(RepositoryError, match="different seed"):
        Authority.open(CertificateRepository(tmp_path / "r.sqlite3"), seed="another-seed-entirely")


def test_revocation_by_a_second_engine_is_seen_on_the_next_check(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    gateway = Authority.open(CertificateRepository(path), seed="shared-seed-0123456")
    cert = gateway.issue_organisation(ENTITY, 2, "ds", at=NOW).certificate
    validator = gateway.validator()
    validator.validate(cert, at=NOW, usage="ds")  # warms the cached revocation set
    operator = CertificateRepository(path)  # another engine, as another process would have
    operator.revoke(cert.serial_hex, at=NOW, reason="superseded")
    with pytest.raises(Revoked):
        validator.validate(cert, at=NOW, usage="ds")


def test_revocation_by_another_process_is_seen_on_the_next_check(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    gateway = Authority.open(CertificateRepository(path), seed="shared-seed-0123456")
    cert = gateway.issue_organisation(ENTITY, 2, "ds", at=NOW).certificate
    validator = gateway.validator()
    validator.validate(cert, at=NOW, usage="ds")
    script = (
        "import sys; from datetime import datetime, UTC;"
        "from opendcc.smki.repository import CertificateRepository;"
        "CertificateRepository(sys.argv[1]).revoke(sys.argv[2], at=datetime.now(UTC))"
    )
    subprocess.run([sys.executable, "-c", script, str(path), cert.serial_hex], check=True,
                   timeout=60)
    with pytest.raises(Revoked):
        validator.validate(cert, at=NOW, usage="ds")


def test_keystore_from_repository_serves_issued_credentials(authority: Authority) -> None:
    from opendcc.smki.keystore import KeyStore

    cred = authority.issue_organisation(ENTITY, 2, "ds", at=NOW, keep_private_key=True)
    keys = KeyStore.from_repository(authority.repository)
    cert = cred.certificate
    assert keys.lookup(cert.issuer_text, cert.serial) == cert.certificate
    assert keys.private_key(ENTITY, "ds") is not None


def test_revocation_is_shared_through_postgresql(pg_repository_url: str) -> None:
    gateway_repo = CertificateRepository(pg_repository_url)
    gateway = Authority.open(gateway_repo, seed="postgres-seed-0123456")
    cert = gateway.issue_organisation(ENTITY, 2, "ds", at=NOW).certificate
    validator = gateway.validator()
    validator.validate(cert, at=NOW, usage="ds")
    operator = CertificateRepository(pg_repository_url)
    operator.revoke(cert.serial_hex, at=NOW, reason="key compromise")
    with pytest.raises(Revoked):
        validator.validate(cert, at=NOW, usage="ds")
    operator.close()
    gateway_repo.close()


def test_validator_built_before_onboarding_accepts_the_new_supplier(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    gateway = CertificateRepository(path)
    validator = gateway.validator()  # built at gateway start, before any CA exists
    onboarding = Authority.open(CertificateRepository(path))  # `opendcc smki issue` elsewhere
    cert = onboarding.issue_organisation(ENTITY, 2, "ds", at=NOW).certificate
    assert validator.validate(cert, at=NOW, usage="ds", expected_entity=ENTITY) == cert
    stranger = Pki.from_seed("not-the-repository-seed").issue_organisation(ENTITY, 2, "ds", at=NOW)
    with pytest.raises(UntrustedIssuer):
        validator.validate(stranger.certificate, at=NOW, usage="ds")
