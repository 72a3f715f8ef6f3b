"""The key store: certificates and (for parties opendcc plays) private keys, by the lookups
DUIS and GBCS need.

- DUIS XMLDSig finds the signer's certificate by the issuer + serial in KeyInfo
  (`KeyStore.lookup`).
- GBCS finds a remote party's or device's certificate and key by entity EUI-64 and key usage,
  digital signing ("ds") or key agreement ("ka"), optionally the prepayment ("pp") KA key
  (`KeyStore.certificate`, `KeyStore.private_key`).
- Gateway and client find an organisation's DUIS signing credential (`KeyStore.xml_signing`).

`KeyStore.from_reference()` imports the ZAZ1 test PKI from the reference folder (keys/,
keys/dccboxed-keystore.json, gbcs/keystore/). Certificate *validation* (dates, chain,
revocation) lives in `opendcc.smki.validation`; this module only stores and finds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opendcc.config import reference_dir
from opendcc.ids import EUI64

if TYPE_CHECKING:
    from opendcc.smki.repository import CertificateRepository

# X.520 uniqueIdentifier (x500UniqueIdentifier): SMKI organisation certificates carry the
# entity's EUI-64 here as a DER BIT STRING.
_OID_UNIQUE_IDENTIFIER = x509.ObjectIdentifier("2.5.4.45")
# RFC 4108 hardwareModuleName in subjectAltName: SMKI device certificates carry the device
# EUI-64 as its hwSerialNum.
_OID_HW_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")


class KeyUsage(StrEnum):
    """The two SMKI key usages: digital signing and key agreement."""

    DS = "ds"
    KA = "ka"


def normalise_issuer(issuer: str | x509.Name) -> frozenset[tuple[str, str]]:
    """An issuer name as an order- and spacing-insensitive set of (attribute, value) pairs.

    DUIS KeyInfo writes `CN=Z1,OU=07` while RFC 4514 rendering gives `OU=07,CN=Z1`; both name
    the same issuer.
    """
    if isinstance(issuer, x509.Name):
        issuer = issuer.rfc4514_string()
    pairs = set()
    for part in issuer.replace(";", ",").split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            pairs.add((k.strip().upper(), v.strip()))
    return frozenset(pairs)


@dataclass(frozen=True)
class Credential:
    """One certificate, the entity it identifies, and its private key when opendcc holds it."""

    entity: EUI64
    usage: KeyUsage
    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey | None
    name: str
    role: int | None
    prepayment: bool = False

    @property
    def serial(self) -> int:
        """The certificate serial number."""
        return self.certificate.serial_number

    @property
    def issuer(self) -> str:
        """The issuer as DUIS KeyInfo writes it (`CN=Z1,OU=07`)."""
        return issuer_for_keyinfo(self.certificate)


def issuer_for_keyinfo(cert: x509.Certificate) -> str:
    """The issuer distinguished name in the form the DCC tool writes in X509IssuerName."""
    # The DCC tool (Java) writes the RFC 2253 form in the certificate's own RDN order reversed
    # (most significant last), which for ZAZ1 gives `CN=Z1,OU=07`.
    return cert.issuer.rfc4514_string()


def entity_of(cert: x509.Certificate) -> EUI64 | None:
    """The EUI-64 an SMKI certificate identifies: organisation (uniqueIdentifier) or device (hwSerialNum)."""
    for attr in cert.subject.get_attributes_for_oid(_OID_UNIQUE_IDENTIFIER):
        raw = attr.value if isinstance(attr.value, bytes) else attr.value.encode("latin-1")
        # DER BIT STRING value: first octet is the unused-bits count, then the 8 EUI octets.
        if len(raw) >= 9:
            return EUI64.from_bytes(raw[-8:])
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == _OID_HW_MODULE_NAME and len(other.value) >= 10:
            # SEQUENCE { hwType OID, hwSerialNum OCTET STRING (8) }: the serial is last.
            return EUI64.from_bytes(other.value[-8:])
    return None


def role_of(cert: x509.Certificate) -> int | None:
    """The SMKI role code carried in the organisation certificate's OU (hex, e.g. 02 supplier)."""
    for attr in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME):
        try:
            return int(str(attr.value), 16)
        except ValueError:
            return None
    return None


def usage_of(cert: x509.Certificate) -> KeyUsage | None:
    """Digital signing or key agreement, from the KeyUsage extension."""
    try:
        ku = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if ku.key_agreement:
        return KeyUsage.KA
    if ku.digital_signature:
        return KeyUsage.DS
    return None


