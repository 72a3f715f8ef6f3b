"""A concrete `CommandAuthenticator`: ECDSA signatures by the anchored remote party.

GBCS §6 / §10.4: a critical command carries the remote party's ECDSA P-256 / SHA-256 signature,
as the 64-octet r||s, over the signed part of the command. The GBCS layer decides which octets
are signed and puts them in `CommandHeader.payload`; this authenticator checks the signature
with the anchor's certificate, or with the party's signing key from the SMKI key store.
MAC checks for non-critical commands need the GBCS key derivation and live in the GBCS layer.
"""

from __future__ import annotations

from typing import Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from opendcc.devices.errors import NotAuthorised
from opendcc.devices.security import CommandHeader, TrustAnchor
from opendcc.ids import EUI64


class PublicKeys(Protocol):
    """Where signing keys of remote parties are found (`opendcc.smki.keystore.KeyStore`)."""

    def public_key(self, entity: EUI64, usage: str, *,
                   pp: bool = False) -> ec.EllipticCurvePublicKey | None:
        """The party's public key for `usage` ("ds" for signing)."""
        ...


class SignatureAuthenticator:
    """Accept a command only with a valid signature by the party anchored for its role."""

    def __init__(self, keys: PublicKeys | None = None) -> None:
        self.keys = keys

    def _key(self, anchor: TrustAnchor) -> ec.EllipticCurvePublicKey:
        if anchor.certificate is not None:
            key = x509.load_der_x509_certificate(anchor.certificate).public_key()
            if isinstance(key, ec.EllipticCurvePublicKey):
                return key
        if self.keys is not None:
            found = self.keys.public_key(EUI64.parse(anchor.entity), "ds")
            if found is not None:
                return found
        raise NotAuthorised(f"no signing key for trust anchor {anchor.entity}")

    def authenticate(self, header: CommandHeader, anchor: TrustAnchor) -> None:
        """GBCS §6: verify the raw r||s signature over the payload; raise `NotAuthorised`."""
        if len(header.signature) != 64:
            raise NotAuthorised(
                f"command from {header.originator} needs a 64-octet signature, "
                f"got {len(header.signature)}")
        r = int.from_bytes(header.signature[:32], "big")
        s = int.from_bytes(header.signature[32:], "big")
        try:
            self._key(anchor).verify(encode_dss_signature(r, s), header.payload,
                                     ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            raise NotAuthorised(f"signature by {header.originator} does not verify") from None


def sign_raw(key: ec.EllipticCurvePrivateKey, payload: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 as GBCS writes it: r||s, 32 octets each (for tests and simulations)."""
    r, s = decode_dss_signature(key.sign(payload, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")
