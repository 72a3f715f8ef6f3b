"""The GB SMKI X.509 profile: what an organisation, device or CA certificate looks like, and a
parsed view of any certificate.

SEC Appendix A (Organisation Certificate Policy) and Appendix B (Device Certificate Policy):
every key is ECDSA P-256 signed with ecdsa-with-SHA256;

- an organisation certificate names its entity by EUI-64 in the subject's X.520
  uniqueIdentifier (a BIT STRING) and its remote-party role by a two-hex-digit OU, with one key
  usage (digitalSignature or keyAgreement), both critical, and a critical certificatePolicies;
- a device certificate has an empty subject and carries the device EUI-64 as the hwSerialNum of
  an RFC 4108 hardwareModuleName in a critical subjectAltName;
- a CA certificate has basicConstraints cA and keyCertSign.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtensionOID, NameOID, SignatureAlgorithmOID

from opendcc.ids import EUI64
from opendcc.smki.errors import MalformedCertificate
from opendcc.smki.keystore import KeyUsage

# X.520 uniqueIdentifier: the organisation's entity EUI-64, as a BIT STRING.
OID_UNIQUE_IDENTIFIER = NameOID.X500_UNIQUE_IDENTIFIER
# RFC 4108 id-on-hardwareModuleName: the device's EUI-64 in subjectAltName.
OID_HW_MODULE_NAME = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.4")
# hwType written in GB device certificates (the SMKI device certificate arc).
OID_HW_TYPE_GB_DEVICE = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.2.1")
# Certificate policies seen in the ZAZ1 test PKI: organisation and DCC Boxed device certificates
# name the first, the RTDS device certificates the second.
POLICY_ORGANISATION = x509.ObjectIdentifier("1.2.826.0.1.8641679.1.2.1.4")
POLICY_DEVICE_RTDS = x509.ObjectIdentifier("1.2.826.0.1.1800000.1.2.1.4")


class RemotePartyRole(IntEnum):
    """GBCS Remote Party Role codes, as written (in hex) in an organisation certificate's OU."""

    ROOT = 0
    RECOVERY = 1
    SUPPLIER = 2
    NETWORK_OPERATOR = 3
    ACCESS_CONTROL_BROKER = 4
    TRANSITIONAL_COS = 5
    WAN_PROVIDER = 6
    ISSUING_AUTHORITY = 7
    LOAD_CONTROLLER = 8
    OTHER_USER = 127
    XML_SIGN = 135
    DSP_XML_SIGN = 137

    @property
    def label(self) -> str:
        """The command-line spelling: `supplier`, `network-operator`, ..."""
        return self.name.lower().replace("_", "-")

    @classmethod
    def from_label(cls, text: str) -> RemotePartyRole:
        """Accept a label (`supplier`, `wan_provider`), a name or a decimal code."""
        key = text.strip().upper().replace("-", "_")
        if key.isdigit():
            return cls(int(key))
        aliases = {"OTHER": "OTHER_USER", "ACB": "ACCESS_CONTROL_BROKER", "DNO": "NETWORK_OPERATOR",
                   "NO": "NETWORK_OPERATOR", "TCOS": "TRANSITIONAL_COS", "WP": "WAN_PROVIDER"}
        try:
            return cls[aliases.get(key, key)]
        except KeyError:
            known = ", ".join(r.label for r in cls)
            raise ValueError(f"unknown SMKI role {text!r}; one of: {known}") from None


class CertificateKind(StrEnum):
    """The three kinds of certificate in SMKI."""

    ORGANISATION = "organisation"
    DEVICE = "device"
    CA = "ca"


