"""Seeded power cuts played on the simulated clock raise outage and restoration alerts."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from opendcc.clock import SimulatedClock
from opendcc.devices.estate import Estate
from opendcc.devices.events import Alert
from opendcc.sim.outages import plan_power_cuts, plan_regional_cut, schedule

T0 = datetime(2026, 2, 2, tzinfo=UTC)


def _estate(alerts: list[Alert]) -> tuple[SimulatedClock, Estate]:
    clock = SimulatedClock(T0)
    return clock, Estate.demo(clock=clock, premises=200, seed=4, boxed=False, alert_sink=alerts.append)


def test_same_seed_plans_the_same_cuts() -> None:
    _, estate = _estate([])
    end = T0 + timedelta(days=90)
    a = plan_power_cuts(estate, T0, end, seed=1, cuts_per_year=4)
    assert a == plan_power_cuts(estate, T0, end, seed=1, cuts_per_year=4)
    assert a != plan_power_cuts(estate, T0, end, seed=2, cuts_per_year=4)
    # About 200 premises x 4/yr x 90 days.
    assert 120 < len(a) < 280
    assert all(T0 <= c.start < end for c in a)


def test_every_cut_raises_ad1_then_a_restoration_alert() -> None:
    alerts: list[Alert] = []
    clock, estate = _estate(alerts)
    cuts = plan_power_cuts(estate, T0, T0 + timedelta(days=30), seed=3, cuts_per_year=6)
    schedule(estate, cuts)
    clock.advance(31 * 86400)
    codes = Counter(a.code_text for a in alerts)
    assert codes["AD1"] == len(cuts)
    assert codes["8F35"] + codes["8F36"] == len(cuts)
    short = sum(1 for c in cuts if c.duration < timedelta(minutes=3))
    assert codes["8F35"] == short


def test_regional_cut_drops_a_share_of_the_estate_at_once() -> None:
    alerts: list[Alert] = []
    clock, estate = _estate(alerts)
    cuts = plan_regional_cut(estate, T0 + timedelta(hours=1), timedelta(hours=2), share=0.3, seed=5)
    assert 40 < len(cuts) < 80
    schedule(estate, cuts)
    clock.advance(3600 + 30)
    assert sum(a.code_text == "AD1" for a in alerts) == len(cuts)
    assert not any(estate.wan.powered(c.hub) for c in cuts)
    clock.advance(2 * 3600)
    assert all(estate.wan.powered(c.hub) for c in cuts)
    assert sum(a.code_text == "8F36" for a in alerts) == len(cuts)
