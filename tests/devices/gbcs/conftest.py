"""Fixtures for the device side of GBCS: opendcc device credentials and a fresh boxed estate."""

from __future__ import annotations

from pathlib import Path

import pytest

from devices.gbcs.sites import T0, Keys, Site, make_site
from opendcc.clock import SimulatedClock
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import issue_device_credentials, layered
from opendcc.smki.authority import Authority
from opendcc.smki.keystore import KeyStore
from opendcc.smki.repository import CertificateRepository


@pytest.fixture(scope="session")
def gbcs_keys(reference: Path) -> Keys:
    """Device credentials for every boxed device, issued once by an in-memory SMKI; the
    supplier side sees only the certificates the SMKI repository publishes."""
    authority = Authority.open(CertificateRepository("sqlite://"), seed="0d" * 32)
    estate = Estate.demo(0, seed=1, clock=SimulatedClock(T0))
    devices = issue_device_credentials(authority, estate.device_ids(), at=T0)
    rtds = KeyStore.from_reference(reference)
    return Keys(layered(devices, rtds), layered(KeyStore.from_repository(authority.repository), rtds))


@pytest.fixture
def site(gbcs_keys: Keys) -> Site:
    """A fresh boxed estate one hour after commissioning, with its GBCS endpoint."""
    return make_site(gbcs_keys)
