"""DUIS 5.4 §3.4 replay protection: RequestID counters rise strictly per originator."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from opendcc.duis.response_codes import CounterReplayed
from opendcc.ids import EUI64
from opendcc.store.counters import advance_counter, last_counter
from opendcc.store.engine import Store, open_store

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")


def test_first_counter_from_an_originator_is_accepted(any_store: Store) -> None:
    with any_store.begin() as conn:
        advance_counter(conn, SUPPLIER, 1000)
        assert last_counter(conn, SUPPLIER) == 1000


def test_rising_counter_is_accepted(any_store: Store) -> None:
    with any_store.begin() as conn:
        advance_counter(conn, SUPPLIER, 1000)
        advance_counter(conn, SUPPLIER, 1001)
        assert last_counter(conn, SUPPLIER) == 1001


@pytest.mark.parametrize("counter", [1000, 999, 0])
def test_replayed_or_lower_counter_is_rejected_and_changes_nothing(
    any_store: Store, counter: int
) -> None:
    with any_store.begin() as conn:
        advance_counter(conn, SUPPLIER, 1000)
    with pytest.raises(CounterReplayed, match="does not exceed"), any_store.begin() as conn:
        advance_counter(conn, SUPPLIER, counter)
    with any_store.begin() as conn:
        assert last_counter(conn, SUPPLIER) == 1000


def test_counters_are_per_originator(memory_store: Store) -> None:
    with memory_store.begin() as conn:
        advance_counter(conn, SUPPLIER, 5000)
        advance_counter(conn, NETWORK_OPERATOR, 10)
        assert last_counter(conn, NETWORK_OPERATOR) == 10


@pytest.mark.parametrize("counter", [0, 2**63 - 1, 2**63, 2**64 - 1])
def test_whole_unsigned_64_bit_range_is_kept_exactly(any_store: Store, counter: int) -> None:
    with any_store.begin() as conn:
        advance_counter(conn, SUPPLIER, counter)
        assert last_counter(conn, SUPPLIER) == counter


def test_counter_beyond_64_bits_is_rejected(memory_store: Store) -> None:
    with pytest.raises(CounterReplayed, match="64-bit"), memory_store.begin() as conn:
        advance_counter(conn, SUPPLIER, 2**64)


def test_counter_survives_restart(sqlite_url: str) -> None:
    store = open_store(sqlite_url)
    with store.begin() as conn:
        advance_counter(conn, SUPPLIER, 1_766_940_660_265)
    store.close()
    reopened = open_store(sqlite_url)
    with pytest.raises(CounterReplayed), reopened.begin() as conn:
        advance_counter(conn, SUPPLIER, 1_766_940_660_265)
    with reopened.begin() as conn:
        advance_counter(conn, SUPPLIER, 1_766_940_660_266)
    reopened.close()


def _race(store: Store, originator: EUI64, counters: list[int]) -> list[int]:
    """Submit every counter from its own thread at once; return those accepted."""
    barrier = threading.Barrier(len(counters))
    accepted: list[int] = []
    lock = threading.Lock()

    def attempt(counter: int) -> None:
        barrier.wait()
        try:
            with store.begin() as conn:
                advance_counter(conn, originator, counter)
        except CounterReplayed:
            return
        with lock:
            accepted.append(counter)

    with ThreadPoolExecutor(max_workers=len(counters)) as pool:
        list(pool.map(attempt, counters))
    return accepted


def test_concurrent_requests_with_one_counter_are_accepted_once(any_store: Store) -> None:
    for round_ in range(5):
        counter = 1000 + round_
        accepted = _race(any_store, SUPPLIER, [counter] * 8)
        assert accepted == [counter]


def test_concurrent_first_requests_of_a_new_originator_are_accepted_once(any_store: Store) -> None:
    accepted = _race(any_store, NETWORK_OPERATOR, [42] * 8)
    assert accepted == [42]


def test_concurrent_distinct_counters_leave_the_highest(any_store: Store) -> None:
    counters = list(range(2000, 2008))
    accepted = _race(any_store, SUPPLIER, counters)
    # Each acceptance was, at the time, above every earlier one: the accepted sequence rises in
    # commit order, so the maximum is always among them.
    assert max(counters) in accepted
    with any_store.begin() as conn:
        assert last_counter(conn, SUPPLIER) == max(counters)
