"""Decommissioning, device replacement, suspension and recovery on the SMI lifecycle table."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from opendcc.clock import SimulatedClock
from opendcc.config import reference_dir
from opendcc.core import commissioning
from opendcc.core.change_of_supplier import check_switched, run_switches
from opendcc.core.service import DataService
from opendcc.devices.chf import CHF
from opendcc.devices.esme import ESME
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.devices.ppmid import PPMID
from opendcc.devices.security import RemotePartyRole
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import DeviceStatusInvalid, DeviceUnknown, DuisError
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.installation import EmulatedCredentials, Visit, install_and_commission
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.registration_feed import apply_feed
from opendcc.inventory.replacement import remove_device, replace_hub, replace_meter
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store, open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = EUI64.parse("90-B3-D5-1F-30-02-00-00")
S = DeviceStatus
_counters = itertools.count(1)


def eui(text: str) -> EUI64:
    return EUI64.parse(f"00-DB-12-34-AA-00-00-{text}")


@pytest.fixture
def store() -> Iterator[Store]:
    s = open_store("sqlite://")
    seed_demo(s)
    yield s
    s.close()


@pytest.fixture
def premises(store: Store) -> Visit:
    v = Visit(CHF(eui("00")), GPF(eui("01")), ESME(eui("02"), mpxn=MPxN.parse("1400000000001")),
              GSME(eui("03"), mpxn=MPxN.parse("700000001")), PPMID(eui("04")), uprn="300000000001")
    lines = ["mpxn,supplier_id,network_operator_id,effective_from"]
    lines += [f"{m},{A},{DNO},2026-01-01" for m in ("1400000000001", "700000001")]
    with store.begin() as conn:
        apply_feed(conn, "\n".join(lines) + "\n", NOW)
        install_and_commission(conn, v, A, DNO, NOW)
    return v


def status(store: Store, device: EUI64) -> DeviceStatus | None:
    with store.begin() as conn:
        found = inventory_repo.get_device(conn, device)
    return None if found is None else found.status


def read_code(store: Store, device: EUI64, template: str = "ECS17b_4.1.1_SINGLE") -> str:
    """The DCC's answer to supplier A's `template` (a Command Variant 1 SRV) for `device`."""
    path = next((reference_dir() / "duis" / "templates").glob(f"{template}*"))
    text = path.read_text().replace("90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:",
                                    f"{A}:{device}:")
    text = text.replace(":1000<", f":{next(_counters)}<")
    request = read_request(parse_xml(text.encode()))
    service = DataService(store, load_catalogue(), SimulatedClock(NOW))
    try:
        return service.handle(request, A, "serviceS").code
    except DuisError as exc:
        return exc.code.value if exc.code else str(exc.http_status)


# --- suspension ---------------------------------------------------------------------------------

def test_suspended_meter_is_reinstated_after_certified_firmware(store: Store, premises: Visit) -> None:
    with store.begin() as conn:
        commissioning.suspend_device(conn, premises.esme.eui, NOW)
    assert status(store, premises.esme.eui) is S.SUSPENDED
    with store.begin() as conn:
        commissioning.reinstate_device(conn, premises.esme.eui, NOW)
    assert status(store, premises.esme.eui) is S.COMMISSIONED


def test_a_suspended_meter_takes_only_firmware_srvs_until_reinstated(
    store: Store, premises: Visit,
) -> None:
    with store.begin() as conn:
        commissioning.suspend_device(conn, premises.esme.eui, NOW)
    assert read_code(store, premises.esme.eui) == "E5"  # the SMI Status table: no reads
    assert read_code(store, premises.esme.eui, "ECS52_11.2") == "I99"  # firmware version: yes
    with store.begin() as conn:
        commissioning.reinstate_device(conn, premises.esme.eui, NOW)
    assert read_code(store, premises.esme.eui) == "I99"


def test_reinstating_a_device_not_suspended_is_e5(store: Store, premises: Visit) -> None:
    with store.begin() as conn, pytest.raises(DeviceStatusInvalid, match="not Suspended"):
        commissioning.reinstate_device(conn, premises.esme.eui, NOW)


# --- recovery -----------------------------------------------------------------------------------

def test_a_meter_in_recovery_is_not_addressed_until_recovered(store: Store, premises: Visit) -> None:
    assert read_code(store, premises.esme.eui) == "I99"
    with store.begin() as conn:
        commissioning.start_recovery(conn, premises.esme.eui, NOW)
    assert read_code(store, premises.esme.eui) == "E5"
    with store.begin() as conn:
        commissioning.complete_recovery(conn, premises.esme.eui, NOW)
    assert status(store, premises.esme.eui) is S.COMMISSIONED
    assert read_code(store, premises.esme.eui) == "I99"


def test_recovering_a_device_not_in_recovery_is_e5(store: Store, premises: Visit) -> None:
    with store.begin() as conn, pytest.raises(DeviceStatusInvalid, match="Commissioned -> Recovered"):
        commissioning.complete_recovery(conn, premises.esme.eui, NOW)


# --- decommissioning and replacement ---------------------------------------------------------

def test_removed_device_leaves_the_whitelist_and_is_decommissioned(store: Store, premises: Visit) -> None:
    assert premises.ppmid is not None
    with store.begin() as conn:
        remove_device(conn, premises.chf, premises.ppmid.eui, NOW)
    assert status(store, premises.ppmid.eui) is S.DECOMMISSIONED
    assert premises.chf.entry(premises.ppmid.id) is None
    with store.begin() as conn, pytest.raises(DeviceStatusInvalid):
        remove_device(conn, premises.chf, premises.ppmid.eui, NOW)


def test_meter_exchange_commissions_the_new_meter_at_the_same_meter_point(
    store: Store, premises: Visit,
) -> None:
    new = ESME(eui("12"), mpxn=premises.esme.mpxn)
    with store.begin() as conn:
        done = replace_meter(conn, premises.chf, premises.esme.eui, new, A, DNO, NOW)
    assert done.status is S.COMMISSIONED and done.chf_id == premises.chf.eui
    assert status(store, premises.esme.eui) is S.DECOMMISSIONED
    assert premises.chf.check_reachable(new.id).joined
    assert read_code(store, new.eui) == "I99" and read_code(store, premises.esme.eui) == "E5"
    # A later switch replaces the anchors of the meter in service only.
    at = NOW + timedelta(hours=1)
    with store.begin() as conn:
        apply_feed(conn, f"mpxn,supplier_id,network_operator_id,effective_from\n"
                   f"{premises.esme.mpxn},{B},{DNO},{at.isoformat()}\n", NOW)
    credentials = EmulatedCredentials.of([*premises.devices(), new])
    run_switches(store, credentials, at)
    assert credentials.supplier_anchor(new.eui) == B
    assert premises.esme.anchors.get(RemotePartyRole.SUPPLIER).entity == A.hyphenated  # type: ignore[union-attr]
    assert check_switched(store, credentials, at) == []


def test_meter_exchange_with_a_meter_for_another_meter_point_changes_nothing(
    store: Store, premises: Visit,
) -> None:
    new = ESME(eui("12"), mpxn=MPxN.parse("1400000000099"))
    with store.begin() as conn, pytest.raises(DeviceStatusInvalid, match="meter point"):
        replace_meter(conn, premises.chf, premises.esme.eui, new, A, DNO, NOW)
    assert status(store, premises.esme.eui) is S.COMMISSIONED
    assert premises.chf.entry(premises.esme.id) is not None


def test_meter_exchange_over_duis_inventory_srvs(store: Store, premises: Visit) -> None:
    """The inventory half of a meter exchange as a supplier sends it: 12.2 and 8.4 UpdateMPxN
    for the new meter, 8.3 for the old one (the hub half, 8.11 Remove / Add, goes to the hub)."""
    service = DataService(store, load_catalogue(), SimulatedClock(NOW))
    new = eui("12")

    def send(srv: str, body: str) -> str:
        reference = ".".join(srv.split(".")[:2])
        xml = (f'<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" '
               f'schemaVersion="5.4"><sr:Header><sr:RequestID>{A}:90-B3-D5-1F-30-00-00-02:'
               f'{next(_counters)}</sr:RequestID><sr:CommandVariant>8</sr:CommandVariant>'
               f'<sr:ServiceReference>{reference}</sr:ServiceReference><sr:ServiceReferenceVariant>'
               f'{srv}</sr:ServiceReferenceVariant></sr:Header><sr:Body>{body}</sr:Body>'
               '</sr:Request>')
        try:
            return service.handle(read_request(parse_xml(xml.encode())), A, "serviceD").code
        except DuisError as exc:
            return exc.code.value if exc.code else str(exc.http_status)

    assert send("12.2", f"<sr:DevicePrenotification><sr:DeviceID>{new}</sr:DeviceID>"
                "<sr:DeviceManufacturer>opendcc</sr:DeviceManufacturer><sr:DeviceModel>M"
                "</sr:DeviceModel><sr:DeviceType>ESME</sr:DeviceType></sr:DevicePrenotification>"
                ) == "I0"
    assert send("8.4", f"<sr:UpdateInventory><sr:DeviceID>{new}</sr:DeviceID><sr:UpdateMPxN>"
                f"<sr:ImportMPxN>{premises.esme.mpxn}</sr:ImportMPxN></sr:UpdateMPxN>"
                "</sr:UpdateInventory>") == "I0"
    old = f"<sr:DecommissionDevice><sr:DeviceID>{premises.esme.eui}</sr:DeviceID></sr:DecommissionDevice>"
    assert send("8.3", old) == "I0"
    assert status(store, premises.esme.eui) is S.DECOMMISSIONED
    assert status(store, new) is S.PENDING
    assert read_code(store, premises.esme.eui) == "E5"
    assert send("8.3", old) == "E5"  # decommissioned already


def test_hub_exchange_moves_the_han_to_the_new_hub(store: Store, premises: Visit) -> None:
    new_chf, new_gpf = CHF(eui("20")), GPF(eui("21"))
    with store.begin() as conn:
        done = replace_hub(conn, premises.chf, premises.gpf.eui, new_chf, new_gpf, NOW)
        esme = inventory_repo.get_device(conn, premises.esme.eui)
    assert done.status is S.COMMISSIONED
    assert esme is not None and esme.chf_id == new_chf.eui
    assert status(store, premises.chf.eui) is S.DECOMMISSIONED
    assert status(store, premises.gpf.eui) is S.DECOMMISSIONED
    assert new_chf.check_reachable(premises.esme.id).joined


def test_hub_exchange_for_a_device_not_in_inventory_is_e19(store: Store) -> None:
    with store.begin() as conn, pytest.raises(DeviceUnknown):
        replace_hub(conn, CHF(eui("30")), None, CHF(eui("31")), GPF(eui("32")), NOW)
