"""Cumulative energy registers derived from the load model and the supply's off periods.

A register reads `opening + floor(C(at)) - floor(C(origin))` less what the load model would
have used while the supply was off, where C is the device's cumulative load curve. It is a
pure function of a handful of stored numbers, so an idle meter stores no readings, and any
difference of two reads is exactly the energy a half-hour profile reports for that span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from opendcc.devices.load_model import Fuel, LoadModel
from opendcc.devices.supply import OffPeriods


def register_at(model: LoadModel, seed: int, fuel: Fuel, origin: datetime, opening: int,
                off: OffPeriods, at: datetime) -> int:
    """The cumulative import register (Wh) at `at` (GBCS ECS17b/GCS13a value)."""
    c = model.cumulative

    def whole(t: datetime) -> int:
        return math.floor(c(seed, fuel, t))

    value = opening + whole(at) - whole(origin)
    for start, end in off:
        if start >= at:
            break
        stop = at if end is None or end > at else end
        value -= whole(stop) - whole(start)
    return value


def instantaneous_power(model: LoadModel, seed: int, fuel: Fuel, at: datetime,
                        supply_on: bool) -> int:
    """Active import power in W (average over the surrounding minute), 0 with supply off."""
    if not supply_on:
        return 0
    from datetime import timedelta

    half = timedelta(seconds=30)
    wh = model.cumulative(seed, fuel, at + half) - model.cumulative(seed, fuel, at - half)
    return round(wh * 60)


@dataclass(frozen=True, slots=True)
class ImportRegisters:
    """ECS17b/GCS13a: total import and the TOU registers (Wh), at a time."""

    at: datetime
    total_wh: int
    tou_wh: tuple[int, ...]
    block_wh: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ExportRegisters:
    """ECS17a: total export (Wh)."""

    at: datetime
    total_wh: int
