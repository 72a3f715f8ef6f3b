"""GBCS security: ECDSA signatures, ECDH + KDF key agreement, GMAC and AES-GCM (GBCS §4.3).

- Signatures (GBCS §4.3.2): ECDSA P-256 with SHA-256, raw r||s, over the General Signing
  APDU from the octet after its tag to the end of the payload.
- Key agreement (GBCS §4.3.3.3): static-static ECDH (P-256) gives Z; the NIST SP800-56A
  concatenation KDF with SHA-256 gives the 128-bit key from
  OtherInfo = AlgorithmID || originator ID || 09 || CRA flag || originator counter || recipient ID.
  The CRA flag is 1/2/3 for a MAC of a Command/Response/Alert and 4 for payload encryption.
- MAC (GBCS §6.2.3, §4.3.3.4): AES-128-GCM with no plaintext; IV = originator ID || 4 zero
  octets; AAD = security header || 00 || General Signing APDU; the MAC is the first 12 octets.
- Payload encryption (GBZ ciphered ZCL payloads): AES-128-GCM; IV = originator ID || the
  invocation counter of the part's security header; AAD = its security control octet (0x31);
  12-octet tag.

Z depends only on the key pair, so it is cached per (private key, peer public key): the
per-message cost is one SHA-256 and one GCM, not an ECDH.
"""

from __future__ import annotations

import hashlib
import weakref
from typing import Literal, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opendcc.ids import EUI64

Usage = Literal["ds", "ka"]

#: GBCS §4.3.3.3 AlgorithmID: the OID 2.16.756.6.8.3.0 contents (ECDH with AES-128-GCM).
ALGORITHM_ID = bytes.fromhex("60857406080300")
#: The CRA-flag value GBCS uses in OtherInfo when deriving a payload encryption key.
ENCRYPTION_FLAG = 4
MAC_LENGTH = 12
#: GBCS security header of an encrypted part: SC 0x31 (encrypted and authenticated), IC 0.
ENCRYPTION_HEADER = b"\x31\x00\x00\x00\x00"
_ECDSA = ec.ECDSA(hashes.SHA256())


class KeyLookup(Protocol):
    """Where certificates and private keys come from (opendcc.smki.keystore.KeyStore fits)."""

    def certificate(self, entity: EUI64, usage: Usage, *, pp: bool = False) -> x509.Certificate | None:
        """The certificate of a device or remote party for signing ("ds") or key agreement ("ka")."""
        ...

    def private_key(self, entity: EUI64, usage: Usage, *,
                    pp: bool = False) -> ec.EllipticCurvePrivateKey | None:
        """The private key, for the parties this process plays."""
        ...


class KeyCache:
    """Public keys and ECDH shared secrets, per key lookup, so each is computed once.

    A KeyCache is itself a KeyLookup; `cache_for(keys)` keeps one per lookup object.
    """

    def __init__(self, keys: KeyLookup) -> None:
        self.keys = keys
        self._public: dict[tuple[str, str, bool], ec.EllipticCurvePublicKey | None] = {}
        self._private: dict[tuple[str, str, bool], ec.EllipticCurvePrivateKey | None] = {}
        self._shared: dict[tuple[str, bool, str, bool], bytes | None] = {}

    def public_key(self, entity: EUI64, usage: Usage, pp: bool = False) -> ec.EllipticCurvePublicKey | None:
        """The entity's public key from its certificate (or a bare key, when the store has one)."""
        k = (entity.hex, usage, pp)
        if k not in self._public:
            self._public[k] = self._load_public(entity, usage, pp)
        return self._public[k]

    def _load_public(self, entity: EUI64, usage: Usage, pp: bool) -> ec.EllipticCurvePublicKey | None:
        cert = self.keys.certificate(entity, usage, pp=pp)
        key: object = cert.public_key() if cert is not None else None
        if key is None:
            bare = getattr(self.keys, "public_key", None)
            key = bare(entity, usage, pp=pp) if callable(bare) else None
        return key if isinstance(key, ec.EllipticCurvePublicKey) else None

    def certificate(self, entity: EUI64, usage: Usage, *, pp: bool = False) -> x509.Certificate | None:
        """The entity's certificate (not cached: only public keys are)."""
        return self.keys.certificate(entity, usage, pp=pp)

    def private_key(self, entity: EUI64, usage: Usage, *,
                    pp: bool = False) -> ec.EllipticCurvePrivateKey | None:
        """The entity's private key, if this process holds it."""
        k = (entity.hex, usage, pp)
        if k not in self._private:
            self._private[k] = self.keys.private_key(entity, usage, pp=pp)
        return self._private[k]

    def shared_secret(self, local: EUI64, remote: EUI64, *, local_pp: bool = False,
                      remote_pp: bool = False) -> bytes | None:
        """GBCS §4.3.3.3: Z from our KA private key and the peer's KA public key, or None."""
        k = (local.hex, local_pp, remote.hex, remote_pp)
        if k not in self._shared:
            priv = self.private_key(local, "ka", pp=local_pp)
            pub = self.public_key(remote, "ka", remote_pp)
            self._shared[k] = priv.exchange(ec.ECDH(), pub) if priv and pub else None
        return self._shared[k]

    def agreed_secret(self, a: EUI64, b: EUI64, *, a_pp: bool = False,
                      b_pp: bool = False) -> bytes | None:
        """Z between two parties, from whichever side's private key is held."""
        z = self.shared_secret(a, b, local_pp=a_pp, remote_pp=b_pp)
        return z if z is not None else self.shared_secret(b, a, local_pp=b_pp, remote_pp=a_pp)


