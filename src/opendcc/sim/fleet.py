"""Fleet-level views of an emulated estate: aggregate half-hourly consumption across meters.

What a network operator sees of a feeder or region: the sum of the meters' half-hour profile
entries (ECS22b/GCS17), computed from the same registers the meters report, so the aggregate
always equals the sum of individual reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from opendcc.devices.load_model import HALF_HOUR, half_hour_start
from opendcc.devices.meter import Meter


def aggregate_half_hours(meters: Iterable[Meter], start: datetime,
                         end: datetime) -> list[tuple[datetime, int, int]]:
    """Per completed half-hour in [start, end): (start, total Wh, number of meters)."""
    first = half_hour_start(start)
    slots = int((end - first) / HALF_HOUR)
    totals = [0] * slots
    count = 0
    for meter in meters:
        count += 1
        prev = meter.register(first)
        t = first
        for i in range(slots):
            t = t + HALF_HOUR
            cur = meter.register(t)
            totals[i] += cur - prev
            prev = cur
    return [(first + HALF_HOUR * i, totals[i], count) for i in range(slots)]
