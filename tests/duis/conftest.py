"""Fixtures for the DUIS tests: the SMKI key store and the DCC's signing credential."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from opendcc.smki.keystore import KeyStore, load_certificate, load_private_key

from .support import DCC_CERT, DCC_KEY


@pytest.fixture(scope="session")
def keystore() -> KeyStore:
    """The ZAZ1 test PKI (keys/, dccboxed-keystore.json, gbcs/keystore)."""
    return KeyStore.from_reference()


@dataclass(frozen=True)
class Signer:
    """A private key and its certificate."""

    private_key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


@pytest.fixture(scope="session")
def dcc_signer() -> Signer:
    """What opendcc signs its responses with: the DCC's dsp-xml-sign key."""
    return Signer(load_private_key(DCC_KEY.read_bytes()), load_certificate(DCC_CERT.read_bytes()))
