"""The shared building blocks: identifiers and the simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendcc.clock import SimulatedClock
from opendcc.ids import EUI64, InvalidIdentifier, MPxN, RequestID


def test_request_id_round_trips_and_names_its_parts() -> None:
    rid = RequestID.parse("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:12884901888")
    assert rid.originator == EUI64.parse("90B3D51F30010000")
    assert rid.target.hyphenated == "00-DB-12-34-56-78-90-A0"
    assert rid.counter == 12884901888
    assert str(rid) == "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:12884901888"
    assert rid.response_id().startswith("00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-00:")


@pytest.mark.parametrize(
    "text",
    ["", "90-B3:00-DB:1", "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0", "x:y:z",
     "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:-1",
     "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:18446744073709551616"],
)
def test_malformed_request_ids_are_refused(text: str) -> None:
    with pytest.raises(InvalidIdentifier):
        RequestID.parse(text)


def test_mpxn_forms() -> None:
    assert MPxN.parse("1234567890123").is_mpan
    assert not MPxN.parse("123456").is_mpan
    with pytest.raises(InvalidIdentifier):
        MPxN.parse("12a")


def test_simulated_clock_fires_timers_in_order() -> None:
    clock = SimulatedClock(datetime(2026, 1, 1, tzinfo=UTC))
    fired: list[str] = []
    clock.call_later(10, lambda: fired.append("b"))
    clock.call_later(5, lambda: fired.append("a"))
    clock.advance(7)
    assert fired == ["a"]
    clock.advance(3)
    assert fired == ["a", "b"]
    assert clock.monotonic() == 10
