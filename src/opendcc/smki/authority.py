"""opendcc's own test PKI: a Root CA, an Organisation CA and a Device CA, and the issuing of
organisation and device certificates in the SMKI profile.

SEC Appendix A (Organisation Certificate Policy) and Appendix B (Device Certificate Policy).
The three CAs are derived from a seed, so every process that knows the seed (it is kept in the
certificate repository) holds the same CA keys and, with deterministic ECDSA (RFC 6979), the
same CA certificates byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from opendcc.ids import EUI64
from opendcc.smki.errors import RepositoryError
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import (
    OID_HW_MODULE_NAME,
    OID_UNIQUE_IDENTIFIER,
    POLICY_ORGANISATION,
    CertificateKind,
    RemotePartyRole,
    SmkiCertificate,
    parse_certificate,
    public_key_id,
)

if TYPE_CHECKING:
    from opendcc.smki.repository import CertificateRepository
    from opendcc.smki.revocation import Revocation
    from opendcc.smki.validation import TrustStore, Validator

SEED_STATE_KEY = "pki_seed"

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
# DER of the hwType OID in GB device certificates, 1.2.826.0.1.8641679.1.2.2.1.
_HW_TYPE_DER = bytes.fromhex("060d2a863a0001848fb90f01020201")
# CA certificates are dated from a fixed instant so that the same seed gives the same bytes.
CA_NOT_BEFORE = datetime(2020, 1, 1, tzinfo=UTC)
CA_NOT_AFTER = datetime(2120, 1, 1, tzinfo=UTC)
# Appendix B: device certificates do not expire (GeneralizedTime 99991231235959Z).
DEVICE_NOT_AFTER = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
ORGANISATION_VALIDITY = timedelta(days=10 * 365)

# Roles an organisation certificate may be issued for (Appendix A: users and DCC roles).
ORGANISATION_ROLES = frozenset(RemotePartyRole) - {RemotePartyRole.ROOT,
                                                   RemotePartyRole.ISSUING_AUTHORITY}


@dataclass(frozen=True)
class IssuedCredential:
    """A newly issued certificate and, when the authority generated the key pair, its private key."""

    certificate: SmkiCertificate
    private_key: ec.EllipticCurvePrivateKey | None


@dataclass(frozen=True)
class CertificateAuthority:
    """One CA: its name, key and (self- or root-issued) certificate."""

    name: x509.Name
    key: ec.EllipticCurvePrivateKey
    certificate: SmkiCertificate

    @property
    def key_id(self) -> bytes:
        """The 8-octet key identifier children carry in authorityKeyIdentifier."""
        return public_key_id(self.key.public_key())


def _derive_key(seed: bytes, label: str) -> ec.EllipticCurvePrivateKey:
    digest = hmac.new(seed, f"opendcc-smki/{label}".encode(), hashlib.sha512).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _derive_serial(seed: bytes, label: str) -> int:
    digest = hmac.new(seed, f"opendcc-smki/serial/{label}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:16], "big") >> 1 or 1


def random_serial() -> int:
    """A positive 127-bit serial, the size ZAZ1 uses (16 octets, top bit clear)."""
    return int.from_bytes(os.urandom(16), "big") >> 1 or 1


def _ca_certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                    issuer_key: ec.EllipticCurvePrivateKey, serial: int,
                    path_length: int | None) -> SmkiCertificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(issuer).public_key(key.public_key())
        .serial_number(serial).not_valid_before(CA_NOT_BEFORE).not_valid_after(CA_NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                       critical=True)
        .add_extension(x509.SubjectKeyIdentifier(public_key_id(key.public_key())), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier(public_key_id(issuer_key.public_key()), None,
                                                   None), critical=False)
    )
    cert = builder.sign(issuer_key, hashes.SHA256(), ecdsa_deterministic=True)
    return parse_certificate(cert.public_bytes(Encoding.DER))


def organisation_subject(entity: EUI64, role: RemotePartyRole | int,
                         common_name: str | None = None) -> x509.Name:
    """Appendix A: [CN=name,] OU=<role as two hex digits>, uniqueIdentifier=<EUI-64 BIT STRING>."""
    attrs = [] if not common_name else [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"{int(role):02X}"))
    # BIT STRING contents: no unused bits, then the eight octets. (cryptography takes bytes
    # for a BitString-typed attribute though its stubs say str.)
    unique: Any = b"\x00" + bytes(entity)
    attrs.append(x509.NameAttribute(OID_UNIQUE_IDENTIFIER, unique, _type=_ASN1Type.BitString))
    return x509.Name(attrs)


def _hardware_module_name(device: EUI64) -> x509.OtherName:
    serial = b"\x04\x08" + bytes(device)
    body = _HW_TYPE_DER + serial
    return x509.OtherName(OID_HW_MODULE_NAME, bytes([0x30, len(body)]) + body)


def _key_usage(usage: KeyUsage) -> x509.KeyUsage:
    ds = usage == KeyUsage.DS
    return x509.KeyUsage(ds, False, False, False, not ds, False, False, False, False)


class Pki:
    """Root CA, Organisation CA and Device CA, derived from one seed."""

    ROOT_NAME = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "00"),
                           x509.NameAttribute(NameOID.COMMON_NAME, "ODCC Root")])
    ORGANISATION_CA_NAME = x509.Name([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "07"),
                                      x509.NameAttribute(NameOID.COMMON_NAME, "ODCC OCA")])
    DEVICE_CA_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ODCC DCA")])

    def __init__(self, seed: bytes) -> None:
        if len(seed) < 16:
            raise ValueError("an SMKI seed needs at least 16 octets")
        self.seed = seed
        root_key = _derive_key(seed, "root")
        self.root = CertificateAuthority(self.ROOT_NAME, root_key, _ca_certificate(
            self.ROOT_NAME, root_key, self.ROOT_NAME, root_key, _derive_serial(seed, "root"), 1))
        self.organisation_ca = self._subordinate("oca", self.ORGANISATION_CA_NAME)
        self.device_ca = self._subordinate("dca", self.DEVICE_CA_NAME)

    def _subordinate(self, label: str, name: x509.Name) -> CertificateAuthority:
        key = _derive_key(self.seed, label)
        cert = _ca_certificate(name, key, self.root.name, self.root.key,
                               _derive_serial(self.seed, label), 0)
        return CertificateAuthority(name, key, cert)

    @classmethod
    def from_seed(cls, seed: bytes | str) -> Pki:
        """The PKI for a seed given as bytes, hex, or any text (hashed)."""
        if isinstance(seed, str):
            try:
                raw = bytes.fromhex(seed)
            except ValueError:
                raw = b""
            seed = raw if len(raw) >= 16 else hashlib.sha256(seed.encode()).digest()
        return cls(seed)

    @property
    def authorities(self) -> tuple[CertificateAuthority, ...]:
        """Root, Organisation CA, Device CA."""
        return (self.root, self.organisation_ca, self.device_ca)

    def issue_organisation(self, entity: EUI64, role: RemotePartyRole | int, usage: KeyUsage | str,
                           *, at: datetime, public_key: ec.EllipticCurvePublicKey | None = None,
                           common_name: str | None = None,
                           validity: timedelta = ORGANISATION_VALIDITY) -> IssuedCredential:
        """Appendix A: an organisation certificate for one role and one key usage. Without a
        public key, the authority generates the key pair and returns the private key too."""
        role = RemotePartyRole(int(role))
        if role not in ORGANISATION_ROLES:
            raise RepositoryError(f"no organisation certificate is issued for role {role.label}")
        usage = KeyUsage(usage)
        private = None
        if public_key is None:
            private = ec.generate_private_key(ec.SECP256R1())
            public_key = private.public_key()
        _check_p256(public_key)
        ca = self.organisation_ca
        not_before = at.astimezone(UTC).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(organisation_subject(entity, role, common_name))
            .issuer_name(ca.name).public_key(public_key).serial_number(random_serial())
            .not_valid_before(not_before).not_valid_after(not_before + validity)
            .add_extension(_key_usage(usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier(public_key_id(public_key)), critical=False)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(POLICY_ORGANISATION,
                                                                            None)]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier(ca.key_id, None, None), critical=False)
        )
        cert = builder.sign(ca.key, hashes.SHA256())
        return IssuedCredential(parse_certificate(cert.public_bytes(Encoding.DER)), private)

    def issue_device(self, device: EUI64, usage: KeyUsage | str, *, at: datetime,
                     public_key: ec.EllipticCurvePublicKey | None = None) -> IssuedCredential:
        """Appendix B: a device certificate at manufacture: empty subject, the device EUI-64 as
        hwSerialNum in a critical subjectAltName, no expiry."""
        usage = KeyUsage(usage)
        private = None
        if public_key is None:
            private = ec.generate_private_key(ec.SECP256R1())
            public_key = private.public_key()
        _check_p256(public_key)
        ca = self.device_ca
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([])).issuer_name(ca.name).public_key(public_key)
            .serial_number(random_serial())
            .not_valid_before(at.astimezone(UTC).replace(microsecond=0))
            .not_valid_after(DEVICE_NOT_AFTER)
            .add_extension(_key_usage(usage), critical=True)
            .add_extension(x509.SubjectKeyIdentifier(public_key_id(public_key)), critical=False)
            .add_extension(x509.SubjectAlternativeName([_hardware_module_name(device)]),
                           critical=True)
            .add_extension(x509.CertificatePolicies([x509.PolicyInformation(POLICY_ORGANISATION,
                                                                            None)]), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier(ca.key_id, None, None), critical=False)
        )
        cert = builder.sign(ca.key, hashes.SHA256())
        return IssuedCredential(parse_certificate(cert.public_bytes(Encoding.DER)), private)

    def renew(self, old: SmkiCertificate, *, at: datetime,
              public_key: ec.EllipticCurvePublicKey | None = None) -> IssuedCredential:
        """A replacement for an organisation certificate: same entity, role, usage and name; a new
        serial, validity period and (unless one is given) key pair."""
        if old.kind != CertificateKind.ORGANISATION or old.entity is None or old.role is None \
                or old.usage is None:
            raise RepositoryError(f"certificate {old.serial_hex} is not an organisation certificate")
        return self.issue_organisation(old.entity, old.role, old.usage, at=at,
                                       public_key=public_key, common_name=old.common_name,
                                       validity=old.not_after - old.not_before)

    def authority_for(self, cert: SmkiCertificate) -> CertificateAuthority | None:
        """The CA of this PKI named as the certificate's issuer."""
        for ca in self.authorities:
            if ca.name == cert.issuer:
                return ca
        return None


