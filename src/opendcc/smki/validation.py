"""The one certificate check every part of opendcc uses before relying on a certificate.

SEC Appendix A §6 / Appendix B §6 (relying parties): check the certification path to a trusted
SMKI CA, the validity period at the time of use, the key usage, the revocation status, and that
the certificate belongs to the party presenting it.

Two kinds of trust:
- opendcc's own CAs (`Pki`): the issuer's signature is verified;
- import mode: the ZAZ1 test certificates published with DCC Boxed and the RTDS vectors. Their
  CAs (Z1, Z99, OB, E357) are not published, so their signatures cannot be checked; each such
  certificate is trusted because its exact DER was imported from the reference artefacts, and
  nothing else those CAs might have signed is.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import Encoding

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.smki.errors import (
    CertificateRejected,
    EntityMismatch,
    Expired,
    NotYetValid,
    Revoked,
    UntrustedIssuer,
    WrongKeyUsage,
)
from opendcc.smki.keystore import KeyUsage
from opendcc.smki.profile import CertificateKind, SmkiCertificate, parse_certificate


class RevocationCheck(Protocol):
    """Anything that can say whether a certificate is revoked (the repository's CRL cache)."""

    def is_revoked(self, issuer: str, serial: int) -> bool:
        """True when the certificate `issuer` (RFC 4514) / `serial` is on the CRL."""
        ...


_VERIFIED_CACHE = 100_000


class TrustStore:
    """Trusted CA certificates (signatures verified) and imported certificates (pinned by DER)."""

    def __init__(self) -> None:
        self._cas: dict[str, list[SmkiCertificate]] = {}
        self._pinned: dict[bytes, SmkiCertificate] = {}
        # Certificates whose issuer signature already verified: a signature never changes, so
        # the check is done once per certificate (bounded; cleared when full).
        self._verified: dict[bytes, SmkiCertificate] = {}

    def add_ca(self, ca: SmkiCertificate | bytes | str) -> SmkiCertificate:
        """Trust a CA certificate: a self-signed root, or a subordinate of a CA already trusted."""
        cert = ca if isinstance(ca, SmkiCertificate) else parse_certificate(ca)
        if cert.kind != CertificateKind.CA:
            raise UntrustedIssuer(f"certificate {cert.serial_hex} is not a CA certificate",
                                  serial=cert.serial)
        if cert.certificate.subject == cert.issuer:
            try:
                cert.certificate.verify_directly_issued_by(cert.certificate)
            except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
                raise UntrustedIssuer(f"root {cert.serial_hex} is not validly self-signed",
                                      serial=cert.serial) from None
        elif self.issuer_of(cert) is None:
            raise UntrustedIssuer(f"CA {cert.serial_hex}: issuer {cert.issuer_text} is not trusted",
                                  serial=cert.serial)
        self._cas.setdefault(cert.certificate.subject.rfc4514_string(), []).append(cert)
        return cert

    def pin(self, cert: SmkiCertificate | bytes | str) -> SmkiCertificate:
        """Import mode: trust exactly this certificate (whose CA key opendcc does not hold)."""
        parsed = cert if isinstance(cert, SmkiCertificate) else parse_certificate(cert)
        self._pinned[parsed.der] = parsed
        if parsed.deviations:
            # A certificate read only after repair (NULL algorithm parameters) reaches callers
            # as the repaired x509 object; it is the same certificate.
            self._pinned[parsed.certificate.public_bytes(Encoding.DER)] = parsed
        return parsed

    def is_pinned(self, cert: SmkiCertificate) -> bool:
        """True for a certificate imported from the reference artefacts."""
        return cert.der in self._pinned

    @property
    def pinned(self) -> list[SmkiCertificate]:
        """Every imported certificate."""
        return list({id(c): c for c in self._pinned.values()}.values())

    @property
    def authorities(self) -> list[SmkiCertificate]:
        """Every trusted CA certificate."""
        return [c for cas in self._cas.values() for c in cas]

    def issuer_of(self, cert: SmkiCertificate) -> SmkiCertificate | None:
        """The trusted CA whose name is the issuer and whose key verifies the signature."""
        known = self._verified.get(cert.der)
        if known is not None:
            return known
        for ca in self._cas.get(cert.issuer_text, []):
            try:
                cert.certificate.verify_directly_issued_by(ca.certificate)
            except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
                continue
            if len(self._verified) >= _VERIFIED_CACHE:
                self._verified.clear()
            self._verified[cert.der] = ca
            return ca
        return None

    def merged(self, other: TrustStore) -> TrustStore:
        """A store trusting what either store trusts."""
        out = TrustStore()
        for store in (self, other):
            for ca in store.authorities:
                out.add_ca(ca)
            for cert in store.pinned:
                out.pin(cert)
        return out

    @classmethod
    def from_reference(cls, root: Path | None = None) -> TrustStore:
        """Import mode: every certificate in keys/, gbcs/keystore/ and keys/dccboxed-keystore.json."""
        store = cls()
        for cert in reference_certificates(root):
            store.pin(cert)
        return store


def reference_certificates(root: Path | None = None) -> list[SmkiCertificate]:
    """The certificates of the ZAZ1 test PKI published with the reference artefacts."""
    base = root or reference_dir()
    texts: list[bytes] = []
    for folder in (base / "keys", base / "gbcs" / "keystore"):
        texts += [p.read_bytes() for p in sorted(folder.glob("*.pem"))]
    boxed = base / "keys" / "dccboxed-keystore.json"
    if boxed.exists():
        for usages in json.loads(boxed.read_text()).values():
            for by_serial in usages.values():
                texts += [entry["certificate"].encode() for entry in by_serial.values()]
    seen: dict[bytes, SmkiCertificate] = {}
    for text in texts:
        if b"BEGIN CERTIFICATE" not in text:
            continue  # private keys and the one bare public key in gbcs/keystore
        cert = parse_certificate(text)
        seen.setdefault(cert.der, cert)
    return list(seen.values())


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)