class KeyStore:
    """An in-memory index of credentials, by serial, by issuer+serial and by entity+usage."""

    def __init__(self, credentials: Iterable[Credential] = ()) -> None:
        self._by_serial: dict[int, list[Credential]] = {}
        self._by_entity: dict[tuple[str, KeyUsage, bool], list[Credential]] = {}
        # Bare public keys with no certificate (the RTDS keystore has one such KA key).
        self._public_keys: dict[tuple[str, KeyUsage], ec.EllipticCurvePublicKey] = {}
        # Entries that could not be imported, by name, with the reason.
        self.skipped: dict[str, str] = {}
        for c in credentials:
            self.add(c)

    def add(self, cred: Credential) -> None:
        """Add a credential; a second copy of a known certificate only contributes its private key."""
        same = [c for c in self._by_serial.get(cred.serial, []) if c.certificate == cred.certificate]
        if same:
            old = same[0]
            if old.private_key is None and cred.private_key is not None:
                merged = Credential(old.entity, old.usage, old.certificate, cred.private_key,
                                    old.name, old.role, old.prepayment)
                self._replace(old, merged)
            return
        self._by_serial.setdefault(cred.serial, []).append(cred)
        self._by_entity.setdefault((cred.entity.hex, cred.usage, cred.prepayment), []).append(cred)

    def _replace(self, old: Credential, new: Credential) -> None:
        for index in (self._by_serial[old.serial],
                      self._by_entity[(old.entity.hex, old.usage, old.prepayment)]):
            index[index.index(old)] = new

    def add_public_key(self, entity: EUI64, usage: KeyUsage,
                       key: ec.EllipticCurvePublicKey) -> None:
        """Record a public key known without a certificate."""
        self._public_keys[(entity.hex, usage)] = key

    def public_key(self, entity: EUI64, usage: KeyUsage | str, *,
                   pp: bool = False) -> ec.EllipticCurvePublicKey | None:
        """A party's public key: from its certificate, else a bare public key on record."""
        cert = self.certificate(entity, usage, pp=pp)
        if cert is not None:
            key = cert.public_key()
            return key if isinstance(key, ec.EllipticCurvePublicKey) else None
        return None if pp else self._public_keys.get((entity.hex, KeyUsage(usage)))

    def __iter__(self) -> Iterator[Credential]:
        for creds in self._by_serial.values():
            yield from creds

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_serial.values())

    def by_issuer_serial(self, issuer: str | x509.Name | None, serial: int) -> Credential | None:
        """The credential whose certificate has this serial (and issuer, when given)."""
        wanted = normalise_issuer(issuer) if issuer else None
        for cred in self._by_serial.get(serial, []):
            if wanted is None or normalise_issuer(cred.certificate.issuer) == wanted:
                return cred
        return None

    def lookup(self, issuer: str, serial: int) -> x509.Certificate | None:
        """XMLDSig KeyInfo lookup: certificate by X509IssuerName + X509SerialNumber."""
        cred = self.by_issuer_serial(issuer, serial)
        return cred.certificate if cred else None

    def credentials(self, entity: EUI64, usage: KeyUsage | None = None, *,
                    prepayment: bool = False) -> list[Credential]:
        """Every credential of an entity (optionally of one usage), in preference order."""
        usages = [usage] if usage else list(KeyUsage)
        out: list[Credential] = []
        for u in usages:
            out += self._by_entity.get((entity.hex, u, prepayment), [])
        return out

    def credential(self, entity: EUI64, usage: KeyUsage | str, *,
                   prepayment: bool = False) -> Credential | None:
        """The preferred credential of an entity for a usage (GBCS remote-party/device lookup)."""
        found = self.credentials(entity, KeyUsage(usage), prepayment=prepayment)
        return found[0] if found else None

    def certificate(self, entity: EUI64, usage: KeyUsage | str, *,
                    pp: bool = False) -> x509.Certificate | None:
        """GBCS: the certificate of a device or remote party for signing or key agreement."""
        cred = self.credential(entity, usage, prepayment=pp)
        return cred.certificate if cred else None

    def private_key(self, entity: EUI64, usage: KeyUsage | str, *,
                    pp: bool = False) -> ec.EllipticCurvePrivateKey | None:
        """GBCS: the private key, for parties opendcc plays (DCC roles, simulated users/devices)."""
        for cred in self.credentials(entity, KeyUsage(usage), prepayment=pp):
            if cred.private_key is not None:
                return cred.private_key
        return None

    def xml_signing(self, entity: EUI64) -> Credential | None:
        """The DUIS XML signing credential of an organisation (role XmlSign: 0x87 user, 0x89/0x89 DCC)."""
        creds = [c for c in self.credentials(entity, KeyUsage.DS) if c.private_key is not None]
        # The DCC tool signs with `xml-sign-*` (role 0x87) for users and `dsp-xml-sign-*` for
        # the DCC; prefer those, then any other signing key the entity has.
        for preferred in ("dsp-xml-sign-", "xml-sign-"):
            for c in creds:
                if c.name.startswith(preferred) and "pre-" not in c.name:
                    return c
        return creds[0] if creds else None

    @classmethod
    def from_repository(cls, repository: CertificateRepository) -> KeyStore:
        """Every certificate the SMKI repository publishes, with the private keys it keeps for
        parties opendcc plays: the chain of trust the gateway and codec use."""
        store = cls()
        for stored in repository.search():
            cred = make_credential(stored.certificate.certificate, stored.private_key(),
                                   stored.name or stored.certificate.serial_hex)
            if cred:
                store.add(cred)
        return store

    @classmethod
    def from_reference(cls, root: Path | None = None) -> KeyStore:
        """Import the ZAZ1 test PKI from the reference artefacts (cached per folder)."""
        return _load_reference(str((root or reference_dir()).resolve()))


