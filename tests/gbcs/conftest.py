"""Fixtures for the GBCS codec tests: the reference key store."""

from __future__ import annotations

from pathlib import Path

import pytest

from opendcc.smki.keystore import KeyStore


@pytest.fixture(scope="session")
def keys(reference: Path) -> KeyStore:
    """The ZAZ1 test PKI with the RTDS GBCS keystore."""
    return KeyStore.from_reference(reference)
