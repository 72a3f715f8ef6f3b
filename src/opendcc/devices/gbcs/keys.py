"""Device credentials: SMKI device certificates and private keys for emulated devices.

GBCS §4.3 / SMKI Appendix B: each device holds a digital-signing ("ds") and a key-agreement
("ka") key pair, certified by the SMKI Device CA at manufacture. The RTDS keystore publishes
the certificates of the RTDS devices but not their private keys, so an emulated device
cannot answer with them. opendcc therefore *manufactures* its emulated devices: each private
key is derived from a per-estate secret and the device's EUI-64 (HKDF, FIPS 186-4 B.4.1), its
public key is certified with `opendcc.smki.Authority.issue_device` and published in the SMKI
repository, where a supplier finds the certificate to check the device's MAC or signature.
The private keys stay with the device side.

`DeviceCredentials` does this on demand: a device's key pair is derived, and its certificate
looked up in (or, the first time, issued into) the repository, only when a command or an alert
needs it; a small LRU keeps the live ones. An idle premises costs no key material at all.
`issue_device_credentials` does it eagerly for a list of devices and returns a `KeyStore`.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from opendcc.ids import EUI64
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import Credential, KeyStore, KeyUsage
from opendcc.smki.profile import CertificateKind
from opendcc.smki.repository import SOURCE_OPENDCC

#: The manufacturing secret of the fixed test estates (tests and RTDS replays only: anyone can
#: read it here, so `DeviceCredentials.open` makes a random one for an estate by default).
DEFAULT_SEED = b"opendcc-emulated-devices"
#: Where `DeviceCredentials.open` keeps the estate's secret: the SMKI repository's named values.
SECRET_STATE_KEY = "devices/manufacturing-secret"
#: How many devices' key pairs and certificates `DeviceCredentials` keeps live.
DEFAULT_LIVE = 256

_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HKDF_SALT = b"opendcc/devices/p256-key/v1"


def device_private_key(device: EUI64, usage: KeyUsage | str,
                       seed: bytes = DEFAULT_SEED) -> ec.EllipticCurvePrivateKey:
    """The device's P-256 private key for `usage`: HKDF-SHA-256 of the estate secret `seed`
    with the EUI-64 and usage as info, 384 bits reduced into [1, n-1] (FIPS 186-4 B.4.1, so the
    bias is below 2^-128). The same secret always gives the same keys."""
    info = bytes(device) + KeyUsage(usage).value.encode()
    okm = HKDF(hashes.SHA256(), 48, _HKDF_SALT, info).derive(seed)
    scalar = int.from_bytes(okm, "big") % (_P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _point(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


class DeviceCredentials:
    """The SMKI credentials of an estate's emulated devices, made when first needed.

    `hosts(eui)` says which entities are devices of the estate (others get nothing here).
    For a hosted device, `credentials(eui, usage)` derives its key pair from the estate secret,
    finds the certificate of that public key in the SMKI repository or issues and publishes
    it there (SMKI Appendix B, dated `manufactured_at`), and keeps the result in an LRU of
    `live` entries. Certificates are real SMKI device certificates: a supplier finds them in
    `authority.repository` and they verify against its Device CA. Thread-safe.
    """

    def __init__(self, authority: Authority, hosts: Callable[[EUI64], bool], *, secret: bytes,
                 manufactured_at: datetime, live: int = DEFAULT_LIVE) -> None:
        if len(secret) < 16:
            raise ValueError("a device manufacturing secret needs at least 16 octets")
        self.authority = authority
        self.hosts = hosts
        self.manufactured_at = manufactured_at
        self.live = live
        self._secret = secret
        self._cache: OrderedDict[tuple[str, KeyUsage], Credential] = OrderedDict()
        self._lock = threading.Lock()
        #: How many credentials were derived, and how many of those needed a new certificate
        #: (counts for tests and benchmarks; not kept exact under threads).
        self.derived = 0
        self.issued = 0

    @classmethod
    def open(cls, authority: Authority, hosts: Callable[[EUI64], bool], *,
             manufactured_at: datetime, secret: bytes | None = None,
             live: int = DEFAULT_LIVE) -> DeviceCredentials:
        """The credentials of the estate whose secret the authority's repository keeps: stored
        there on first use (a fresh random one unless `secret` is given), so every process
        sharing the repository derives the same device keys."""
        wanted = secret.hex() if secret is not None else os.urandom(32).hex()
        stored = authority.repository.set_state_once(SECRET_STATE_KEY, wanted)
        if secret is not None and stored != wanted:
            raise ValueError("this repository already holds a different device secret")
        return cls(authority, hosts, secret=bytes.fromhex(stored),
                   manufactured_at=manufactured_at, live=live)

    def private_key(self, device: EUI64, usage: KeyUsage | str) -> ec.EllipticCurvePrivateKey:
        """The device's private key for `usage` (derived, not stored)."""
        return device_private_key(device, usage, self._secret)

    def credentials(self, device: EUI64, usage: KeyUsage | None = None) -> list[Credential]:
        """The device's credentials (of one usage, or ds then ka); none for an entity that is
        not a device of the estate."""
        if not self.hosts(device):
            return []
        return [self.credential(device, u) for u in ([usage] if usage else list(KeyUsage))]

    def credential(self, device: EUI64, usage: KeyUsage | str) -> Credential:
        """The device's certificate and private key for `usage`, from the LRU or made now."""
        key = (device.hex, KeyUsage(usage))
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        # Made outside the lock: the repository has locks of its own. Two threads racing for
        # one device may both publish a certificate of the same key; either verifies.
        cred = self._make(device, key[1])
        with self._lock:
            self._cache[key] = cred
            while len(self._cache) > self.live:
                self._cache.popitem(last=False)
        return cred

    def issue(self, devices: Iterable[str | EUI64]) -> int:
        """Publish the certificates of `devices` now (as a manufacturer would, before they are
        installed); returns how many were newly issued. Nothing is kept in memory."""
        before = self.issued
        for device in devices:
            eui = device if isinstance(device, EUI64) else EUI64.parse(device)
            for usage in KeyUsage:
                self._make(eui, usage)
        return self.issued - before

    def _make(self, device: EUI64, usage: KeyUsage) -> Credential:
        private = self.private_key(device, usage)
        point = _point(private.public_key())
        self.derived += 1
        for stored in self.authority.repository.search(
                entity=device, kind=CertificateKind.DEVICE, usage=usage, source=SOURCE_OPENDCC):
            public = stored.certificate.certificate.public_key()
            if stored.revocation is None and isinstance(public, ec.EllipticCurvePublicKey) \
                    and _point(public) == point:
                return self._credential(device, usage, stored.certificate.der, private)
        issued = self.authority.issue_device(device, usage, at=self.manufactured_at,
                                             public_key=private.public_key())
        self.issued += 1
        return self._credential(device, usage, issued.certificate.der, private)

    @staticmethod
    def _credential(device: EUI64, usage: KeyUsage, der: bytes,
                    private: ec.EllipticCurvePrivateKey) -> Credential:
        # A fresh parse: the repository's parsed copy carries cached extension objects.
        return Credential(device, usage, x509.load_der_x509_certificate(der), private,
                          f"{device.hex.lower()}-{usage.value}", None)


