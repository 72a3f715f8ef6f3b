"""Signature checks plugged into a device: the anchored supplier's key, replays, wrong signers."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from opendcc.devices.authentication import SignatureAuthenticator, sign_raw
from opendcc.devices.errors import NotAuthorised, ReplayedCounter
from opendcc.devices.esme import ESME
from opendcc.devices.security import CommandHeader, RemotePartyRole, TrustAnchor
from opendcc.smki.keystore import KeyStore

SUPPLIER = "90-B3-D5-1F-30-01-00-00"


@pytest.fixture(scope="module")
def keystore(reference: Path) -> KeyStore:
    return KeyStore.from_reference(reference)


@pytest.fixture(scope="module")
def supplier_key(reference: Path) -> ec.EllipticCurvePrivateKey:
    pem = (reference / "gbcs" / "keystore" / "90b3d51f30010000-ds.key").read_bytes()
    key = serialization.load_pem_private_key(pem, None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def test_command_signed_by_the_anchored_supplier_is_accepted(
        esme: ESME, t0: datetime, keystore: KeyStore, supplier_key: ec.EllipticCurvePrivateKey,
        supplier: str) -> None:
    payload = b"ECS01a update tariff"
    header = CommandHeader(supplier, RemotePartyRole.SUPPLIER, 5, payload,
                           sign_raw(supplier_key, payload))
    auth = SignatureAuthenticator(keystore)
    esme.accept(header, t0, auth)
    with pytest.raises(ReplayedCounter):
        esme.accept(header, t0, auth)


def test_command_signed_by_another_key_is_refused(esme: ESME, t0: datetime, keystore: KeyStore,
                                                 supplier: str) -> None:
    payload = b"ECS43 disable supply"
    forged = sign_raw(ec.generate_private_key(ec.SECP256R1()), payload)
    with pytest.raises(NotAuthorised, match="does not verify"):
        esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 1, payload, forged), t0,
                    SignatureAuthenticator(keystore))
    assert esme.counters is None


def test_unsigned_command_is_refused(esme: ESME, t0: datetime, supplier: str) -> None:
    with pytest.raises(NotAuthorised, match="64-octet"):
        esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 1, b"x"), t0,
                    SignatureAuthenticator())


def test_anchor_certificate_is_used_when_present(t0: datetime, esme: ESME) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test supplier")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(t0)
            .not_valid_after(t0 + timedelta(days=1)).sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    esme.anchors = esme.anchors.with_anchor(RemotePartyRole.SUPPLIER, TrustAnchor(SUPPLIER, der))
    payload = b"ECS24"
    esme.accept(CommandHeader(SUPPLIER, RemotePartyRole.SUPPLIER, 1, payload,
                              sign_raw(key, payload)), t0, SignatureAuthenticator())
