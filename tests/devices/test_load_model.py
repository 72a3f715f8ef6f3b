"""Load model: deterministic for a seed, realistic shape, registers consistent with profile logs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from opendcc.devices.esme import ESME
from opendcc.devices.load_model import (
    HALF_HOUR,
    FlatLoadModel,
    Fuel,
    SeasonalLoadModel,
    consumption,
    half_hours,
)
from opendcc.devices.supply import close_off, open_off
from opendcc.ids import EUI64

JAN = datetime(2026, 1, 12, tzinfo=UTC)
JUL = datetime(2026, 7, 13, tzinfo=UTC)


def test_same_seed_gives_the_same_consumption() -> None:
    a, b = SeasonalLoadModel(3), SeasonalLoadModel(3)
    for fuel in Fuel:
        assert half_hours(a, 42, fuel, JAN, JAN + timedelta(days=2)) == half_hours(
            b, 42, fuel, JAN, JAN + timedelta(days=2))


def test_different_devices_use_differently() -> None:
    m = SeasonalLoadModel(0)
    days = [consumption(m, s, Fuel.ELECTRICITY, JAN, JAN + timedelta(days=1)) for s in range(20)]
    assert len(set(days)) == 20


def _week(m: SeasonalLoadModel, seed: int, fuel: Fuel, start: datetime) -> int:
    return consumption(m, seed, fuel, start, start + timedelta(days=7))


def test_winter_uses_more_than_summer_and_gas_is_strongly_seasonal() -> None:
    m = SeasonalLoadModel(0)
    for seed in range(10):
        elec = _week(m, seed, Fuel.ELECTRICITY, JAN) / _week(m, seed, Fuel.ELECTRICITY, JUL)
        gas = _week(m, seed, Fuel.GAS, JAN) / _week(m, seed, Fuel.GAS, JUL)
        assert 1.2 < elec < 2.5
        assert gas > 5


def test_electricity_peaks_in_the_evening_not_at_night() -> None:
    m = SeasonalLoadModel(0)
    by_slot = [0] * 48
    for seed in range(20):
        for day in range(7):
            start = JAN + timedelta(days=day)
            for i, wh in enumerate(half_hours(m, seed, Fuel.ELECTRICITY, start,
                                              start + timedelta(days=1))):
                by_slot[i] += wh
    evening = sum(by_slot[34:40])  # 17:00-20:00
    night = sum(by_slot[4:10])  # 02:00-05:00
    assert evening > 2 * night


def test_annual_consumption_is_household_sized() -> None:
    m = SeasonalLoadModel(0)
    for seed in range(5):
        year = consumption(m, seed, Fuel.ELECTRICITY, JAN, JAN + timedelta(days=365))
        assert 1_500_000 < year < 7_000_000


def test_flat_model_plugs_in() -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), origin=JAN, model=FlatLoadModel(1000))
    assert esme.register(JAN + timedelta(hours=3)) == 3000


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    start_min=st.integers(0, 60 * 24 * 30),
    span_hh=st.integers(1, 48 * 3),
    offs=st.lists(st.tuples(st.integers(0, 60 * 24 * 33), st.integers(1, 600)), max_size=4),
)
def test_register_equals_opening_plus_sum_of_half_hours(seed: int, start_min: int, span_hh: int,
                                                       offs: list[tuple[int, int]]) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), seed=seed, origin=JAN, opening_wh=777)
    t = JAN
    for at_min, length in sorted(offs):
        at = max(t, JAN + timedelta(minutes=at_min))
        esme.off = close_off(open_off(esme.off, at), at + timedelta(minutes=length))
        t = at + timedelta(minutes=length)
    start = JAN + timedelta(minutes=start_min)
    end = start + span_hh * HALF_HOUR
    now = end + timedelta(days=1)
    profile = esme.read_half_hour_profile(JAN, end, now).value
    assert esme.register(profile[-1].start + HALF_HOUR) == 777 + sum(e.wh for e in profile)
    assert all(e.wh >= 0 for e in profile)
    reads = esme.read_daily_read_log(JAN, end, now).value
    daily = esme.read_daily_consumption_log(JAN, end, now).value
    for a, b, d in zip(reads, reads[1:], daily, strict=False):
        assert b.wh - a.wh == d.wh == sum(e.wh for e in profile if a.start <= e.start < b.start)


def test_read_now_is_sum_of_half_hours_so_far(esme: ESME, t0: datetime) -> None:
    now = t0 + timedelta(days=1, hours=5)
    regs = esme.read_instantaneous_import_registers(now).value
    profile = esme.read_half_hour_profile(t0, now, now).value
    partial = esme.register(now) - esme.register(profile[-1].start + HALF_HOUR)
    assert regs.total_wh == esme.opening_wh + sum(e.wh for e in profile) + partial


def test_meter_consumption_and_half_hours_agree_with_the_register(esme: ESME, t0: datetime) -> None:
    end = t0 + timedelta(days=1)
    esme.disable_supply(t0 + timedelta(hours=3))
    esme.enable_supply(t0 + timedelta(hours=4))
    hh = esme.half_hours(t0, end)
    assert len(hh) == 48 and hh[6] == hh[7] == 0
    assert sum(hh) == esme.consumption(t0, end) == esme.register(end) - esme.register(t0)
