"""Replay protection: an originator's counter must rise (GBCS §4.3.1.x, Originator Counter).

The guard is the caller's state (one per device or per DCC role): decoding checks it and,
only when the whole message has been accepted, records the new counter.
"""

from __future__ import annotations

from opendcc.gbcs.errors import CounterReplay
from opendcc.ids import EUI64


class CounterGuard:
    """The last accepted counter per (originator, CRA flag)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, int], int] = {}

    def check(self, originator: EUI64, cra_flag: int, counter: int, offset: int) -> None:
        """Raise CounterReplay unless `counter` exceeds the last one accepted."""
        last = self._last.get((originator.hex, cra_flag))
        if last is not None and counter <= last:
            raise CounterReplay("Originator Counter", offset,
                                f"{counter} does not exceed {last}, the last accepted from {originator}")

    def accept(self, originator: EUI64, cra_flag: int, counter: int) -> None:
        """Record an accepted counter."""
        key = (originator.hex, cra_flag)
        self._last[key] = max(counter, self._last.get(key, counter))

    def last(self, originator: EUI64, cra_flag: int) -> int | None:
        """The last accepted counter, if any."""
        return self._last.get((originator.hex, cra_flag))
