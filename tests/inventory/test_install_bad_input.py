"""Bad input for installation and switching (issue #7): each a specified error, the Smart
Metering Inventory, the registration data and the switch records unchanged.

- commissioning a device not in the inventory: E19, nothing sent;
- a wrong-state transition (commissioning a Pending meter, decommissioning twice): E5;
- a switch dated in the past: the registration feed refuses it;
- a switch for an MPxN without registration: E4;
- two suppliers racing for one meter: the second is refused (feed, and E4 for its CoS request).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from opendcc.clock import SimulatedClock
from opendcc.config import reference_dir
from opendcc.core import commissioning
from opendcc.core.change_of_supplier import request_switch
from opendcc.core.service import DataService
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.duis.response_codes import (
    DeviceStatusInvalid,
    DeviceUnknown,
    DuisError,
    NotRegisteredParty,
)
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.installation import EmulatedCredentials, Visit
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.inventory.registration_feed import RegistrationFeedError
from opendcc.inventory.scripting import install_premises, switch_supplier
from opendcc.store import inventory as inventory_repo
from opendcc.store import tables
from opendcc.store.engine import Store, open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = EUI64.parse("90-B3-D5-1F-30-02-00-00")
MPAN, MPRN = "1400000000001", "700000001"
_counters = itertools.count(1)


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store("sqlite://")
    seed_demo(s)
    yield s
    s.close()


@pytest.fixture
def premises(store: Store) -> Visit:
    return install_premises(store, A, DNO, mpan=MPAN, mprn=MPRN, now=NOW)


def snapshot(store: Store) -> tuple[list[Any], ...]:
    """Every row of the inventory, the registration data and the CoS records."""
    with store.begin() as conn:
        return tuple(sorted(tuple(r) for r in conn.execute(select(t)).all())  # type: ignore[misc]
                     for t in (tables.inventory, tables.registration, tables.cos_switch))


class Recorder:
    """A device layer standing for the Transform: counts what reaches it."""

    def __init__(self) -> None:
        self.sent = 0

    def submit(self, *args: object) -> object:
        self.sent += 1
        raise AssertionError("a refused request reached the device layer")


def commission(device: EUI64) -> tuple[Recorder, DuisRequest]:
    """SRV 8.1.1 Commission Device (the RTDS ECS70 template) from supplier A to `device`."""
    path = next((reference_dir() / "duis" / "templates").glob("ECS70Commission_8.1.1*"))
    text = path.read_text().replace("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:",
                                    f"{A}:{device}:")
    text = text.replace(":1000<", f":{next(_counters)}<")
    return Recorder(), read_request(parse_xml(text.encode()))


def send(store: Store, recorder: Recorder, request: DuisRequest) -> str:
    service = DataService(store, load_catalogue(), SimulatedClock(NOW), devices=recorder)  # type: ignore[arg-type]
    try:
        return service.handle(request, A, CommandVariant(request.command_variant).endpoint).code
    except DuisError as exc:
        assert exc.code is not None
        return exc.code.value


def test_commissioning_a_device_not_in_the_inventory_is_e19_and_sends_nothing(
    store: Store, premises: Visit,
) -> None:
    before = snapshot(store)
    recorder, request = commission(EUI64.parse("00-DB-12-34-AA-99-99-99"))
    with pytest.raises(DeviceUnknown):
        DataService(store, load_catalogue(), SimulatedClock(NOW), devices=recorder).handle(  # type: ignore[arg-type]
            request, A, "serviceT")
    assert recorder.sent == 0
    assert snapshot(store) == before


def test_commissioning_a_pending_meter_is_e5_and_sends_nothing(
    store: Store, premises: Visit,
) -> None:
    meter = EUI64.parse("00-DB-12-34-AA-99-99-01")
    with store.begin() as conn:  # pre-notified (12.2) for A's meter point, never whitelisted
        inventory_repo.put_device(conn, Device(meter, DeviceType.ESME, DeviceStatus.PENDING,
                                               "opendcc", "OPENDCC-ESME",
                                               mpxn=MPxN.parse(MPAN)))
    before = snapshot(store)
    recorder, request = commission(meter)
    assert send(store, recorder, request) == "E5"
    assert recorder.sent == 0
    assert snapshot(store) == before


def test_decommissioning_twice_is_a_wrong_state_transition_e5(store: Store, premises: Visit) -> None:
    with store.begin() as conn:
        commissioning.move(conn, commissioning.require_device(conn, premises.esme.eui),
                           commissioning.S.DECOMMISSIONED, "8.3", NOW)
    before = snapshot(store)
    with pytest.raises(DeviceStatusInvalid, match="Decommissioned -> Decommissioned"), \
            store.begin() as conn:
        commissioning.move(conn, commissioning.require_device(conn, premises.esme.eui),
                           commissioning.S.DECOMMISSIONED, "8.3", NOW)
    assert snapshot(store) == before


def test_a_switch_dated_in_the_past_is_refused_and_changes_nothing(
    store: Store, premises: Visit,
) -> None:
    before = snapshot(store)
    with pytest.raises(RegistrationFeedError, match="in the past"):
        switch_supplier(store, [MPxN.parse(MPAN)], B, NOW - timedelta(days=1),
                        EmulatedCredentials.of(premises.devices()), now=NOW)
    assert snapshot(store) == before


def test_a_switch_for_a_meter_point_without_registration_is_e4_and_changes_nothing(
    store: Store, premises: Visit,
) -> None:
    before = snapshot(store)
    with pytest.raises(NotRegisteredParty, match="no registration"):
        switch_supplier(store, [MPxN.parse("1400000000999")], B, NOW,
                        EmulatedCredentials.of(premises.devices()), now=NOW)
    assert snapshot(store) == before


def test_two_suppliers_racing_for_one_meter_the_second_is_refused(
    store: Store, premises: Visit,
) -> None:
    at = NOW + timedelta(days=7)
    credentials = EmulatedCredentials.of(premises.devices())
    switch_supplier(store, [MPxN.parse(MPAN)], B, at, credentials, now=NOW)
    before = snapshot(store)
    with pytest.raises(RegistrationFeedError, match="already has supplier"):
        switch_supplier(store, [MPxN.parse(MPAN)], A, at, credentials, now=NOW)
    assert snapshot(store) == before
    # On the day, only the supplier the registration data names may ask for its CoS.
    with pytest.raises(NotRegisteredParty), store.begin() as conn:
        request_switch(conn, A, MPxN.parse(MPAN), at)
    assert snapshot(store) == before

