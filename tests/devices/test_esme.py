"""ESME specifics: load limiting, secondary element, event logs, clock, MPAN, power outages."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from opendcc.devices.errors import InvalidArgument
from opendcc.devices.esme import ESME, LoadLimitConfig
from opendcc.devices.estate import Estate
from opendcc.devices.load_model import FlatLoadModel
from opendcc.devices.scheduler import LoopScheduler
from opendcc.devices.supply import DisableCause, SupplyState
from opendcc.devices.tariff import Tariff
from opendcc.ids import EUI64, MPxN


def test_load_limit_counts_disables_and_restores(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=t0, model=FlatLoadModel(3000))
    esme.set_load_limit_configuration(
        LoadLimitConfig(2000, disable_supply=True, restoration_period=timedelta(hours=1)), t0)
    esme.settle(t0 + timedelta(minutes=31))
    assert esme.load_limit_counter == 1
    assert esme.supply_state is SupplyState.DISABLED
    assert esme.supply_cause is DisableCause.LOAD_LIMIT
    # Restored at 01:30, seen by a read at 01:40 (before the next half-hour is settled).
    assert esme.read_supply_status(t0 + timedelta(hours=1, minutes=40)).value.state is SupplyState.ENABLED
    esme.settle(t0 + timedelta(hours=2))
    assert "8F34" in [a.code_text for a in esme.take_alerts()]
    # Off for exactly the restoration period after the first half-hour.
    assert esme.register(t0 + timedelta(hours=2)) == 3000 * 1 // 2 + 3000 * 1 // 2
    assert esme.read_load_limit_data(t0 + timedelta(hours=2)).value.counter >= 2
    esme.reset_load_limit_counter(t0 + timedelta(hours=2))
    assert esme.load_limit_counter == 0


def test_load_limit_below_threshold_does_nothing(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=t0, model=FlatLoadModel(500))
    esme.set_load_limit_configuration(LoadLimitConfig(2000, disable_supply=True), t0)
    esme.settle(t0 + timedelta(days=1))
    assert esme.load_limit_counter == 0 and esme.supply_state is SupplyState.ENABLED


def test_zero_load_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument):
        LoadLimitConfig(0)


def test_secondary_element_tariff(esme: ESME, t0: datetime) -> None:
    with pytest.raises(InvalidArgument):
        esme.update_secondary_prices(t0, tou_prices=(1,))
    esme.update_secondary_tariff(Tariff(tou_prices=(900, 1200)), t0)
    esme.update_secondary_prices(t0, tou_prices=(950, 1250))
    assert esme.read_secondary_tariff(t0).value == Tariff(tou_prices=(950, 1250))
    assert esme.tariff == Tariff()


def test_tariff_validation_is_specific() -> None:
    with pytest.raises(InvalidArgument, match="switching"):
        Tariff(tou_prices=(1, 2), switching=((60, 0),))
    with pytest.raises(InvalidArgument, match="TOU rate"):
        Tariff(tou_prices=(1,), switching=((0, 3),))
    with pytest.raises(InvalidArgument, match="block prices"):
        Tariff(block_thresholds=(1000,), block_prices=(1, 2, 3))


def test_block_prices_apply_by_daily_use(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=t0, model=FlatLoadModel(1000))
    esme.update_tariff(Tariff(block_thresholds=(6000,), block_prices=(1000, 3000),
                              standing_charge=0), t0)
    regs = esme.read_instantaneous_import_registers(t0 + timedelta(days=1)).value
    assert regs.block_wh[:2] == (6000, 18000)
    balance = esme.read_prepayment_registers(t0 + timedelta(days=1)).value.balance
    assert balance == -(6 * 1000 + 18 * 3000)


def test_clock_event_log_and_clear(esme: ESME, t0: datetime) -> None:
    esme.set_clock(t0 + timedelta(seconds=42), t0)
    assert esme.device_time(t0) == t0 + timedelta(seconds=42)
    events = esme.read_event_log(t0).value
    assert [e.code for e in events] == [0x8145]
    esme.clear_event_log(t0)
    assert esme.read_event_log(t0).value == []


def test_mpan_on_an_esme_must_be_an_mpan(esme: ESME, t0: datetime) -> None:
    with pytest.raises(InvalidArgument):
        esme.set_mpxn(MPxN("1000000001"), t0)
    esme.set_mpxn(MPxN("1234567890124"), t0)
    assert esme.read_mpxn(t0).value == MPxN("1234567890124")


def test_power_outage_stops_measurement_but_not_a_disabled_supply(esme: ESME, t0: datetime) -> None:
    lost = t0 + timedelta(hours=3)
    esme.power_lost(lost)
    esme.power_restored(lost + timedelta(hours=1))
    assert esme.register(lost + timedelta(hours=1)) == esme.register(lost)
    assert esme.supply_state is SupplyState.ENABLED
    esme.disable_supply(lost + timedelta(hours=2))
    esme.power_lost(lost + timedelta(hours=3))
    esme.power_restored(lost + timedelta(hours=4))
    assert esme.off[-1][1] is None  # still off: the supply was disabled


def test_loop_scheduler_runs_actions_on_the_loop() -> None:
    async def main() -> list[str]:
        ran: list[str] = []
        scheduler = LoopScheduler(asyncio.get_running_loop())
        scheduler.call_later(0.01, lambda: ran.append("x"))
        await asyncio.sleep(0.05)
        return ran

    assert asyncio.run(main()) == ["x"]


def test_pv_export_follows_daylight_and_season(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=t0, pv_peak_w=3500, export_wh=100)
    june = t0.replace(month=6, day=15)
    night = esme.export_register(june + timedelta(hours=2)) - esme.export_register(june)
    assert night == 0
    summer_week = esme.export_register(june + timedelta(days=7)) - esme.export_register(june)
    winter_week = esme.export_register(t0 + timedelta(days=7)) - esme.export_register(t0)
    assert summer_week > 3 * winter_week > 0


def test_export_profile_sums_to_the_export_register(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=t0, pv_peak_w=3000, export_wh=500)
    now = t0 + timedelta(days=3)
    profile = esme.read_export_half_hour_profile(t0, now, now).value
    assert esme.read_export_registers(now).value.total_wh == 500 + sum(e.wh for e in profile)
    daily = esme.read_export_daily_read_log(t0, now, now).value
    assert daily[0].wh == 500


def test_no_export_while_the_supply_is_off(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=t0, pv_peak_w=3000)
    noon = t0 + timedelta(hours=10)
    esme.disable_supply(noon)
    assert esme.export_register(noon + timedelta(hours=3)) == esme.export_register(noon)


def test_a_share_of_demo_premises_export() -> None:
    estate = Estate.demo(200, seed=9, boxed=False)
    exporting = [p for p in estate.premises if p.esme.pv_peak_w]
    assert 5 < len(exporting) < 40
