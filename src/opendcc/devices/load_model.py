"""Deterministic, seeded consumption: realistic daily and seasonal shape without stored data.

A `LoadModel` gives, for a device's consumption seed and fuel, a monotone cumulative
consumption curve `cumulative(seed, fuel, at)` in Wh. Everything a meter reports is derived
from it: a register is a floor of the curve, a half-hour profile entry is the difference of
two register values, so a read now always equals the sum of the half-hours so far (the
differences telescope) and nothing per half-hour is stored.

`SeasonalLoadModel` mixes a few shared household archetypes (electricity: morning and
evening peaks, winter higher; gas: heating-driven, strongly seasonal, little in summer), each
a day-by-day curve with seeded noise computed once and cached for the whole estate; a device
only selects an annual consumption, two archetypes, their mix and a whole-week shift from its
seed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from enum import Enum
from functools import lru_cache
from typing import Protocol

#: Time zero of every load curve.
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
HALF_HOUR = timedelta(minutes=30)
_HH_SECONDS = 1800.0
_MASK = (1 << 64) - 1


class Fuel(Enum):
    """What a meter measures."""

    ELECTRICITY = "electricity"
    GAS = "gas"


class LoadModel(Protocol):
    """A pluggable consumption model: monotone cumulative Wh since `EPOCH`, pure in its inputs."""

    def cumulative(self, seed: int, fuel: Fuel, at: datetime) -> float:
        """Wh consumed from `EPOCH` to `at` by the device with consumption `seed`."""
        ...


def splitmix64(x: int) -> int:
    """A fast 64-bit mixing function: the same input always gives the same well-spread output."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def unit(*keys: int) -> float:
    """A deterministic number in [0, 1) from integer keys."""
    h = 0
    for k in keys:
        h = splitmix64(h ^ (k & _MASK))
    return (h >> 11) / float(1 << 53)


def units(n: int, *keys: int) -> list[float]:
    """`n` deterministic numbers in [0, 1) from integer keys (one hash, then one mix each)."""
    h = 0
    for k in keys:
        h = splitmix64(h ^ (k & _MASK))
    return [(splitmix64((h + j) & _MASK) >> 11) / float(1 << 53) for j in range(n)]


def half_hour_index(at: datetime) -> float:
    """Half-hours since `EPOCH`, fractional."""
    return (at - EPOCH).total_seconds() / _HH_SECONDS


def half_hour_start(at: datetime) -> datetime:
    """The start of the half-hour containing `at`."""
    return EPOCH + HALF_HOUR * math.floor(half_hour_index(at))


class FlatLoadModel:
    """A constant load: `watts` all the time (for tests and as a benchmark baseline)."""

    def __init__(self, watts: float = 500.0) -> None:
        self.watts = watts

    def cumulative(self, seed: int, fuel: Fuel, at: datetime) -> float:
        """Constant power times elapsed hours."""
        return self.watts * max(0.0, (at - EPOCH).total_seconds()) / 3600.0


def _gauss(h: float, centre: float, width: float) -> float:
    d = min(abs(h - centre), 24 - abs(h - centre))
    return math.exp(-0.5 * (d / width) ** 2)


def _shape(fuel: Fuel, k: int, seed: int) -> tuple[float, ...]:
    """48 half-hourly weights (mean 1) for archetype `k`: when in the day this household uses energy."""
    u = [unit(seed, 0x5AFE, k, j) for j in range(6)]
    out = []
    for i in range(48):
        h = i / 2 + 0.25
        if fuel is Fuel.ELECTRICITY:
            w = (0.35 + 0.2 * u[0]
                 + (0.6 + 0.8 * u[1]) * _gauss(h, 7.0 + 1.5 * u[2], 1.0)
                 + (1.2 + 1.0 * u[3]) * _gauss(h, 18.0 + 2.0 * u[4], 1.6)
                 + 0.4 * u[5] * (1.0 if 9 <= h < 16 else 0.0))
        else:
            w = (0.05 + 0.05 * u[0]
                 + (1.5 + 1.0 * u[1]) * _gauss(h, 6.5 + 1.0 * u[2], 1.1)
                 + (1.2 + 1.0 * u[3]) * _gauss(h, 18.5 + 1.5 * u[4], 2.0)
                 + 0.3 * u[5] * (1.0 if 8 <= h < 22 else 0.0))
        out.append(w)
    mean = sum(out) / 48
    return tuple(w / mean for w in out)


