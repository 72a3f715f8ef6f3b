"""DCC schedules in the store (SRV 5.1 / 5.3 rows, `core.dcc_schedules.StoredDccSchedules`):
they outlive a restart (a new scheduler over the same database), each run is sent once, a
deletion stays deleted, a 5.1 that rolls back leaves nothing; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from opendcc.clock import SimulatedClock
from opendcc.core.dcc_schedules import StoredDccSchedules
from opendcc.duis.request import SR
from opendcc.store import schedules as repo
from opendcc.store.engine import Store, open_store
from opendcc.store.schedules import StoredSchedule

T0 = datetime(2026, 11, 23, 12, tzinfo=UTC)
DAY = 86400
OWNER = "90-B3-D5-1F-30-01-00-00"
ESME = "00-DB-12-34-56-78-90-A0"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """A fresh database on each backend, to open (and reopen, as a restart does)."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_databases").create())
    return sqlite_url


class Dcc:
    """One life of the DCC: a store and its schedules on the shared simulated clock."""

    def __init__(self, url: str, clock: SimulatedClock, runs: list[tuple[int, datetime]]) -> None:
        self.store = open_store(url)
        self.runs = runs
        self.schedules = StoredDccSchedules(self.store, clock, self._run)

    def _run(self, schedule: StoredSchedule, at: datetime) -> None:
        self.runs.append((schedule.schedule_id, at))

    def create(self, start: datetime, *, frequency: str = "Daily",
               end: datetime | None = None) -> int:
        with self.store.begin() as conn:
            return self.schedules.create(
                conn, owner=OWNER, device_id=ESME, device_type="ESME", service_reference="4.8",
                service_reference_variant="4.8.1", frequency=frequency, start_at=start,
                end_at=end, dsp=etree.Element(f"{{{SR}}}DSPReadActiveImportProfileData"),
                details=etree.Element(f"{{{SR}}}CreateSchedule"))

    def close(self) -> None:
        """The process ends: its timers die with it (they are not run again)."""
        self.schedules.run = lambda _s, _at: pytest.fail("a timer of a stopped DCC ran")
        self.schedules._armed.clear()
        self.store.close()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def lives() -> Iterator[tuple[list[Dcc], list[tuple[int, datetime]]]]:
    runs: list[tuple[int, datetime]] = []
    started: list[Dcc] = []
    yield started, runs
    for dcc in started:
        dcc.store.close()


def _start(lives: tuple[list[Dcc], list[tuple[int, datetime]]], url: str,
           clock: SimulatedClock) -> Dcc:
    started, runs = lives
    dcc = Dcc(url, clock, runs)
    started.append(dcc)
    dcc.schedules.load()
    return dcc


def test_a_schedule_outlives_a_restart_and_its_next_run_is_sent_once(
        store_url: str, clock: SimulatedClock, lives: tuple[list[Dcc], list[tuple[int, datetime]]]
) -> None:
    first = _start(lives, store_url, clock)
    schedule_id = first.create(T0 + timedelta(hours=1))
    clock.advance(DAY)  # runs at 13:00 on day 0
    assert lives[1] == [(schedule_id, T0 + timedelta(hours=1))]
    first.close()

    second = _start(lives, store_url, clock)  # restarted before the next run is due
    clock.advance(DAY)
    assert lives[1] == [(schedule_id, T0 + timedelta(hours=1, days=d)) for d in range(2)]
    with second.store.begin() as conn:
        stored = repo.get(conn, schedule_id)
    assert stored is not None and stored.last_run_at == T0 + timedelta(hours=1, days=1)
    assert stored.owner == OWNER and stored.device_id == ESME and stored.frequency == "Daily"


def test_runs_due_while_the_dcc_was_down_are_each_sent_once_on_start(
        store_url: str, clock: SimulatedClock, lives: tuple[list[Dcc], list[tuple[int, datetime]]]
) -> None:
    first = _start(lives, store_url, clock)
    schedule_id = first.create(T0 + timedelta(hours=1))
    clock.advance(DAY)
    first.close()
    clock.advance(2 * DAY)  # down over the runs of days 1 and 2

    second = _start(lives, store_url, clock)
    clock.advance(0)  # start-up: what is past due runs at once
    assert [at for _, at in lives[1]] == [T0 + timedelta(hours=1, days=d) for d in range(3)]
    second.close()
    third = _start(lives, store_url, clock)  # restarted at once: nothing is sent twice
    clock.advance(0)
    assert len(lives[1]) == 3
    clock.advance(DAY)  # the run of day 3, 13:00
    assert lives[1][-1] == (schedule_id, T0 + timedelta(hours=1, days=3))
    assert len(lives[1]) == 4
    assert third.schedules.load() == 0  # already armed: a second load arms nothing twice


def test_a_deleted_schedule_stays_deleted_after_a_restart(
        store_url: str, clock: SimulatedClock, lives: tuple[list[Dcc], list[tuple[int, datetime]]]
) -> None:
    first = _start(lives, store_url, clock)
    kept = first.create(T0 + timedelta(hours=1))
    gone = first.create(T0 + timedelta(hours=2))
    with first.store.begin() as conn:
        assert first.schedules.delete(conn, gone)
    first.close()
    second = _start(lives, store_url, clock)
    clock.advance(2 * DAY)
    assert {schedule_id for schedule_id, _ in lives[1]} == {kept}
    with second.store.begin() as conn:
        assert [s.schedule_id for s in second.schedules.of(conn, OWNER)] == [kept]
        assert not second.schedules.delete(conn, gone)
    third = _start(lives, store_url, clock)
    assert third.create(T0 + timedelta(days=3)) not in (kept, gone)  # IDs are never reused


