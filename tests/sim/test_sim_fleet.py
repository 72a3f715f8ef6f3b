"""Aggregated half-hours equal the sum of the meters' own profile reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opendcc.devices.estate import Estate
from opendcc.sim.fleet import aggregate_half_hours

T0 = datetime(2026, 1, 12, tzinfo=UTC)


def test_aggregate_equals_sum_of_profiles() -> None:
    estate = Estate.demo(20, seed=6, boxed=False, origin=T0)
    end = T0 + timedelta(days=1)
    meters = [p.esme for p in estate.premises]
    meters[3].disable_supply(T0 + timedelta(hours=6))
    agg = aggregate_half_hours(meters, T0, end)
    assert len(agg) == 48 and all(n == 20 for _, _, n in agg)
    for i, (start, total, _) in enumerate(agg):
        assert total == sum(m.read_half_hour_profile(T0, end, end).value[i].wh for m in meters)
        assert start == T0 + timedelta(minutes=30 * i)


def test_evening_peak_exceeds_night_trough_across_the_fleet() -> None:
    estate = Estate.demo(50, seed=6, boxed=False, origin=T0)
    agg = aggregate_half_hours([p.esme for p in estate.premises], T0, T0 + timedelta(days=1))
    evening = max(total for _, total, _ in agg[34:40])
    night = min(total for _, total, _ in agg[4:10])
    assert evening > 2 * night
