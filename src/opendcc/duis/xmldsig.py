"""XML Signature as DUIS uses it, interoperable with the DCC's own signer (`dcc-xmldsig.jar`).

DUIS 5.4 §2.4 (and W3C XMLDSig 1.0): one enveloped `ds:Signature`, the last child of the root,
with a single `Reference URI=""` whose only transform is enveloped-signature, so the digest
(SHA-256) is over inclusive C14N 1.0 without comments of the document minus the Signature.
`SignedInfo` is canonicalised with the method it names (exclusive C14N in DUIS) and signed with
ECDSA P-256/SHA-256; `SignatureValue` is the raw r||s pair in base64. `KeyInfo` carries only
`X509Data/X509IssuerSerial`, by which the verifier finds the signer's SMKI certificate.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from xml.sax.saxutils import escape

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from lxml import etree

from opendcc.duis.parser import parse_xml
from opendcc.duis.response_codes import (
    CertificateExpired,
    CertificateUnknown,
    SignatureInvalid,
    SignatureMissing,
)

DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

_SIGNATURE = f"{{{DS}}}Signature"
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_COORD = 32  # P-256 coordinate length: SignatureValue is 64 octets

# (exclusive, with_comments) for each canonicalisation method SignedInfo may name.
_C14N_METHODS = {
    EXC_C14N: (True, False),
    EXC_C14N_COMMENTS: (True, True),
    C14N: (False, False),
    C14N_COMMENTS: (False, True),
}

CertificateLookup = Callable[[str, int], x509.Certificate | None]


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that checked out: the certificate it was made with, as KeyInfo named it."""

    certificate: x509.Certificate
    issuer: str
    serial: int


# --- canonicalisation ------------------------------------------------------------------------

def strip_whitespace(root: etree._Element) -> None:
    """Remove whitespace-only text between elements, as the DCC tool's parser does (in place).

    DUIS content has no mixed content, so whitespace-only text beside child elements is
    formatting; text of leaf elements is kept as it is.
    """
    for node in root.iter():
        if len(node) and node.text is not None and not node.text.strip():
            node.text = None
        if node is not root and node.tail is not None and not node.tail.strip():
            node.tail = None


def _document_digest(root: etree._Element, signature: etree._Element | None) -> bytes:
    """SHA-256 of inclusive C14N 1.0 (no comments) of the document without the Signature."""
    return hashlib.sha256(_c14n_without(root, signature)).digest()


def _c14n_without(root: etree._Element, signature: etree._Element | None) -> bytes:
    """The enveloped-signature transform followed by C14N 1.0, leaving the tree untouched.

    Detaching the element from an lxml tree would re-home its namespace declarations (and
    rename its prefix), so instead canonicalise the whole document and cut the Signature's
    span out of the output: C14N escapes `<` in text, so the last `<ds:Signature` start tag and
    the last end tag of that name delimit exactly the Signature element.
    """
    if signature is None:
        return _c14n_document(root)
    following = signature.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()
    if following is None and signature.getparent() is root:
        qname = (f"{signature.prefix}:Signature" if signature.prefix else "Signature").encode()
        full = _c14n_document(root)
        open_space, open_gt, close = b"<" + qname + b" ", b"<" + qname + b">", b"</" + qname + b">"
        # Only when the document holds exactly one element of that name is the cut unambiguous.
        if full.count(open_space) + full.count(open_gt) == 1 and full.count(close) == 1:
            begin = max(full.find(open_space), full.find(open_gt))
            finish = full.find(close)
            if 0 <= begin < finish:
                return full[:begin] + full[finish + len(close):]
    # Unusual placement: canonicalise a copy with the Signature removed (tail text kept).
    copy = etree.fromstring(etree.tostring(root.getroottree()), parser=_trusted_parser())
    parent_path = [p.index(c) for c, p in _ancestry(signature)]
    victim = copy
    for index in parent_path:
        victim = victim[index]
    parent = victim.getparent()
    assert parent is not None
    if victim.tail:
        previous = victim.getprevious()
        if previous is None:
            parent.text = (parent.text or "") + victim.tail
        else:
            previous.tail = (previous.tail or "") + victim.tail
    parent.remove(victim)
    return _c14n_document(copy)