_caches: weakref.WeakKeyDictionary[object, KeyCache] = weakref.WeakKeyDictionary()


def cache_for(keys: KeyLookup) -> KeyCache:
    """The KeyCache of a key lookup, kept as long as the lookup lives."""
    if isinstance(keys, KeyCache):
        return keys
    try:
        cache = _caches.get(keys)
        if cache is None:
            cache = _caches[keys] = KeyCache(keys)
        return cache
    except TypeError:  # not weak-referenceable: cache for this call only
        return KeyCache(keys)


def kdf(z: bytes, originator: EUI64, cra_flag: int, counter: int, recipient: EUI64) -> bytes:
    """GBCS §4.3.3.3: SP800-56A concatenation KDF (one SHA-256 round) -> AES-128 key."""
    other_info = b"".join((ALGORITHM_ID, bytes(originator), bytes((9, cra_flag)),
                           counter.to_bytes(8, "big"), bytes(recipient)))
    return hashlib.sha256(b"\x00\x00\x00\x01" + z + other_info).digest()[:16]


def _iv(originator: EUI64, invocation: bytes = b"\x00\x00\x00\x00") -> bytes:
    """GBCS §4.3.3.4: the originator's system title and the invocation field (zero in GBCS)."""
    return bytes(originator) + invocation


def gmac(key: bytes, originator: EUI64, aad: bytes) -> bytes:
    """AES-128-GCM over no plaintext: the first 12 octets of the tag."""
    # AESGCM (one call) rather than a Cipher context: 1.8 us against 4.6 us per MAC, measured;
    # a GCM tag truncated to 12 octets is its first 12 (NIST SP 800-38D §5.2.1.2).
    return AESGCM(key).encrypt(_iv(originator), b"", aad)[:MAC_LENGTH]


def mac_aad(security_header: bytes, apdu: bytes) -> bytes:
    """GBCS §6.2.3: the data a MAC Header's MAC covers."""
    return security_header + b"\x00" + apdu


def decrypt(key: bytes, originator: EUI64, ciphertext_and_tag: bytes,
            header: bytes = ENCRYPTION_HEADER) -> bytes | None:
    """GBCS §4.3.3: decrypt an encrypted payload part; None when its tag does not verify."""
    if len(ciphertext_and_tag) < MAC_LENGTH or len(header) != 5:
        return None
    body, tag = ciphertext_and_tag[:-MAC_LENGTH], ciphertext_and_tag[-MAC_LENGTH:]
    iv = _iv(originator, header[1:])
    dec = Cipher(algorithms.AES(key), modes.GCM(iv, tag, min_tag_length=MAC_LENGTH)).decryptor()
    dec.authenticate_additional_data(header[:1])
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        return None


def encrypt(key: bytes, originator: EUI64, plaintext: bytes,
            header: bytes = ENCRYPTION_HEADER) -> bytes:
    """GBCS §4.3.3: encrypt a payload part; ciphertext followed by the 12-octet tag."""
    # AESGCM as in `gmac` (2.0 us against 5.0 us, measured): ciphertext, then the full tag.
    sealed = AESGCM(key).encrypt(_iv(originator, header[1:]), plaintext, header[:1])
    return sealed[:-16] + sealed[-16:-16 + MAC_LENGTH]


def sign(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """GBCS §4.3.2: ECDSA P-256/SHA-256 signature as 64 octets r||s."""
    r, s = decode_dss_signature(key.sign(data, _ECDSA))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def verify(key: ec.EllipticCurvePublicKey, data: bytes, signature: bytes) -> bool:
    """GBCS §4.3.2: check a 64-octet r||s signature."""
    if len(signature) != 64:
        return False
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                               int.from_bytes(signature[32:], "big"))
    try:
        key.verify(der, data, _ECDSA)
    except InvalidSignature:
        return False
    return True