def _seasonal(fuel: Fuel, day: int) -> float:
    """Relative daily use by day since `EPOCH` (mean ~1 over a year); peak mid-January."""
    c = math.cos(2 * math.pi * ((day + 1) % 365.2425 - 15) / 365.2425)
    if fuel is Fuel.ELECTRICITY:
        base = 1.0 + 0.25 * c
        weekday = (EPOCH.weekday() + day) % 7
        return base * (1.08 if weekday >= 5 else 0.97)
    return max(0.08, 1.0 + 0.95 * c) / 1.0125


ARCHETYPES = 4
_ANNUAL_WH = {Fuel.ELECTRICITY: (1_800_000.0, 5_500_000.0), Fuel.GAS: (6_000_000.0, 19_000_000.0)}


class SeasonalLoadModel:
    """Household archetypes with daily and seasonal shape and seeded noise (see module doc)."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        # Per curve c = fuel index x ARCHETYPES + archetype: 48 weights, day totals and prefixes.
        self._shapes = [_shape(f, k, seed) for f in Fuel for k in range(ARCHETYPES)]
        self._day_prefix: list[list[float]] = [[0.0] for _ in self._shapes]
        self._day_totals: list[list[float]] = [[] for _ in self._shapes]
        self._intraday: dict[int, tuple[float, ...]] = {}

    # Shared per-archetype curves ---------------------------------------------------------

    def _extend(self, c: int, day: int) -> None:
        prefix, totals = self._day_prefix[c], self._day_totals[c]
        fuel = Fuel.GAS if c >= ARCHETYPES else Fuel.ELECTRICITY
        k = c % ARCHETYPES
        while len(prefix) <= day + 1:
            d = len(prefix) - 1
            noise = 0.85 + 0.3 * unit(self.seed, 0xDA7, k, d, 1 if fuel is Fuel.GAS else 0)
            total = _seasonal(fuel, d) * noise / 365.2425
            totals.append(total)
            prefix.append(prefix[-1] + total)

    def _within_day(self, c: int, day: int) -> tuple[float, ...]:
        """49 cumulative fractions of the day's use at each half-hour boundary."""
        key = (day << 4) | c
        cum = self._intraday.get(key)
        if cum is None:
            shape = self._shapes[c]
            k, g = c % ARCHETYPES, c // ARCHETYPES
            w = [shape[i] * (0.5 + unit(self.seed, 0x44, k, day, i, g)) for i in range(48)]
            total = sum(w)
            acc = 0.0
            out = [0.0]
            for x in w:
                acc += x / total
                out.append(acc)
            out[48] = 1.0
            cum = tuple(out)
            if len(self._intraday) > 8192:
                self._intraday.clear()
            self._intraday[key] = cum
        return cum

    def _curve(self, c: int, hh: float) -> float:
        if hh <= 0:
            return 0.0
        i = int(hh)
        day, slot = divmod(i, 48)
        prefix = self._day_prefix[c]
        if len(prefix) <= day + 1:
            self._extend(c, day)
        cum = self._within_day(c, day)
        lo = cum[slot]
        return prefix[day] + self._day_totals[c][day] * (lo + (hh - i) * (cum[slot + 1] - lo))

    def archetype_curve(self, fuel: Fuel, k: int, hh: float) -> float:
        """Normalised cumulative use of archetype `k` at fractional half-hour index `hh`."""
        return self._curve((ARCHETYPES if fuel is Fuel.GAS else 0) + k, hh)

    # Per-device parameters -----------------------------------------------------------------

    def cumulative(self, seed: int, fuel: Fuel, at: datetime) -> float:
        """Wh from `EPOCH` to `at` for the device with consumption `seed`."""
        g = 1 if fuel is Fuel.GAS else 0
        annual, a, b, alpha, shift = _params(self.seed, seed, g)
        hh = (at - EPOCH).total_seconds() / _HH_SECONDS + shift
        base = g * ARCHETYPES
        return annual * (alpha * self._curve(base + a, hh) + (1 - alpha) * self._curve(base + b, hh))