def _ancestry(node: etree._Element) -> list[tuple[etree._Element, etree._Element]]:
    """(child, parent) pairs from the root down to `node`."""
    pairs = []
    parent = node.getparent()
    while parent is not None:
        pairs.append((node, parent))
        node, parent = parent, parent.getparent()
    return pairs[::-1]


def _trusted_parser() -> etree.XMLParser:
    # Re-parsing our own serialisation of an already safely parsed tree.
    return etree.XMLParser(resolve_entities=False, load_dtd=False, no_network=True,
                           huge_tree=False)


def _c14n_document(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), method="c14n", exclusive=False, with_comments=False)


def _c14n_signed_info(signed_info: etree._Element, method: str) -> bytes:
    try:
        exclusive, comments = _C14N_METHODS[method]
    except KeyError:
        raise SignatureInvalid(f"unsupported CanonicalizationMethod {method!r}") from None
    return etree.tostring(signed_info, method="c14n", exclusive=exclusive, with_comments=comments)


# --- signing ---------------------------------------------------------------------------------

# The SignedInfo opendcc writes, and its exclusive C14N form: fixed but for the digest, so the
# bytes to sign are formatted rather than canonicalised (a test checks they agree with lxml).
_SIGNED_INFO = (
    '<ds:SignedInfo><ds:CanonicalizationMethod Algorithm="' + EXC_C14N + '"/>'
    '<ds:SignatureMethod Algorithm="' + ECDSA_SHA256 + '"/><ds:Reference URI=""><ds:Transforms>'
    '<ds:Transform Algorithm="' + ENVELOPED + '"/></ds:Transforms>'
    '<ds:DigestMethod Algorithm="' + SHA256 + '"/><ds:DigestValue>{digest}</ds:DigestValue>'
    "</ds:Reference></ds:SignedInfo>"
)
SIGNED_INFO_C14N = (
    '<ds:SignedInfo xmlns:ds="' + DS + '"><ds:CanonicalizationMethod Algorithm="' + EXC_C14N
    + '"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="' + ECDSA_SHA256
    + '"></ds:SignatureMethod><ds:Reference URI=""><ds:Transforms><ds:Transform Algorithm="'
    + ENVELOPED + '"></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="' + SHA256
    + '"></ds:DigestMethod><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>'
    "</ds:SignedInfo>"
)
_SIGNED_INFO_HEAD, _SIGNED_INFO_TAIL = (part.encode("ascii") for part in
                                        SIGNED_INFO_C14N.split("{digest}"))
_SIGNATURE_XML = (
    '<ds:Signature xmlns:ds="' + DS + '">' + _SIGNED_INFO
    + "<ds:SignatureValue>{value}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>"
    "<ds:X509IssuerSerial>{key}</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature>"
)


def sign(root: etree._Element, private_key: ec.EllipticCurvePrivateKey,
         certificate: x509.Certificate) -> etree._Element:
    """Sign a DUIS document in place (DUIS §2.4): drop any old Signature, strip formatting, append ds:Signature."""
    for old in list(root.iterchildren(_SIGNATURE)):
        root.remove(old)
    strip_whitespace(root)
    digest = base64.b64encode(hashlib.sha256(_c14n_document(root)).digest()).decode("ascii")
    signature = copy.deepcopy(_signature_template(certificate))
    signature[0][2][2].text = digest  # SignedInfo/Reference/DigestValue
    root.append(signature)
    if signature.prefix == "ds":
        signed_info = _SIGNED_INFO_HEAD + digest.encode("ascii") + _SIGNED_INFO_TAIL
    else:
        # The document already binds the XMLDSig namespace to another prefix (the DCC's own
        # samples use `ns3`), so lxml writes the Signature with that prefix and a verifier
        # canonicalises SignedInfo with it: sign what it will see, not the `ds:` fast path.
        signed_info = _c14n_signed_info(signature[0], EXC_C14N)
    r, s = decode_dss_signature(private_key.sign(signed_info, _ECDSA_SHA256))
    signature[1].text = base64.b64encode(r.to_bytes(_COORD, "big")  # SignatureValue
                                         + s.to_bytes(_COORD, "big")).decode("ascii")
    return root


