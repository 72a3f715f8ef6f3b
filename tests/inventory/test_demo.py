"""The demo estate holds every device the published DUIS templates address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from opendcc.config import reference_dir
from opendcc.ids import EUI64
from opendcc.inventory.demo import NETWORK_OPERATOR, SUPPLIER, demo_devices, seed_demo
from opendcc.store import inventory
from opendcc.store.engine import Store, open_store
from opendcc.store.users import get_user, list_users

DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
_EUI = r"[0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){7}"
_TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*"))


def _request_id(path: Path) -> tuple[EUI64, EUI64]:
    text = path.read_text(encoding="utf-8", errors="replace")
    m = re.search(rf"<(?:\w+:)?RequestID>({_EUI}):({_EUI}):\d+<", text)
    assert m, f"{path.name}: no RequestID"
    return EUI64.parse(m.group(1)), EUI64.parse(m.group(2))


@pytest.fixture(scope="module")
def demo() -> Iterator[Store]:
    store = open_store("sqlite://")
    seed_demo(store)
    yield store
    store.close()


def test_templates_folder_is_present() -> None:
    assert len(_TEMPLATES) > 200


@pytest.mark.parametrize("template", _TEMPLATES, ids=lambda p: p.name)
def test_every_template_target_is_in_the_inventory_or_is_the_dcc(demo: Store, template: Path) -> None:
    _originator, target = _request_id(template)
    if target == DCC:  # non-device requests are addressed to the DCC itself
        return
    with demo.begin() as conn:
        assert inventory.get_device(conn, target) is not None, f"{target} missing"


@pytest.mark.parametrize("template", _TEMPLATES, ids=lambda p: p.name)
def test_every_other_device_a_template_names_is_in_the_inventory(demo: Store, template: Path) -> None:
    text = template.read_text(encoding="utf-8", errors="replace")
    named = re.findall(rf"<(?:\w+:)?(?:OtherDeviceID|HCALCS|OldCHFID|OldGPFID|DeviceID)>({_EUI})<", text)
    with demo.begin() as conn:
        for device in named:
            assert inventory.get_device(conn, EUI64.parse(device)) is not None, device


def test_every_meter_point_is_registered_to_the_template_parties(demo: Store) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with demo.begin() as conn:
        for device in demo_devices():
            for mpxn in device.mpxns:
                reg = inventory.registration_at(conn, mpxn, now)
                assert reg is not None
                assert (reg.supplier_id, reg.network_operator_id) == (SUPPLIER, NETWORK_OPERATOR)


def test_registration_does_not_apply_before_it_is_effective(demo: Store) -> None:
    [esme] = [d for d in demo_devices() if d.device_id == EUI64.parse("00-DB-12-34-56-78-90-A0")]
    assert esme.mpxn is not None
    with demo.begin() as conn:
        assert inventory.registration_at(conn, esme.mpxn, datetime(2019, 1, 1, tzinfo=UTC)) is None


def test_seeding_twice_changes_nothing(demo: Store) -> None:
    with demo.begin() as conn:
        before = (list_users(conn), inventory.devices_on_hub(conn, EUI64.parse("00-DB-12-34-56-78-90-A2")))
    seed_demo(demo)
    with demo.begin() as conn:
        after = (list_users(conn), inventory.devices_on_hub(conn, EUI64.parse("00-DB-12-34-56-78-90-A2")))
    assert before == after


@pytest.mark.parametrize(
    ("user", "roles"),
    [
        ("90-B3-D5-1F-30-01-00-00", {"IS", "ES", "GS", "OU"}),
        ("90-B3-D5-1F-30-03-00-00", {"IS", "ES", "GS", "OU"}),
        ("90-B3-D5-1F-30-02-00-00", {"ED", "GT"}),
        ("00-DB-12-34-56-78-00-04", {"OU"}),
    ],
)
def test_reference_organisations_hold_the_roles_of_their_certificates(
    demo: Store, user: str, roles: set[str]
) -> None:
    with demo.begin() as conn:
        found = get_user(conn, EUI64.parse(user))
    assert found is not None and found.roles == roles


@pytest.mark.parametrize("party", ["90-B3-D5-1F-30-00-00-02", "90-B3-D5-1F-30-00-00-04"])
def test_dcc_parties_are_not_duis_users(demo: Store, party: str) -> None:
    with demo.begin() as conn:
        assert get_user(conn, EUI64.parse(party)) is None
