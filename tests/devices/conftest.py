"""Fixtures for the emulated devices: a simulated clock and small estates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendcc.clock import SimulatedClock
from opendcc.devices.esme import ESME
from opendcc.devices.estate import DEFAULT_ANCHORS, ZAZ1_SUPPLIER
from opendcc.devices.gsme import GSME
from opendcc.ids import EUI64, MPxN

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@pytest.fixture
def t0() -> datetime:
    """Commissioning time of the fixture meters: Monday 2026-01-05 00:00 UTC."""
    return T0


@pytest.fixture
def supplier() -> str:
    """The supplier the fixture meters trust (ZAZ1 test supplier)."""
    return ZAZ1_SUPPLIER


@pytest.fixture
def clock() -> SimulatedClock:
    """Simulated time starting at a known Monday midnight."""
    return SimulatedClock(T0)


@pytest.fixture
def esme() -> ESME:
    """An ESME commissioned at T0 with the ZAZ1 trust anchors."""
    return ESME(EUI64.parse("00-DB-12-34-56-78-90-A0"), anchors=DEFAULT_ANCHORS, seed=11,
                origin=T0, opening_wh=1_000_000, mpxn=MPxN("1100000000011"))


@pytest.fixture
def gsme() -> GSME:
    """A GSME commissioned at T0."""
    return GSME(EUI64.parse("00-DB-12-34-56-78-90-A1"), anchors=DEFAULT_ANCHORS, seed=12,
                origin=T0, opening_wh=5_000_000, mpxn=MPxN("1000000001"))