@lru_cache(maxsize=64)
def _signature_template(certificate: x509.Certificate) -> etree._Element:
    """A ds:Signature for this certificate, parsed once; signing copies it and fills two values."""
    key = (f"<ds:X509IssuerName>{escape(keyinfo_issuer(certificate))}</ds:X509IssuerName>"
           f"<ds:X509SerialNumber>{certificate.serial_number}</ds:X509SerialNumber>")
    return etree.fromstring(_SIGNATURE_XML.format(digest="", value="", key=key))


def sign_bytes(xml: bytes, private_key: ec.EllipticCurvePrivateKey,
               certificate: x509.Certificate) -> bytes:
    """Parse (safely), sign and serialise a DUIS document."""
    root = sign(parse_xml(xml), private_key, certificate)
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")


def keyinfo_issuer(certificate: x509.Certificate) -> str:
    """The issuer as the DCC tool writes X509IssuerName (RFC 2253 order, e.g. `CN=Z1,OU=07`)."""
    return certificate.issuer.rfc4514_string()


# --- verification ----------------------------------------------------------------------------

def verify(root: etree._Element, lookup: CertificateLookup, *,
           at: datetime | None = None, strict_whitespace: bool = False) -> VerifiedSignature:
    """Verify the enveloped DUIS signature of a document; the certificate comes from `lookup`.

    DUIS §2.4: raises SignatureMissing (no ds:Signature), CertificateUnknown (KeyInfo lacks
    X509IssuerSerial or lookup finds nothing), CertificateExpired (when `at` is given and falls
    outside the certificate's validity) or SignatureInvalid (detail says digest or signature).
    The tree is left as it was.

    Like the DCC's own verifier, a document that only gained whitespace between elements after
    signing (re-indented) is accepted: when the exact check fails, it is repeated on a copy
    without that whitespace. `strict_whitespace=True` turns this off.
    """
    try:
        return _verify(root, lookup, at)
    except SignatureInvalid:
        if strict_whitespace or not _has_formatting(root):
            raise
        stripped = copy.deepcopy(root)
        strip_whitespace(stripped)
        try:
            return _verify(stripped, lookup, at)
        except SignatureInvalid:
            pass
        raise


def _has_formatting(root: etree._Element) -> bool:
    """True when the document holds whitespace-only text between elements."""
    for node in root.iter():
        if len(node) and node.text is not None and not node.text.strip():
            return True
        if node is not root and node.tail is not None and not node.tail.strip():
            return True
    return False


def _verify(root: etree._Element, lookup: CertificateLookup,
            at: datetime | None) -> VerifiedSignature:
    signature = root.find(_SIGNATURE)
    if signature is None:
        raise SignatureMissing("the message has no ds:Signature")
    parts = _children(signature)
    signed_info = parts.get("SignedInfo")
    if signed_info is None:
        raise SignatureInvalid("ds:Signature has no ds:SignedInfo")

    issuer, serial = _key_info(parts.get("KeyInfo"))
    certificate = lookup(issuer, serial)
    if certificate is None:
        raise CertificateUnknown(f"no certificate issued by {issuer!r} with serial {serial}")
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    if at is not None and not (certificate.not_valid_before_utc <= at
                               <= certificate.not_valid_after_utc):
        raise CertificateExpired(
            f"certificate serial {serial} is valid {certificate.not_valid_before_utc:%Y-%m-%d} "
            f"to {certificate.not_valid_after_utc:%Y-%m-%d}, not at {at:%Y-%m-%d %H:%M}"
        )

    info = _children(signed_info)
    expected_digest = _reference_digest(signed_info)
    if _document_digest(root, signature) != expected_digest:
        raise SignatureInvalid("digest mismatch: the signed content was changed after signing")

    sig_method = info.get("SignatureMethod")
    if sig_method is None or sig_method.get("Algorithm") != ECDSA_SHA256:
        raise SignatureInvalid("SignatureMethod must be ecdsa-sha256")
    method = info.get("CanonicalizationMethod")
    signed = _c14n_signed_info(signed_info, "" if method is None else method.get("Algorithm", ""))
    value = parts.get("SignatureValue")
    raw = _b64(None if value is None else value.text, "SignatureValue")
    if len(raw) != 2 * _COORD:
        raise SignatureInvalid(f"SignatureValue is {len(raw)} octets; ECDSA P-256 r||s is 64")
    der = encode_dss_signature(int.from_bytes(raw[:_COORD], "big"),
                               int.from_bytes(raw[_COORD:], "big"))
    public_key = certificate.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        raise SignatureInvalid(f"certificate serial {serial} does not hold an EC key")
    try:
        public_key.verify(der, signed, _ECDSA_SHA256)
    except InvalidSignature:
        raise SignatureInvalid(
            f"signature mismatch: SignatureValue does not verify with certificate serial {serial}"
        ) from None
    return VerifiedSignature(certificate=certificate, issuer=issuer, serial=serial)


