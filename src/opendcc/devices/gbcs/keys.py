"""Device credentials: SMKI device certificates and private keys for emulated devices.

GBCS §4.3 / SMKI Appendix B: each device holds a digital-signing ("ds") and a key-agreement
("ka") key pair, certified by the SMKI Device CA at manufacture. The RTDS keystore publishes
the certificates of the RTDS devices but not their private keys, so an emulated device
cannot answer with them. opendcc therefore *manufactures* its emulated devices: each key pair
is derived from a seed and the device's EUI-64 (the same seed gives the same keys), certified
with `opendcc.smki.Authority.issue_device` and published in the SMKI repository, where a
supplier finds the certificate to check the device's MAC or signature. The private keys stay
with the device side (`device_credentials`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric import ec

from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import Credential, KeyStore, KeyUsage

#: The default manufacturing seed of opendcc's emulated devices.
DEFAULT_SEED = b"opendcc-emulated-devices"

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def device_private_key(device: EUI64, usage: KeyUsage | str,
                       seed: bytes = DEFAULT_SEED) -> ec.EllipticCurvePrivateKey:
    """The device's P-256 private key for `usage`, derived from the seed and its EUI-64."""
    label = f"{device.hex}/{KeyUsage(usage).value}".encode()
    digest = hmac.new(seed, label, hashlib.sha512).digest()
    scalar = int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def issue_device_credentials(authority: Authority, devices: Iterable[str | EUI64], *,
                             at: datetime, seed: bytes = DEFAULT_SEED) -> KeyStore:
    """SMKI Appendix B: certify the ds and ka keys of each device (published in the
    authority's repository, certificate only) and return them with their private keys."""
    store = KeyStore()
    for device in devices:
        eui = device if isinstance(device, EUI64) else EUI64.parse(device)
        for usage in (KeyUsage.DS, KeyUsage.KA):
            key = device_private_key(eui, usage, seed)
            issued = authority.issue_device(eui, usage, at=at, public_key=key.public_key())
            store.add(Credential(eui, usage, issued.certificate.certificate, key,
                                 f"{eui.hex.lower()}-{usage.value}", None))
    return store


def layered(*stores: KeyStore) -> KeyStore:
    """One store whose lookups prefer the earlier stores: e.g. opendcc's device credentials
    before the RTDS certificates of the same device IDs, then the remote parties' keys."""
    out = KeyStore()
    for store in stores:
        for cred in store:
            out.add(cred)
    return out