@lru_cache(maxsize=65536)
def _params(model_seed: int, seed: int, g: int) -> tuple[float, int, int, float, int]:
    """Annual Wh, two archetypes, their mix and a whole-week shift (in half-hours)."""
    lo, hi = _ANNUAL_WH[Fuel.GAS if g else Fuel.ELECTRICITY]
    annual = lo * (hi / lo) ** unit(model_seed, seed, 1, g)
    a = int(unit(model_seed, seed, 2, g) * ARCHETYPES)
    b = int(unit(model_seed, seed, 3, g) * ARCHETYPES)
    alpha = (1, 2, 3)[int(unit(model_seed, seed, 4, g) * 3)] / 4
    shift = int(unit(model_seed, seed, 5, g) * 6) * 7 * 48
    return annual, a, b, alpha, shift


DEFAULT_MODEL = SeasonalLoadModel(0)


class SolarModel:
    """Rooftop PV generation: a daylight arch, long summer days, shared day-to-day cloudiness.

    `cumulative(peak_w, fuel, at)` is the Wh generated by a system of `peak_w` watts peak. The
    day's output rises and falls as (1 - cos(pi x)) / 2 across daylight (7.5 h in December to
    16.5 h in June, centred on 12:00 UTC), scaled by the sun's height and a cloudiness shared
    by the whole estate (weather is regional).
    """

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._prefix: list[float] = [0.0]
        self._totals: list[float] = []

    @staticmethod
    def daylight_hours(day: int) -> float:
        """Hours of daylight on day `day` since `EPOCH`."""
        return 12.0 + 4.5 * math.cos(2 * math.pi * ((day % 365.2425) - 171) / 365.2425)

    def _extend(self, day: int) -> None:
        while len(self._prefix) <= day + 1:
            d = len(self._prefix) - 1
            sun = (1 + math.cos(2 * math.pi * ((d % 365.2425) - 171) / 365.2425)) / 2
            cloud = 0.15 + 0.85 * unit(self.seed, 0x50, d)
            total = self.daylight_hours(d) * (2 / math.pi) * 0.8 * (0.3 + 0.7 * sun) * cloud
            self._totals.append(total)
            self._prefix.append(self._prefix[-1] + total)

    def cumulative(self, seed: int, fuel: Fuel, at: datetime) -> float:
        """Wh generated since `EPOCH` by `seed` watts peak."""
        hours = (at - EPOCH).total_seconds() / 3600.0
        if hours <= 0 or seed <= 0:
            return 0.0
        day = int(hours // 24)
        if len(self._prefix) <= day + 1:
            self._extend(day)
        daylight = self.daylight_hours(day)
        x = min(1.0, max(0.0, (hours - day * 24 - (12.0 - daylight / 2)) / daylight))
        return seed * (self._prefix[day] + self._totals[day] * (1 - math.cos(math.pi * x)) / 2)


SOLAR_MODEL = SolarModel(0)


def consumption(model: LoadModel, seed: int, fuel: Fuel, start: datetime, end: datetime) -> int:
    """Whole Wh consumed in [start, end) with the supply always on: floor differences."""
    return math.floor(model.cumulative(seed, fuel, end)) - math.floor(
        model.cumulative(seed, fuel, start))


def half_hours(model: LoadModel, seed: int, fuel: Fuel, start: datetime, end: datetime) -> list[int]:
    """Wh per half-hour from the half-hour containing `start` up to `end` (supply always on)."""
    t = half_hour_start(start)
    prev = math.floor(model.cumulative(seed, fuel, t))
    out = []
    while t < end:
        t = t + HALF_HOUR
        cur = math.floor(model.cumulative(seed, fuel, t))
        out.append(cur - prev)
        prev = cur
    return out