@dataclass(frozen=True)
class SmkiCertificate:
    """A parsed SMKI certificate: who it certifies, for what, issued by whom, valid when."""

    der: bytes
    certificate: x509.Certificate
    kind: CertificateKind
    entity: EUI64 | None
    role: int | None
    usage: KeyUsage | None
    serial: int
    not_before: datetime
    not_after: datetime
    common_name: str | None = None
    policies: tuple[str, ...] = ()
    deviations: tuple[str, ...] = field(default=())

    @property
    def issuer(self) -> x509.Name:
        """The issuer distinguished name."""
        return self.certificate.issuer

    @property
    def issuer_text(self) -> str:
        """The issuer as an RFC 4514 string (`OU=07,CN=Z1`)."""
        return self.certificate.issuer.rfc4514_string()

    @property
    def serial_hex(self) -> str:
        """Upper-case hex serial, the form the DCC Boxed SMKI services use."""
        return format(self.serial, "X")

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the DER encoding, hex."""
        return hashlib.sha256(self.der).hexdigest()

    @property
    def role_name(self) -> str | None:
        """The role's label, when it is a known GBCS remote-party role."""
        if self.role is None:
            return None
        try:
            return RemotePartyRole(self.role).label
        except ValueError:
            return str(self.role)

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The certified P-256 public key."""
        key = self.certificate.public_key()
        assert isinstance(key, ec.EllipticCurvePublicKey)  # checked by parse_certificate
        return key

    @property
    def subject_key_id(self) -> bytes | None:
        """subjectKeyIdentifier, when present."""
        try:
            return self.certificate.extensions.get_extension_for_class(
                x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            return None

    def pem(self) -> str:
        """PEM text of the original DER."""
        return der_to_pem(self.der)


def der_to_pem(der: bytes) -> str:
    """Wrap DER in a PEM CERTIFICATE block, 64 characters a line."""
    import base64

    body = base64.b64encode(der).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def pem_or_der(data: bytes | str) -> bytes:
    """The DER bytes of a PEM or DER certificate."""
    import base64
    import binascii

    if isinstance(data, str):
        data = data.encode()
    if b"-----BEGIN CERTIFICATE-----" not in data:
        if data.lstrip().startswith(b"-----BEGIN"):
            kind = data.lstrip().split(b"\n", 1)[0].decode(errors="replace")
            raise MalformedCertificate(f"not a certificate: PEM block {kind}")
        return data
    body = data.split(b"-----BEGIN CERTIFICATE-----", 1)[1].split(b"-----END CERTIFICATE-----", 1)[0]
    try:
        return base64.b64decode(b"".join(body.split()), validate=True)
    except binascii.Error as exc:
        raise MalformedCertificate(f"PEM certificate body is not base64: {exc}") from None


# What cryptography raises on damaged content it parses lazily.
_PARSE_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion,
                 x509.DuplicateExtension, x509.UnsupportedGeneralNameType)


def parse_certificate(data: bytes | str | x509.Certificate) -> SmkiCertificate:
    """Parse a PEM or DER certificate into its SMKI view; raise MalformedCertificate if it is
    not DER X.509 in one of the SMKI forms (SEC Appendix A §4 / Appendix B §4)."""
    if isinstance(data, x509.Certificate):
        from cryptography.hazmat.primitives.serialization import Encoding

        der = data.public_bytes(Encoding.DER)
    else:
        der = pem_or_der(data)
    deviations: list[str] = []
    try:
        cert = x509.load_der_x509_certificate(der)
    except _PARSE_ERRORS as exc:
        repaired = _drop_null_ecdsa_parameters(der)
        if repaired is None:
            raise MalformedCertificate(f"not a DER X.509 certificate: {exc}") from None
        try:
            cert = x509.load_der_x509_certificate(repaired)
        except _PARSE_ERRORS:
            raise MalformedCertificate(f"not a DER X.509 certificate: {exc}") from None
        # Two ZAZ1 test certificates (MDR, issuer Z99) carry NULL parameters in
        # ecdsa-with-SHA256, which RFC 5758 §3.2 forbids; read them, but say so.
        deviations.append("ecdsa-with-SHA256 AlgorithmIdentifier carries NULL parameters")
    try:
        return _view(der, cert, tuple(deviations))
    except _PARSE_ERRORS as exc:
        # cryptography parses lazily: a damaged name, key or extension surfaces here.
        raise MalformedCertificate(
            f"certificate {_safe_serial(cert)}: {type(exc).__name__}: {exc}") from None


def _safe_serial(cert: x509.Certificate) -> str:
    try:
        return format(cert.serial_number, "X")
    except _PARSE_ERRORS:
        return "(unreadable serial)"


def _view(der: bytes, cert: x509.Certificate, deviations: tuple[str, ...]) -> SmkiCertificate:
    serial = cert.serial_number
    if serial <= 0:
        raise MalformedCertificate(f"certificate serial {serial} is not positive (RFC 5280 §4.1.2.2)")
    if cert.version != x509.Version.v3:
        raise MalformedCertificate(f"certificate {serial:X} is X.509 {cert.version.name}, not v3")
    # Read both names now, so that a damaged one is refused here rather than when first used.
    cert.issuer.rfc4514_string()
    cert.subject.rfc4514_string()
    if cert.signature_algorithm_oid != SignatureAlgorithmOID.ECDSA_WITH_SHA256:
        raise MalformedCertificate(
            f"certificate {serial:X}: signature algorithm {cert.signature_algorithm_oid.dotted_string}"
            " is not ecdsa-with-SHA256")
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise MalformedCertificate(f"certificate {serial:X}: key is not ECDSA P-256")
    extensions = cert.extensions
    kind, entity, role = _identify(cert, extensions, serial)
    return SmkiCertificate(
        der=der, certificate=cert, kind=kind, entity=entity, role=role,
        usage=_usage(extensions), serial=serial,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        common_name=_first(cert.subject, NameOID.COMMON_NAME),
        policies=_policies(extensions), deviations=deviations,
    )


def _identify(cert: x509.Certificate, extensions: x509.Extensions,
              serial: int) -> tuple[CertificateKind, EUI64 | None, int | None]:
    try:
        bc = extensions.get_extension_for_class(x509.BasicConstraints).value
        if bc.ca:
            return CertificateKind.CA, _org_entity(cert), _org_role(cert)
    except x509.ExtensionNotFound:
        pass
    device = _device_entity(extensions)
    if device is not None:
        if len(cert.subject) != 0:
            raise MalformedCertificate(f"device certificate {serial:X} has a non-empty subject")
        return CertificateKind.DEVICE, device, None
    entity = _org_entity(cert)
    if entity is None:
        raise MalformedCertificate(
            f"certificate {serial:X} names no entity: no uniqueIdentifier in the subject and no"
            " hardwareModuleName in subjectAltName")
    role = _org_role(cert)
    if role is None:
        raise MalformedCertificate(f"organisation certificate {serial:X} has no role in its OU")
    return CertificateKind.ORGANISATION, entity, role


def _org_entity(cert: x509.Certificate) -> EUI64 | None:
    for attr in cert.subject.get_attributes_for_oid(OID_UNIQUE_IDENTIFIER):
        raw = attr.value if isinstance(attr.value, bytes) else attr.value.encode("latin-1")
        # BIT STRING contents: the unused-bits octet (0) then the eight EUI-64 octets.
        if len(raw) == 9 and raw[0] == 0:
            return EUI64.from_bytes(raw[1:])
        if len(raw) == 8:
            return EUI64.from_bytes(raw)
    return None


def _org_role(cert: x509.Certificate) -> int | None:
    text = _first(cert.subject, NameOID.ORGANIZATIONAL_UNIT_NAME)
    if text is None:
        return None
    text = text.strip()
    # Two hex digits is the profile; certificates made before GBCS 1.4.1 wrote the code in
    # decimal (`137` for the DSP XML signing role).
    if len(text) == 2:
        try:
            return int(text, 16)
        except ValueError:
            return None
    return int(text) if text.isdigit() else None


def _device_entity(extensions: x509.Extensions) -> EUI64 | None:
    try:
        san = extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for other in san.get_values_for_type(x509.OtherName):
        if other.type_id == OID_HW_MODULE_NAME:
            serial = _hw_serial(other.value)
            if serial is not None and len(serial) == 8:
                return EUI64.from_bytes(serial)
    return None


def _hw_serial(value: bytes) -> bytes | None:
    """hwSerialNum from HardwareModuleName ::= SEQUENCE { hwType OID, hwSerialNum OCTET STRING }."""
    try:
        tag, body, _ = _tlv(value, 0)
        if tag != 0x30:
            return None
        tag, _, pos = _tlv(body, 0)
        if tag != 0x06:
            return None
        tag, serial, _ = _tlv(body, pos)
        return serial if tag == 0x04 else None
    except IndexError:
        return None


def _usage(extensions: x509.Extensions) -> KeyUsage | None:
    try:
        ku = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if ku.key_agreement and not ku.digital_signature:
        return KeyUsage.KA
    if ku.digital_signature and not ku.key_agreement:
        return KeyUsage.DS
    return None


def _policies(extensions: x509.Extensions) -> tuple[str, ...]:
    try:
        cp = extensions.get_extension_for_oid(ExtensionOID.CERTIFICATE_POLICIES).value
    except x509.ExtensionNotFound:
        return ()
    assert isinstance(cp, x509.CertificatePolicies)
    return tuple(p.policy_identifier.dotted_string for p in cp)


def _first(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    for attr in name.get_attributes_for_oid(oid):
        value = attr.value
        return value if isinstance(value, str) else value.decode("latin-1")
    return None


# --- a minimal DER walker, just enough to drop NULL parameters from ecdsa-with-SHA256 -------

_ECDSA_SHA256_WITH_NULL = bytes.fromhex("300c06082a8648ce3d0403020500")
_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")


def _tlv(data: bytes, pos: int) -> tuple[int, bytes, int]:
    """(tag, contents, next position) of the DER element at `pos`."""
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise IndexError("DER element runs past the end")
    return tag, data[pos : pos + length], pos + length


def _encode(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    size = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + body


def _children(body: bytes) -> list[bytes]:
    out, pos = [], 0
    while pos < len(body):
        start = pos
        _, _, pos = _tlv(body, pos)
        out.append(body[start:pos])
    return out


def _drop_null_ecdsa_parameters(der: bytes) -> bytes | None:
    """The certificate re-encoded without NULL parameters in its two signature AlgorithmIdentifiers,
    or None when that is not what is wrong with it."""
    if _ECDSA_SHA256_WITH_NULL not in der:
        return None
    try:
        tag, body, end = _tlv(der, 0)
        if tag != 0x30 or end != len(der):
            return None
        top = _children(body)
        if len(top) != 3:
            return None
        _, tbs_body, _ = _tlv(top[0], 0)
        tbs = [_ECDSA_SHA256 if c == _ECDSA_SHA256_WITH_NULL else c for c in _children(tbs_body)]
        outer_alg = _ECDSA_SHA256 if top[1] == _ECDSA_SHA256_WITH_NULL else top[1]
        return _encode(0x30, _encode(0x30, b"".join(tbs)) + outer_alg + top[2])
    except IndexError:
        return None


def public_key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """An 8-octet key identifier (SHA-256 of the encoded point, truncated), as ZAZ1 uses."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    digest = hashes.Hash(hashes.SHA256())
    digest.update(key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    return digest.finalize()[:8]
