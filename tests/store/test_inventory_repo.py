"""Inventory and registration queries, and racing status changes, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from opendcc.ids import EUI64, MPxN
from opendcc.inventory.demo import NETWORK_OPERATOR, SUPPLIER, demo_devices, seed_demo
from opendcc.inventory.lifecycle import DeviceStatus, IllegalTransition
from opendcc.inventory.model import Registration
from opendcc.store import inventory
from opendcc.store.engine import Store

ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
PPMID = EUI64.parse("00-DB-12-34-56-78-90-A4")
SUPPLIER2 = EUI64.parse("90-B3-D5-1F-30-03-00-00")


def test_demo_estate_round_trips_through_the_store(any_store: Store) -> None:
    seed_demo(any_store)
    seed_demo(any_store)
    with any_store.begin() as conn:
        for device in demo_devices():
            assert inventory.get_device(conn, device.device_id) == device


def test_device_without_a_meter_point_answers_for_the_meters_on_its_hub(any_store: Store) -> None:
    seed_demo(any_store)
    with any_store.begin() as conn:
        ppmid = inventory.get_device(conn, PPMID)
        assert ppmid is not None
        points = {m.value for m in inventory.responsible_mpxns(conn, ppmid)}
    assert {"1312345678111", "1000999888"} <= points


def test_registration_in_force_follows_effective_dates(any_store: Store) -> None:
    seed_demo(any_store)
    mpan = MPxN.parse("1312345678111")
    switch = datetime(2026, 6, 1, tzinfo=UTC)
    with any_store.begin() as conn:
        inventory.register(conn, Registration(mpan, SUPPLIER2, NETWORK_OPERATOR, switch))
    with any_store.begin() as conn:
        before = inventory.registration_at(conn, mpan, datetime(2026, 5, 31, 23, 59, tzinfo=UTC))
        after = inventory.registration_at(conn, mpan, switch)
        history = inventory.registrations_of(conn, mpan)
    assert before is not None and before.supplier_id == SUPPLIER
    assert after is not None and after.supplier_id == SUPPLIER2
    assert [r.supplier_id for r in history] == [SUPPLIER, SUPPLIER2]


def test_registrations_at_agrees_with_registration_at_for_each_meter_point(any_store: Store) -> None:
    seed_demo(any_store)
    mpan = MPxN.parse("1312345678111")
    switch = datetime(2026, 6, 1, tzinfo=UTC)
    with any_store.begin() as conn:
        inventory.register(conn, Registration(mpan, SUPPLIER2, NETWORK_OPERATOR, switch))
    with any_store.begin() as conn:
        ppmid = inventory.get_device(conn, PPMID)
        assert ppmid is not None
        points = (*inventory.responsible_mpxns(conn, ppmid), MPxN.parse("1999999999999"))
        for when in (datetime(1990, 1, 1, tzinfo=UTC), datetime(2026, 5, 31, tzinfo=UTC), switch,
                     datetime(2030, 1, 1, tzinfo=UTC)):
            one_by_one = [inventory.registration_at(conn, m, when) for m in points]
            assert inventory.registrations_at(conn, points, when) == [
                r for r in one_by_one if r is not None
            ]


def test_racing_status_changes_apply_once(any_store: Store) -> None:
    seed_demo(any_store)
    barrier = threading.Barrier(4)

    def decommission(_: int) -> bool:
        barrier.wait()
        try:
            with any_store.begin() as conn:
                inventory.set_status(conn, ESME, DeviceStatus.DECOMMISSIONED)
        except IllegalTransition:
            return False
        return True

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(decommission, range(4)))
    assert sorted(results) == [False, False, False, True]