def _check_p256(key: ec.EllipticCurvePublicKey) -> None:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise RepositoryError("SMKI certifies ECDSA P-256 keys only")


def trust_store_for(pki: Pki) -> TrustStore:
    """A trust store holding the PKI's Root, Organisation and Device CAs."""
    from opendcc.smki.validation import trusted

    return trusted(ca.certificate for ca in pki.authorities)


class Authority:
    """The SMKI service as a CA operator sees it: issue, renew and revoke, with every certificate
    published in the repository (SEC Appendix A §4, Appendix B §4)."""

    def __init__(self, pki: Pki, repository: CertificateRepository) -> None:
        self.pki = pki
        self.repository = repository

    @classmethod
    def open(cls, repository: CertificateRepository, seed: bytes | str | None = None) -> Authority:
        """The authority of a repository: its PKI seed is stored there on first use (a fresh
        random one unless `seed` is given), so every process derives the same CAs."""
        from opendcc.smki.repository import new_seed

        wanted = seed.hex() if isinstance(seed, bytes) else seed
        stored = repository.set_state_once(SEED_STATE_KEY, wanted or new_seed())
        if wanted is not None and stored != wanted:
            raise RepositoryError("this repository already has a PKI made from a different seed")
        pki = Pki.from_seed(stored)
        for ca in pki.authorities:
            repository.add(ca.certificate, name=ca.name.rfc4514_string())
        return cls(pki, repository)

    def trust_store(self) -> TrustStore:
        """This PKI's CAs plus the repository's imported (pinned) certificates."""
        return self.repository.trust_store().merged(trust_store_for(self.pki))

    def validator(self) -> Validator:
        """The validator to use everywhere: this trust plus the repository's shared CRL."""
        return self.repository.validator(extra_trust=trust_store_for(self.pki))

    def issue_organisation(self, entity: EUI64, role: RemotePartyRole | int, usage: KeyUsage | str,
                           *, at: datetime, public_key: ec.EllipticCurvePublicKey | None = None,
                           common_name: str | None = None, keep_private_key: bool = False,
                           validity: timedelta = ORGANISATION_VALIDITY) -> IssuedCredential:
        """Issue and publish an organisation certificate (keep the private key in the repository
        only for parties opendcc itself plays)."""
        issued = self.pki.issue_organisation(entity, role, usage, at=at, public_key=public_key,
                                             common_name=common_name, validity=validity)
        self._publish(issued, keep_private_key)
        return issued

    def issue_device(self, device: EUI64, usage: KeyUsage | str, *, at: datetime,
                     public_key: ec.EllipticCurvePublicKey | None = None,
                     keep_private_key: bool = False) -> IssuedCredential:
        """Issue and publish a device certificate at manufacture."""
        issued = self.pki.issue_device(device, usage, at=at, public_key=public_key)
        self._publish(issued, keep_private_key)
        return issued

    def renew(self, serial: int | str, *, at: datetime,
              public_key: ec.EllipticCurvePublicKey | None = None,
              keep_private_key: bool = False) -> IssuedCredential:
        """Replace an organisation certificate; the old one becomes "not in use"."""
        old = self.repository.get(serial)
        if old is None:
            raise RepositoryError(f"no published certificate with serial {serial}")
        if old.revocation is not None:
            raise RepositoryError(f"certificate {old.certificate.serial_hex} is revoked;"
                                  " issue a new one instead")
        issued = self.pki.renew(old.certificate, at=at, public_key=public_key)
        self._publish(issued, keep_private_key, name=old.name)
        self.repository.mark_superseded(old, issued.certificate.serial)
        return issued

    def revoke(self, serial: int | str, *, at: datetime, reason: str = "unspecified") -> Revocation:
        """Revoke a published certificate: refused everywhere from the next check on."""
        return self.repository.revoke(serial, at=at, reason=reason)

    def crl(self, ca: CertificateAuthority, *, at: datetime) -> x509.CertificateRevocationList:
        """The CRL of one of this PKI's CAs."""
        from opendcc.smki.revocation import build_crl

        return build_crl(ca, self.repository.revocations(), at=at)

    def _publish(self, issued: IssuedCredential, keep_private_key: bool,
                 name: str | None = None) -> None:
        cert = issued.certificate
        label = name or cert.common_name or (
            f"{cert.entity.lower if cert.entity else cert.serial_hex}-{cert.role_name or 'device'}"
            f"-{cert.usage.value if cert.usage else ''}")
        self.repository.add(cert, name=label,
                            private_key=issued.private_key if keep_private_key else None)