class EstateKeyStore(KeyStore):
    """A key store for an emulated estate and the parties around it: the estate's devices'
    credentials from `DeviceCredentials` (made on demand, preferred for a hosted device ID, so
    they win over RTDS certificates of the same IDs), then the certificates and keys of
    `others` (remote parties, e.g. `KeyStore.from_reference()`)."""

    def __init__(self, devices: DeviceCredentials, *others: KeyStore) -> None:
        super().__init__(cred for store in others for cred in store)
        for store in others:
            for (entity_hex, usage), public in store._public_keys.items():
                self._public_keys.setdefault((entity_hex, usage), public)
        self.devices = devices

    def credentials(self, entity: EUI64, usage: KeyUsage | None = None, *,
                    prepayment: bool = False) -> list[Credential]:
        """The estate's credential for a hosted device first, then any others on record."""
        rest = super().credentials(entity, usage, prepayment=prepayment)
        if prepayment:
            return rest
        return self.devices.credentials(entity, usage) + rest


def issue_device_credentials(authority: Authority, devices: Iterable[str | EUI64], *,
                             at: datetime, seed: bytes = DEFAULT_SEED) -> KeyStore:
    """SMKI Appendix B: certify the ds and ka keys of each device (published in the
    authority's repository, certificate only) and return them with their private keys, all
    held in memory (`DeviceCredentials` makes them on demand instead)."""
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
