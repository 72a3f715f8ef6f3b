"""Seeded power cuts across an emulated estate, played out on the simulated clock.

`plan_power_cuts` draws, per premises, independent cuts at a yearly rate with log-normal
durations; `plan_regional_cut` takes one fault that drops a share of the estate at once (what
a network operator's outage detection sees). `schedule` puts each cut on the estate's clock:
at its start the hub loses power (DCC alert AD1), at its end the meter reports restoration
(0x8F35, or 0x8F36 after three minutes or more). Same seed, same cuts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from opendcc.devices.estate import Estate
from opendcc.devices.load_model import unit


@dataclass(frozen=True, slots=True)
class PowerCut:
    """One premises without power from `start` for `duration`."""

    hub: str
    start: datetime
    duration: timedelta

    @property
    def end(self) -> datetime:
        """When power returns."""
        return self.start + self.duration


def _duration(seed: int, *keys: int, median_minutes: float) -> timedelta:
    u1, u2 = max(unit(seed, *keys, 1), 1e-12), unit(seed, *keys, 2)
    z = math.sqrt(-2.0 * math.log(u1)) * math.cos(2 * math.pi * u2)
    minutes = median_minutes * math.exp(1.0 * z)
    return timedelta(seconds=max(5, round(minutes * 60)))


def plan_power_cuts(estate: Estate, start: datetime, end: datetime, *, seed: int = 0,
                    cuts_per_year: float = 1.0, median_minutes: float = 20.0) -> list[PowerCut]:
    """Independent cuts per premises in [start, end), none overlapping at one premises."""
    span = (end - start).total_seconds()
    expected = cuts_per_year * span / (365.2425 * 86400)
    plan: list[PowerCut] = []
    for p in estate.premises:
        # Poisson count by inversion of the CDF with one uniform number.
        u, k, term = unit(seed, p.index, 0xC0), 0, math.exp(-expected)
        cdf = term
        while u > cdf and k < 50:
            k += 1
            term *= expected / k
            cdf += term
        starts = sorted(start + timedelta(seconds=unit(seed, p.index, 0xC1, j) * span)
                        for j in range(k))
        free = start
        for j, s in enumerate(starts):
            s = max(s, free)
            if s >= end:
                break
            cut = PowerCut(p.hub, s, _duration(seed, p.index, j, median_minutes=median_minutes))
            plan.append(cut)
            free = cut.end + timedelta(seconds=1)
    return sorted(plan, key=lambda c: (c.start, c.hub))


def plan_regional_cut(estate: Estate, start: datetime, duration: timedelta, *, share: float,
                      seed: int = 0) -> list[PowerCut]:
    """One fault: a `share` of premises (chosen by seed) lose power together."""
    return [PowerCut(p.hub, start, duration) for p in estate.premises
            if unit(seed, p.index, 0x4E) < share]


def schedule(estate: Estate, cuts: list[PowerCut]) -> None:
    """Put each cut on the estate's clock (failure at start, restoration at end)."""
    now = estate.clock.now()
    for cut in cuts:
        estate.clock.call_later(max(0.0, (cut.start - now).total_seconds()),
                                _action(estate, cut.hub, fail=True))
        estate.clock.call_later(max(0.0, (cut.end - now).total_seconds()),
                                _action(estate, cut.hub, fail=False))


def _action(estate: Estate, hub: str, *, fail: bool) -> Callable[[], None]:
    def run() -> None:
        if fail:
            estate.power_fail(hub)
        else:
            estate.power_restore(hub)

    return run
