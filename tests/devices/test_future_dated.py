"""GBCS §7.2.10: future-dated commands are held by the device and run when the clock gets there."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from opendcc.clock import SimulatedClock
from opendcc.devices.errors import FutureDateExpired, InvalidArgument, PendingCommandNotFound
from opendcc.devices.esme import ESME
from opendcc.devices.estate import Estate
from opendcc.devices.events import Alert
from opendcc.devices.results import Outcome
from opendcc.devices.tariff import Tariff

NEW = Tariff(tou_prices=(1999,), standing_charge=4000)


def test_future_dated_tariff_runs_at_its_time(esme: ESME, t0: datetime) -> None:
    at = t0 + timedelta(days=1)
    held = esme.schedule("req-1", "ECS01a", at, lambda t: esme.update_tariff(NEW, t), t0)
    assert held.outcome is Outcome.SCHEDULED
    assert esme.run_due(at - timedelta(seconds=1)) == []
    assert esme.tariff != NEW
    alerts = esme.run_due(at)
    assert esme.tariff == NEW
    assert [a.code_text for a in alerts] == ["8F66"]
    assert esme.pending() == []


def test_cancelled_command_never_runs(esme: ESME, t0: datetime) -> None:
    at = t0 + timedelta(hours=3)
    esme.schedule("req-2", "ECS01a", at, lambda t: esme.update_tariff(NEW, t), t0)
    assert esme.cancel("req-2", t0).outcome is Outcome.CANCELLED
    assert esme.run_due(at + timedelta(days=1)) == []
    assert esme.tariff != NEW
    with pytest.raises(PendingCommandNotFound):
        esme.cancel("req-2", t0)


def test_expired_future_date_is_refused(esme: ESME, t0: datetime) -> None:
    with pytest.raises(FutureDateExpired):
        esme.schedule("req-3", "ECS01a", t0, lambda t: esme.update_tariff(NEW, t), t0)
    assert esme.pending() == []


def test_pending_commands_are_kept_in_time_order(esme: ESME, t0: datetime) -> None:
    for ref, hours in (("b", 5), ("a", 2), ("c", 9)):
        esme.schedule(ref, "ECS01b", t0 + timedelta(hours=hours),
                      lambda t: esme.read_tariff(t), t0)
    assert [p.ref for p in esme.pending()] == ["a", "b", "c"]
    assert esme.next_due() == t0 + timedelta(hours=2)


def test_future_dated_firmware_activation(esme: ESME, t0: datetime) -> None:
    esme.distribute_firmware("2.0.0", b"\x01" * 32, t0)
    at = t0 + timedelta(days=2)
    esme.schedule("fw", "CS06", at, lambda t: esme.activate_firmware(b"\x01" * 32, t), t0)
    assert esme.read_firmware_version(t0).value.version == "1.0.0"
    esme.run_due(at)
    assert esme.read_firmware_version(at).value.version == "2.0.0"


def test_activating_firmware_that_was_not_distributed_is_refused(esme: ESME, t0: datetime) -> None:
    with pytest.raises(InvalidArgument):
        esme.activate_firmware(b"\x02" * 32, t0)
    assert esme.firmware.version == "1.0.0"


def test_failed_future_dated_command_still_reports(esme: ESME, t0: datetime) -> None:
    at = t0 + timedelta(hours=1)
    esme.schedule("fw", "CS06", at, lambda t: esme.activate_firmware(b"\x09", t), t0)
    [alert] = esme.run_due(at)
    assert "failed" in alert.detail


def test_estate_runs_held_commands_as_the_clock_advances(clock: SimulatedClock) -> None:
    alerts: list[Alert] = []
    estate = Estate.demo(clock=clock, premises=0, alert_sink=alerts.append)
    esme_id = "00-DB-12-34-56-78-90-A0"
    estate.schedule(esme_id, "r1", "ECS01a", clock.now() + timedelta(hours=1),
                    lambda d, t: d.update_tariff(NEW, t))
    clock.advance(3599)
    assert estate.device(esme_id).pending()
    clock.advance(60)
    esme = estate.device(esme_id)
    assert isinstance(esme, ESME) and esme.tariff == NEW and not esme.pending()
    assert [a.code_text for a in alerts] == ["8F66"]


def test_a_command_held_without_its_own_alert_is_logged_only(esme: ESME, t0: datetime) -> None:
    at = t0 + timedelta(hours=1)
    esme.schedule("gbcs", "ECS01a", at, lambda t: esme.update_tariff(NEW, t), t0, alert=False)
    assert esme.run_due(at) == [] and esme.outbox is None
    assert esme.tariff == NEW
    assert [e.code for e in esme.read_event_log(at).value][-1] == 0x8F66


def test_the_execution_time_is_on_the_device_clock(clock: SimulatedClock) -> None:
    estate = Estate.demo(clock=clock, premises=0)
    esme_id = "00-DB-12-34-56-78-90-A0"
    esme = estate.device(esme_id)
    esme.set_clock(clock.now() + timedelta(minutes=10), clock.now())  # the meter runs 10 min fast
    estate.schedule(esme_id, "r1", "ECS01a", clock.now() + timedelta(hours=1),
                    lambda d, t: d.update_tariff(NEW, t))
    clock.advance(50 * 60 - 30)
    assert esme.pending()
    clock.advance(60)
    assert not esme.pending()  # ran when the device's own clock reached the hour


def test_a_held_command_survives_a_power_cut_and_runs_when_power_returns(
        clock: SimulatedClock) -> None:
    alerts: list[Alert] = []
    estate = Estate.demo(clock=clock, premises=0, alert_sink=alerts.append)
    esme_id, hub = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A2"
    estate.schedule(esme_id, "r1", "ECS01a", clock.now() + timedelta(hours=1),
                    lambda d, t: d.update_tariff(NEW, t))
    clock.advance(60)
    estate.power_fail(hub)
    clock.advance(3 * 3600)
    esme = estate.device(esme_id)
    assert isinstance(esme, ESME) and esme.pending() and esme.tariff != NEW
    estate.power_restore(hub)
    assert esme.tariff == NEW and not esme.pending()
    clock.advance(60)  # the alerts travel up the WAN
    assert "8F66" in [a.code_text for a in alerts]