class Validator:
    """Trust anchors plus a revocation check: `validate()` answers for one certificate."""

    def __init__(self, trust: TrustStore, revocation: RevocationCheck | None = None, *,
                 reload_trust: Callable[[], TrustStore] | None = None) -> None:
        self.trust = trust
        self.revocation = revocation
        # Called once when a certificate's issuer is unknown: a CA or import published in the
        # shared repository after this validator was built (by another process) is then found.
        self._reload_trust = reload_trust

    def validate(self, cert: SmkiCertificate | x509.Certificate | bytes | str, *, at: datetime,
                 usage: KeyUsage | str | None, expected_entity: EUI64 | None = None,
                 ) -> SmkiCertificate:
        """SEC Appendix A/B relying-party checks, in order: DER and profile, certification path,
        revocation, validity period, key usage, entity. Returns the parsed certificate or raises
        the CertificateRejected subclass naming the first failure."""
        smki = cert if isinstance(cert, SmkiCertificate) else parse_certificate(cert)
        serial = smki.serial
        self._check_path(smki, at)
        if self.revocation is not None and self.revocation.is_revoked(smki.issuer_text, serial):
            raise Revoked(f"certificate {smki.serial_hex} (issuer {smki.issuer_text}) is revoked",
                          serial=serial)
        _check_period(smki, at)
        if usage is not None and smki.usage != KeyUsage(usage):
            have = smki.usage.value if smki.usage else "no single SMKI usage"
            raise WrongKeyUsage(
                f"certificate {smki.serial_hex} certifies a {have} key, used for {KeyUsage(usage).value}",
                serial=serial)
        if expected_entity is not None and smki.entity != expected_entity:
            raise EntityMismatch(
                f"certificate {smki.serial_hex} certifies entity {smki.entity}, presented by"
                f" {expected_entity}", serial=serial)
        return smki

    def _check_path(self, cert: SmkiCertificate, at: datetime) -> None:
        if self.trust.is_pinned(cert):
            return
        ca = self.trust.issuer_of(cert)
        if ca is None and self._reload_trust is not None:
            self.trust = self._reload_trust()
            if self.trust.is_pinned(cert):
                return
            ca = self.trust.issuer_of(cert)
        if ca is None:
            raise UntrustedIssuer(
                f"certificate {cert.serial_hex}: issuer {cert.issuer_text} is not a trusted SMKI CA"
                " (or its signature does not verify)", serial=cert.serial)
        try:
            _check_period(ca, at)
        except CertificateRejected as exc:
            raise UntrustedIssuer(f"certificate {cert.serial_hex}: issuing CA {ca.serial_hex}: {exc}",
                                  serial=cert.serial) from None
        if self.revocation is not None and self.revocation.is_revoked(ca.issuer_text, ca.serial):
            raise UntrustedIssuer(f"certificate {cert.serial_hex}: issuing CA {ca.serial_hex} is"
                                  " revoked", serial=cert.serial)


def _check_period(cert: SmkiCertificate, at: datetime) -> None:
    at = _aware(at)
    if at > cert.not_after:
        raise Expired(f"certificate {cert.serial_hex} expired on {cert.not_after:%Y-%m-%d %H:%M:%S}Z",
                      serial=cert.serial, not_after=cert.not_after)
    if at < cert.not_before:
        raise NotYetValid(
            f"certificate {cert.serial_hex} is not valid before {cert.not_before:%Y-%m-%d %H:%M:%S}Z",
            serial=cert.serial, not_before=cert.not_before)


_default: Validator | None = None


def default_validator() -> Validator:
    """The process-wide validator: the reference import plus whatever `set_default_validator` set."""
    global _default
    if _default is None:
        _default = Validator(TrustStore.from_reference())
    return _default


def set_default_validator(validator: Validator) -> None:
    """Install the validator `validate()` uses (the gateway does this with its repository's)."""
    global _default
    _default = validator


def validate(cert: SmkiCertificate | x509.Certificate | bytes | str, *, at: datetime,
             usage: KeyUsage | str | None, expected_entity: EUI64 | None = None,
             validator: Validator | None = None) -> SmkiCertificate:
    """Check a certificate before relying on it (see `Validator.validate`)."""
    return (validator or default_validator()).validate(cert, at=at, usage=usage,
                                                       expected_entity=expected_entity)


def trusted(cas: Iterable[SmkiCertificate]) -> TrustStore:
    """A trust store of the given CA certificates, roots first."""
    store = TrustStore()
    for ca in cas:
        store.add_ca(ca)
    return store
