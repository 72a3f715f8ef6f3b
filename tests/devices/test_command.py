"""GBCS commands end to end over the WAN: authenticate at the device, execute or hold, refuse cleanly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opendcc.clock import SimulatedClock
from opendcc.devices.errors import NotAuthorised, NotOnWhitelist, ReplayedCounter
from opendcc.devices.esme import ESME
from opendcc.devices.estate import ZAZ1_SUPPLIER, Estate
from opendcc.devices.events import Alert
from opendcc.devices.results import Outcome
from opendcc.devices.security import CommandHeader, RemotePartyRole
from opendcc.devices.supply import SupplyState
from opendcc.devices.tariff import Tariff

ESME_ID = "00-DB-12-34-56-78-90-A0"


def _header(counter: int, originator: str = ZAZ1_SUPPLIER) -> CommandHeader:
    return CommandHeader(originator, RemotePartyRole.SUPPLIER, counter)


@pytest.fixture
def estate(clock: SimulatedClock) -> Estate:
    return Estate.demo(0, clock=clock)


def _esme(estate: Estate) -> ESME:
    esme = estate.device(ESME_ID)
    assert isinstance(esme, ESME)
    return esme


def test_command_executes_over_the_wan(estate: Estate, clock: SimulatedClock) -> None:
    d = estate.command(ESME_ID, "ECS43", _header(1))
    clock.advance(30)
    assert d.ok and d.response is not None
    assert d.response.value.state is SupplyState.DISABLED
    assert _esme(estate).supply_state is SupplyState.DISABLED


def test_replayed_command_is_refused_and_changes_nothing(estate: Estate,
                                                         clock: SimulatedClock) -> None:
    first = estate.command(ESME_ID, "ECS01b", _header(7), tou_prices=(1111,))
    clock.advance(30)
    assert first.ok
    replay = estate.command(ESME_ID, "ECS01b", _header(7), tou_prices=(2222,))
    clock.advance(30)
    assert isinstance(replay.error, ReplayedCounter)
    assert _esme(estate).tariff.tou_prices == (1111,)


def test_command_from_the_wrong_supplier_is_refused(estate: Estate, clock: SimulatedClock) -> None:
    d = estate.command(ESME_ID, "ECS43", _header(1, "90-B3-D5-1F-30-01-00-99"))
    clock.advance(30)
    assert isinstance(d.error, NotAuthorised)
    assert _esme(estate).supply_state is SupplyState.ENABLED


def test_future_dated_command_is_held_then_runs(clock: SimulatedClock) -> None:
    alerts: list[Alert] = []
    estate = Estate.demo(0, clock=clock, alert_sink=alerts.append)
    at = clock.now() + timedelta(hours=6)
    tariff = Tariff(tou_prices=(1999,))
    d = estate.command(ESME_ID, "ECS01a", _header(3), execute_at=at, tariff=tariff)
    clock.advance(30)
    assert d.ok and d.response is not None and d.response.outcome is Outcome.SCHEDULED
    assert [p.ref for p in _esme(estate).pending()] == [f"{ZAZ1_SUPPLIER}:3"]
    clock.advance(6 * 3600)
    assert _esme(estate).tariff == tariff
    assert "8F66" in [a.code_text for a in alerts]


def test_gsme_read_is_answered_by_the_gpf_without_waiting(estate: Estate,
                                                         clock: SimulatedClock) -> None:
    d = estate.command("00-DB-12-34-56-78-90-A1", "GCS13a", _header(1))
    clock.advance(30)
    assert d.ok and d.response is not None and d.response.value.total_wh > 0


def test_command_to_a_device_off_the_whitelist_is_refused(estate: Estate,
                                                          clock: SimulatedClock) -> None:
    p = estate.premises_of(ESME_ID)
    p.chf.remove_device_from_device_log(ESME_ID, clock.now())
    d = estate.command(ESME_ID, "ECS43", _header(1))
    clock.advance(30)
    assert isinstance(d.error, NotOnWhitelist)
    assert _esme(estate).supply_state is SupplyState.ENABLED
    assert _esme(estate).counters is None