def load_private_key(data: bytes) -> ec.EllipticCurvePrivateKey:
    """A PEM (PKCS#8 or SEC1) or DER EC private key."""
    key = (serialization.load_pem_private_key(data, password=None) if b"-----BEGIN" in data
           else serialization.load_der_private_key(data, password=None))
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("not an EC private key")
    return key


def load_certificate(data: bytes) -> x509.Certificate:
    """A PEM or DER certificate."""
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


def make_credential(cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None, name: str,
                    *, entity_hint: EUI64 | None = None,
                    usage_hint: KeyUsage | None = None) -> Credential | None:
    """Build a credential from a certificate, reading entity, usage and role from it."""
    entity = entity_of(cert) or entity_hint
    usage = usage_of(cert) or usage_hint
    if entity is None or usage is None:
        return None
    pp = "-pp-" in name.lower() or "pp-ka" in name.lower() or name.lower().endswith("pp-ka")
    return Credential(entity, usage, cert, key, name, role_of(cert), pp)


def _lenient_certificate(pem: bytes, name: str, store: KeyStore) -> x509.Certificate | None:
    from opendcc.smki.errors import CertificateRejected
    from opendcc.smki.profile import parse_certificate

    try:
        return parse_certificate(pem).certificate
    except CertificateRejected as exc:
        store.skipped[name] = str(exc)
        return None


@lru_cache(maxsize=8)
def _load_reference(root_text: str) -> KeyStore:
    root = Path(root_text)
    store = KeyStore()
    # GBCS keystore first: for GBCS lookups by entity its certificates are the ones the RTDS
    # vectors were made with.
    gbcs = root / "gbcs" / "keystore"
    for pem in sorted(gbcs.glob("*.pem")):
        stem = pem.stem  # <eui>[-pp]-<ds|ka>
        keyfile = pem.with_suffix(".key")
        key = load_private_key(keyfile.read_bytes()) if keyfile.exists() else None
        eui = EUI64.parse(stem.split("-")[0])
        usage = KeyUsage(stem.rsplit("-", 1)[1])
        data = pem.read_bytes()
        if b"BEGIN PUBLIC KEY" in data:
            pub = serialization.load_pem_public_key(data)
            if isinstance(pub, ec.EllipticCurvePublicKey):
                store.add_public_key(eui, usage, pub)
            continue
        cred = make_credential(load_certificate(data), key, stem, entity_hint=eui,
                               usage_hint=usage)
        if cred:
            store.add(cred)
    keys = root / "keys"
    for pem in sorted(keys.glob("*.pem")):
        if pem.name.endswith(".key.pem"):
            continue
        stem = pem.stem
        key = None
        for cand in (keys / f"{stem}.key", keys / f"{stem}.key.pem"):
            if cand.exists():
                key = load_private_key(cand.read_bytes())
                break
        cred = make_credential(load_certificate(pem.read_bytes()), key, stem)
        if cred:
            store.add(cred)
    boxed = keys / "dccboxed-keystore.json"
    if boxed.exists():
        data = json.loads(boxed.read_text())
        for eui_text, usages in data.items():
            for usage_name, by_serial in usages.items():
                hint = KeyUsage.KA if usage_name == "keyAgreement" else KeyUsage.DS
                for entry in by_serial.values():
                    pk = entry.get("privateKey")
                    name = str(entry.get("name", ""))
                    cert: x509.Certificate | None
                    try:
                        cert = load_certificate(entry["certificate"].encode())
                    except ValueError:
                        # A few DCC Boxed certificates (mdr-*) encode the signature algorithm
                        # with explicit NULL parameters, which strict DER parsers refuse; the
                        # SMKI profile parser reads them (and records the deviation).
                        cert = _lenient_certificate(entry["certificate"].encode(), name, store)
                        if cert is None:
                            continue
                    cred = make_credential(
                        cert, load_private_key(pk.encode()) if pk else None, name,
                        entity_hint=EUI64.parse(eui_text), usage_hint=hint)
                    if cred:
                        store.add(cred)
    return store
