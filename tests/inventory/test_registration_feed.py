"""Registration data feed: applied whole or not at all, with the rules of the module."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from opendcc.core.access_control import registered_roles
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.demo import NETWORK_OPERATOR, SUPPLIER, seed_demo
from opendcc.inventory.registration_feed import (
    RegistrationFeedError,
    apply_feed,
    load_feed,
    parse_feed,
)
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


def test_registration_data_loaded_from_a_file_then_updated_by_a_feed_with_effective_dates(
    demo: Store, tmp_path: Path,
) -> None:
    mpan, mprn = MPxN.parse("1400000000777"), MPxN.parse("700000777")
    initial = tmp_path / "registrations.csv"  # the first load: meter points registered back
    initial.write_text(HEADER + f"{mpan},{SUPPLIER},{NETWORK_OPERATOR},2024-04-01\n"
                       f"{mprn},{SUPPLIER},{NETWORK_OPERATOR},2024-04-01T00:00:00Z\n")
    update = tmp_path / "feed-2026-11-23.csv"  # a later feed: the customer moves on Dec 1
    update.write_text(HEADER + f"{mpan},{SUPPLIER2},{NETWORK_OPERATOR},2026-12-01\n"
                      f"{mprn},{SUPPLIER2},{NETWORK_OPERATOR},2026-12-01\n")
    with demo.begin() as conn:
        assert load_feed(conn, initial, NOW) == 2
        assert load_feed(conn, update, NOW) == 2
    b = EUI64.parse(SUPPLIER2)
    for point in (mpan, mprn):
        with demo.begin() as conn:
            first = inventory.registration_at(conn, point, datetime(2024, 4, 1, tzinfo=UTC))
            eve = inventory.registration_at(conn, point, datetime(2026, 12, 1, tzinfo=UTC)
                                            - timedelta(microseconds=1))
            day = inventory.registration_at(conn, point, datetime(2026, 12, 1, tzinfo=UTC))
            before_any = inventory.registration_at(conn, point, datetime(2024, 3, 31, tzinfo=UTC))
        assert before_any is None
        assert first is not None and eve is not None and day is not None
        assert first.supplier_id == eve.supplier_id == SUPPLIER and day.supplier_id == b
        # access control follows the record in force: A until the change, B from it
        assert registered_roles(SUPPLIER, [eve]) and not registered_roles(b, [eve])
        assert registered_roles(b, [day]) and not registered_roles(SUPPLIER, [day])
        assert [r.supplier_id for r in _history_records(demo, point)] == [SUPPLIER, b]


def test_a_feed_file_with_a_bad_line_applies_nothing(demo: Store, tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_text(HEADER + f"{NEW_MPAN},{SUPPLIER},{NETWORK_OPERATOR},2027-01-01\n"
                    f"1312345678111,{SUPPLIER2},{NETWORK_OPERATOR},2026-01-01\n")
    with pytest.raises(RegistrationFeedError, match="line 3"), demo.begin() as conn:
        load_feed(conn, feed, NOW)
    assert _history(demo, MPxN.parse(NEW_MPAN)) == []


def _history_records(store: Store, mpxn: MPxN) -> list[Any]:
    with store.begin() as conn:
        return list(inventory.registrations_of(conn, mpxn))