def test_a_create_that_rolls_back_leaves_no_schedule_and_no_run(
        store_url: str, clock: SimulatedClock, lives: tuple[list[Dcc], list[tuple[int, datetime]]]
) -> None:
    dcc = _start(lives, store_url, clock)
    with pytest.raises(RuntimeError), dcc.store.begin() as conn:
        dcc.schedules.create(
            conn, owner=OWNER, device_id=ESME, device_type="ESME", service_reference="4.8",
            service_reference_variant="4.8.1", frequency="Daily", start_at=T0 + timedelta(hours=1),
            end_at=None, dsp=etree.Element(f"{{{SR}}}DSPX"),
            details=etree.Element(f"{{{SR}}}CreateSchedule"))
        raise RuntimeError("the request's transaction fails after 5.1 (e.g. the outbox)")
    clock.advance(2 * DAY)
    assert lives[1] == []
    with dcc.store.begin() as conn:
        assert dcc.schedules.of(conn, OWNER) == []


def test_runs_stop_at_the_end_date_and_the_schedule_is_removed(
        store_url: str, clock: SimulatedClock, lives: tuple[list[Dcc], list[tuple[int, datetime]]]
) -> None:
    dcc = _start(lives, store_url, clock)
    schedule_id = dcc.create(T0 + timedelta(hours=1), end=T0 + timedelta(days=2))
    clock.advance(5 * DAY)
    assert len(lives[1]) == 2
    with dcc.store.begin() as conn:
        assert repo.get(conn, schedule_id) is None


def test_two_processes_over_one_database_send_each_run_once(
        store_url: str, clock: SimulatedClock, lives: tuple[list[Dcc], list[tuple[int, datetime]]]
) -> None:
    first = _start(lives, store_url, clock)
    schedule_id = first.create(T0 + timedelta(hours=1))
    _start(lives, store_url, clock)  # a second worker loads the same schedule
    clock.advance(3 * DAY)
    assert lives[1] == [(schedule_id, T0 + timedelta(hours=1, days=d)) for d in range(3)]


def test_concurrent_claims_of_one_run_give_it_to_exactly_one(store_url: str) -> None:
    store = open_store(store_url)
    try:
        with store.begin() as conn:
            schedule_id = repo.add(
                conn, owner=OWNER, device_id=ESME, device_type="ESME", service_reference="4.8",
                service_reference_variant="4.8.1", frequency="Daily", start_at=T0,
                first_run_at=T0, end_at=None, dsp_body="<x/>", details="<y/>", created_at=T0)
        barrier = threading.Barrier(4)
        won: list[bool] = []

        def claim() -> None:
            barrier.wait()
            with store.begin() as conn:
                won.append(repo.claim_run(conn, schedule_id, T0 + timedelta(days=1)))

        threads = [threading.Thread(target=claim) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(won) == [False, False, False, True]
        with store.begin() as conn:  # an earlier run can no longer be claimed either
            assert not repo.claim_run(conn, schedule_id, T0)
    finally:
        store.close()


def test_naive_times_are_refused(memory_store: Store) -> None:
    with pytest.raises(ValueError, match="naive"), memory_store.begin() as conn:
        repo.claim_run(conn, 1, datetime(2026, 1, 1))


def test_a_first_run_due_before_its_5_1_commits_is_sent_once_it_has(
        pg_databases: object, clock: SimulatedClock,
        lives: tuple[list[Dcc], list[tuple[int, datetime]]]) -> None:
    # PostgreSQL: the timer's transaction does not see the uncommitted row and looks again.
    url = pg_databases.create()  # type: ignore[attr-defined]
    dcc = _start(lives, url, clock)
    with dcc.store.begin() as conn:
        schedule_id = dcc.schedules.create(
            conn, owner=OWNER, device_id=ESME, device_type="ESME", service_reference="4.8",
            service_reference_variant="4.8.1", frequency="Daily",
            start_at=T0 + timedelta(seconds=1), end_at=None,
            dsp=etree.Element(f"{{{SR}}}DSPX"), details=etree.Element(f"{{{SR}}}CreateSchedule"))
        clock.advance(2)  # due while the request's transaction is still open
        assert lives[1] == []
    clock.advance(1)
    assert lives[1] == [(schedule_id, T0 + timedelta(seconds=1))]


def test_a_run_the_store_fails_at_is_tried_again_not_lost(
        sqlite_url: str, clock: SimulatedClock,
        lives: tuple[list[Dcc], list[tuple[int, datetime]]]) -> None:
    dcc = _start(lives, sqlite_url, clock)
    schedule_id = dcc.create(T0 + timedelta(hours=1))
    real_claim = repo.claim_run
    failures = iter([True])

    def flaky(conn: object, sid: int, at: datetime) -> bool:
        if next(failures, False):
            raise OSError("the database went away")
        return real_claim(conn, sid, at)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repo, "claim_run", flaky)
        clock.advance(3600)  # the run at 13:00 meets the failure
        assert lives[1] == []
        clock.advance(60)
    assert lives[1] == [(schedule_id, T0 + timedelta(hours=1))]
    clock.advance(DAY)
    assert len(lives[1]) == 2
