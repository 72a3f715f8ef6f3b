"""Registration data feed: applied whole or not at all, with the rules of the module."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendcc.ids import EUI64, MPxN
from opendcc.inventory.demo import NETWORK_OPERATOR, SUPPLIER, seed_demo
from opendcc.inventory.registration_feed import RegistrationFeedError, apply_feed, parse_feed
from opendcc.store import inventory
from opendcc.store.engine import Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SUPPLIER2 = "90-B3-D5-1F-30-03-00-00"
HEADER = "mpxn,supplier_id,network_operator_id,effective_from\n"
ESME_MPAN = MPxN.parse("1312345678111")
NEW_MPAN = "1312345678999"


@pytest.fixture
def demo(memory_store: Store) -> Store:
    seed_demo(memory_store)
    return memory_store


def _apply(store: Store, lines: str) -> int:
    with store.begin() as conn:
        return apply_feed(conn, HEADER + lines, NOW)


def _history(store: Store, mpxn: MPxN) -> list[tuple[EUI64, datetime]]:
    with store.begin() as conn:
        return [(r.supplier_id, r.effective_from) for r in inventory.registrations_of(conn, mpxn)]


def test_future_change_of_supplier_takes_effect_on_its_date(demo: Store) -> None:
    assert _apply(demo, f"1312345678111,{SUPPLIER2},{NETWORK_OPERATOR},2026-12-01\n") == 1
    with demo.begin() as conn:
        before = inventory.registration_at(conn, ESME_MPAN, datetime(2026, 11, 30, tzinfo=UTC))
        after = inventory.registration_at(conn, ESME_MPAN, datetime(2026, 12, 1, tzinfo=UTC))
    assert before is not None and before.supplier_id == SUPPLIER
    assert after is not None and after.supplier_id == EUI64.parse(SUPPLIER2)


def test_first_registration_of_a_meter_point_may_be_dated_back(demo: Store) -> None:
    assert _apply(demo, f"{NEW_MPAN},{SUPPLIER},{NETWORK_OPERATOR},2019-01-01T00:00:00Z\n") == 1


def test_reloading_the_same_feed_changes_nothing(demo: Store) -> None:
    feed = f"1312345678111,{SUPPLIER},{NETWORK_OPERATOR},2020-01-01\n"
    before = _history(demo, ESME_MPAN)
    _apply(demo, feed)
    assert _history(demo, ESME_MPAN) == before


@pytest.mark.parametrize(
    ("lines", "reason"),
    [
        (f"1312345678111,{SUPPLIER2},{NETWORK_OPERATOR},2026-01-01\n", "in the past"),
        (f"1312345678111,{SUPPLIER2},{NETWORK_OPERATOR},2020-01-01\n", "already has supplier"),
        (f"1312345678111,{NETWORK_OPERATOR},{NETWORK_OPERATOR},2027-01-01\n", "IS"),
        (f"1000999888,{SUPPLIER},{SUPPLIER},2027-01-01\n", "GT"),
        (f"1312345678111,11-22-33-44-55-66-77-88,{NETWORK_OPERATOR},2027-01-01\n", "not a DUIS user"),
        (f"13123456781,{SUPPLIER},{NETWORK_OPERATOR},2027-01-01\n", "neither an MPAN"),
        (f"1312345678111,{SUPPLIER},{NETWORK_OPERATOR},tomorrow\n", "line 3"),
        (f"1312345678111,{SUPPLIER},{NETWORK_OPERATOR}\n", "expected 4 fields"),
        # Two suppliers racing for one meter in one feed.
        (f"1312345678111,{SUPPLIER2},{NETWORK_OPERATOR},2027-01-01\n"
         f"1312345678111,{SUPPLIER},{NETWORK_OPERATOR},2027-01-01\n", "line 4"),
    ],
)
def test_bad_feed_is_refused_and_changes_nothing(demo: Store, lines: str, reason: str) -> None:
    good_first = f"{NEW_MPAN},{SUPPLIER},{NETWORK_OPERATOR},2027-01-01\n"
    before = (_history(demo, ESME_MPAN), _history(demo, MPxN.parse(NEW_MPAN)))
    with pytest.raises(RegistrationFeedError, match=reason):
        _apply(demo, good_first + lines)
    assert (_history(demo, ESME_MPAN), _history(demo, MPxN.parse(NEW_MPAN))) == before


def test_feed_without_the_header_is_refused() -> None:
    with pytest.raises(RegistrationFeedError, match="header"):
        parse_feed(f"1312345678111,{SUPPLIER},{NETWORK_OPERATOR},2027-01-01\n")
