"""SMI device status lifecycle: legal moves are a table; everything else is refused."""

from __future__ import annotations

import itertools

import pytest

from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.lifecycle import (
    TRANSITIONS,
    DeviceStatus,
    IllegalTransition,
    can_move,
    check_move,
)
from opendcc.store import inventory
from opendcc.store.engine import Store

ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
S = DeviceStatus


def test_every_duis_device_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(DeviceStatus)


@pytest.mark.parametrize("final", [S.DECOMMISSIONED, S.WITHDRAWN])
def test_final_statuses_have_no_way_out(final: DeviceStatus) -> None:
    assert not any(can_move(final, other) for other in DeviceStatus)


@pytest.mark.parametrize(("old", "new"), list(itertools.product(DeviceStatus, DeviceStatus)))
def test_check_move_agrees_with_the_table(old: DeviceStatus, new: DeviceStatus) -> None:
    if new in TRANSITIONS[old]:
        check_move("d", old, new)
    else:
        with pytest.raises(IllegalTransition, match=f"{old} -> {new}"):
            check_move("d", old, new)


def test_commissioned_device_can_be_decommissioned(memory_store: Store) -> None:
    seed_demo(memory_store)
    with memory_store.begin() as conn:
        moved = inventory.set_status(conn, ESME, S.DECOMMISSIONED)
    assert moved.status is S.DECOMMISSIONED


def test_wrong_state_transition_leaves_the_inventory_unchanged(memory_store: Store) -> None:
    seed_demo(memory_store)
    with pytest.raises(IllegalTransition), memory_store.begin() as conn:
        inventory.set_status(conn, ESME, S.PENDING)
    with memory_store.begin() as conn:
        device = inventory.get_device(conn, ESME)
    assert device is not None and device.status is S.COMMISSIONED


def test_status_change_of_unknown_device_is_refused(memory_store: Store) -> None:
    with pytest.raises(inventory.DeviceNotInInventory), memory_store.begin() as conn:
        inventory.set_status(conn, ESME, S.COMMISSIONED)