_DS_PREFIX_LEN = len(DS) + 2


def _children(element: etree._Element) -> dict[str, etree._Element]:
    """The first ds: child element of each local name (one pass over direct children only)."""
    found: dict[str, etree._Element] = {}
    for child in element:
        tag = child.tag
        if isinstance(tag, str) and tag.startswith("{" + DS + "}"):
            found.setdefault(tag[_DS_PREFIX_LEN:], child)
    return found


def _key_info(key_info: etree._Element | None) -> tuple[str, int]:
    issuer_serial = None
    if key_info is not None:
        data = _children(key_info).get("X509Data")
        if data is not None:
            issuer_serial = _children(data).get("X509IssuerSerial")
    if issuer_serial is None:
        raise CertificateUnknown("KeyInfo has no X509Data/X509IssuerSerial")
    fields = _children(issuer_serial)
    name, number = fields.get("X509IssuerName"), fields.get("X509SerialNumber")
    issuer = (name.text or "").strip() if name is not None else ""
    serial_text = (number.text or "").strip() if number is not None else ""
    if not issuer or not serial_text.isdigit():
        raise CertificateUnknown(
            f"KeyInfo X509IssuerSerial lacks issuer name or decimal serial (got {serial_text!r})"
        )
    return issuer, int(serial_text)


def _reference_digest(signed_info: etree._Element) -> bytes:
    refs = [c for c in signed_info if c.tag == _REFERENCE]
    if len(refs) != 1 or refs[0].get("URI") != "":
        raise SignatureInvalid('SignedInfo must hold exactly one Reference with URI=""')
    ref = _children(refs[0])
    transforms_element = ref.get("Transforms")
    transforms = [t.get("Algorithm") for t in
                  (transforms_element if transforms_element is not None else ())
                  if t.tag == _TRANSFORM]
    # Only the enveloped transform changes what is digested; a trailing C14N 1.0 (no comments)
    # transform is the default anyway.
    if ENVELOPED not in transforms or any(t not in (ENVELOPED, C14N) for t in transforms):
        raise SignatureInvalid(f"unsupported Reference transforms {transforms}")
    digest_method = ref.get("DigestMethod")
    if digest_method is None or digest_method.get("Algorithm") != SHA256:
        raise SignatureInvalid("DigestMethod must be sha256")
    value = ref.get("DigestValue")
    digest = _b64(None if value is None else value.text, "DigestValue")
    if len(digest) != 32:
        raise SignatureInvalid(f"DigestValue is {len(digest)} octets; SHA-256 gives 32")
    return digest


_REFERENCE = f"{{{DS}}}Reference"
_TRANSFORM = f"{{{DS}}}Transform"


def _b64(text: str | None, what: str) -> bytes:
    # Java wraps base64 with CR LF (serialised as &#13;): ignore all whitespace.
    compact = "".join((text or "").split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureInvalid(f"{what} is not base64") from None
