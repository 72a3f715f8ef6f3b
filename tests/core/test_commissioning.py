"""Inventory SRVs as moves on the SMI lifecycle table: each legal move applies, each illegal one
is its DUIS error and changes nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from core_requests import DCC, ESME, GSME, SUPPLIER, SUPPLIER2

from opendcc.clock import SimulatedClock
from opendcc.core import commissioning
from opendcc.core.service import DataService, Outcome
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.duis.response_codes import (
    DeviceStatusInvalid,
    DeviceTypeInvalid,
    DeviceUnknown,
    NotRegisteredParty,
    RoleNotEligible,
)
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store, open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
HUB = "00-DB-12-34-56-78-90-A2"
NEW_HUB = EUI64.parse("00-DB-12-34-56-78-A0-00")
NEW_GPF = EUI64.parse("00-DB-12-34-56-78-A0-01")
_counter = itertools.count(1)


def non_device(srv: str, body: str, *, originator: str = SUPPLIER) -> DuisRequest:
    """A schema-valid Command Variant 8 request."""
    reference = ".".join(srv.split(".")[:2])
    xml = f"""<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"
 schemaVersion="5.4"><sr:Header><sr:RequestID>{originator}:{DCC}:{next(_counter)}</sr:RequestID>
<sr:CommandVariant>8</sr:CommandVariant><sr:ServiceReference>{reference}</sr:ServiceReference>
<sr:ServiceReferenceVariant>{srv}</sr:ServiceReferenceVariant></sr:Header>
<sr:Body>{body}</sr:Body></sr:Request>"""
    root = parse_xml(xml.encode())
    validate_duis(root)
    return read_request(root)


def pre_notification(device: str, kind: str) -> str:
    return (f"<sr:DevicePrenotification><sr:DeviceID>{device}</sr:DeviceID>"
            "<sr:DeviceManufacturer>opendcc</sr:DeviceManufacturer>"
            f"<sr:DeviceModel>OPENDCC-{kind}</sr:DeviceModel><sr:DeviceType>{kind}</sr:DeviceType>"
            "</sr:DevicePrenotification>")


def install_success(device: str, mpxn: str) -> str:
    return (f"<sr:CHFInstallSuccessSMWAN><sr:DeviceID>{device}</sr:DeviceID>"
            "<sr:CHFInstallType>New CHF Install</sr:CHFInstallType>"
            f"<sr:MPxN>{mpxn}</sr:MPxN><sr:AerialInstall>false</sr:AerialInstall>"
            "<sr:CHFLocation>Basement or Cellar</sr:CHFLocation></sr:CHFInstallSuccessSMWAN>")


def update_inventory(device: str, change: str) -> str:
    return f"<sr:UpdateInventory><sr:DeviceID>{device}</sr:DeviceID>{change}</sr:UpdateInventory>"


@pytest.fixture
def service() -> Iterator[DataService]:
    store = open_store("sqlite://")
    seed_demo(store)
    yield DataService(store, load_catalogue(), SimulatedClock(NOW))
    store.close()


def _handle(service: DataService, request: DuisRequest) -> Outcome:
    return service.handle(request, request.request_id.originator, "serviceD")


def _status(store: Store, device: EUI64 | str) -> DeviceStatus | None:
    eui = device if isinstance(device, EUI64) else EUI64.parse(device)
    with store.begin() as conn:
        found = inventory_repo.get_device(conn, eui)
    return None if found is None else found.status


def _new_hub(store: Store) -> None:
    """A delivered, pre-notified comms hub (CHF and GPF) not yet installed."""
    with store.begin() as conn:
        for eui, kind in ((NEW_HUB, DeviceType.CHF), (NEW_GPF, DeviceType.GPF)):
            inventory_repo.put_device(conn, Device(
                eui, kind, DeviceStatus.PENDING, "opendcc", f"OPENDCC-{kind}",
                chf_id=NEW_HUB if kind is DeviceType.GPF else None))


# --- 12.2 Device Pre-notification ------------------------------------------------------------

def test_pre_notified_device_enters_the_inventory_pending(service: DataService) -> None:
    device = "00-DB-12-34-56-78-A0-10"
    assert _handle(service, non_device("12.2", pre_notification(device, "ESME"))).code == "I0"
    assert _status(service.store, device) is DeviceStatus.PENDING


def test_pre_notifying_a_device_already_in_inventory_is_e5_and_changes_nothing(
    service: DataService,
) -> None:
    with pytest.raises(DeviceStatusInvalid, match="already in the inventory"):
        _handle(service, non_device("12.2", pre_notification(ESME, "ESME")))
    assert _status(service.store, ESME) is DeviceStatus.COMMISSIONED


# --- 8.14 Communications Hub Status Update ---------------------------------------------------

def test_install_success_commissions_the_hub_and_installs_its_gpf(service: DataService) -> None:
    _new_hub(service.store)
    outcome = _handle(service, non_device("8.14.1", install_success(NEW_HUB.hyphenated, "1312345678111")))
    assert outcome.code == "I0"
    assert _status(service.store, NEW_HUB) is DeviceStatus.COMMISSIONED
    assert _status(service.store, NEW_GPF) is DeviceStatus.INSTALLED_NOT_COMMISSIONED


def test_install_without_sm_wan_leaves_the_hub_installed_not_commissioned(service: DataService) -> None:
    _new_hub(service.store)
    body = install_success(NEW_HUB.hyphenated, "1312345678111").replace(
        "CHFInstallSuccessSMWAN", "CHFInstallSuccessNoSMWAN").replace(
        "</sr:CHFLocation>", "</sr:CHFLocation><sr:PremiseType>Terraced</sr:PremiseType>"
        "<sr:MetalObstructionCheck>false</sr:MetalObstructionCheck><sr:ConnectivityObstructionCheck>"
        "false</sr:ConnectivityObstructionCheck><sr:SharedObstructionCheck>false"
        "</sr:SharedObstructionCheck>")
    assert _handle(service, non_device("8.14.2", body)).code == "I0"
    assert _status(service.store, NEW_HUB) is DeviceStatus.INSTALLED_NOT_COMMISSIONED


def test_install_by_a_supplier_not_registered_for_the_premises_is_e4(service: DataService) -> None:
    _new_hub(service.store)
    with pytest.raises(NotRegisteredParty):
        _handle(service, non_device("8.14.1", install_success(NEW_HUB.hyphenated, "1312345678111"),
                                    originator=SUPPLIER2))
    assert _status(service.store, NEW_HUB) is DeviceStatus.PENDING


def test_install_for_an_mpxn_without_registration_is_e4(service: DataService) -> None:
    _new_hub(service.store)
    with pytest.raises(NotRegisteredParty, match="no registration"):
        _handle(service, non_device("8.14.1", install_success(NEW_HUB.hyphenated, "1399999999999")))
    assert _status(service.store, NEW_HUB) is DeviceStatus.PENDING


def test_hub_status_update_for_a_meter_is_e11(service: DataService) -> None:
    with pytest.raises(DeviceTypeInvalid):
        _handle(service, non_device("8.14.1", install_success(ESME, "1312345678111")))


def test_hub_returned_before_install_is_withdrawn(service: DataService) -> None:
    _new_hub(service.store)
    body = (f"<sr:CHFNoFaultReturn><sr:DeviceID>{NEW_HUB.hyphenated}</sr:DeviceID>"
            "<sr:CHFNoFaultReturnType>No Fault Return (general)</sr:CHFNoFaultReturnType></sr:CHFNoFaultReturn>")
    assert _handle(service, non_device("8.14.4", body)).code == "I0"
    assert _status(service.store, NEW_HUB) is DeviceStatus.WITHDRAWN
    assert _status(service.store, NEW_GPF) is DeviceStatus.WITHDRAWN


# --- 8.3 Decommission Device -------------------------------------------------------------------

def test_registered_supplier_decommissions_a_meter(service: DataService) -> None:
    body = f"<sr:DecommissionDevice><sr:DeviceID>{GSME}</sr:DeviceID></sr:DecommissionDevice>"
    assert _handle(service, non_device("8.3", body)).code == "I0"
    assert _status(service.store, GSME) is DeviceStatus.DECOMMISSIONED


def test_decommissioning_twice_is_e5(service: DataService) -> None:
    body = f"<sr:DecommissionDevice><sr:DeviceID>{GSME}</sr:DeviceID></sr:DecommissionDevice>"
    _handle(service, non_device("8.3", body))
    with pytest.raises(DeviceStatusInvalid, match="Decommissioned -> Decommissioned"):
        _handle(service, non_device("8.3", body))


def test_decommission_by_another_supplier_is_e4_and_changes_nothing(service: DataService) -> None:
    body = f"<sr:DecommissionDevice><sr:DeviceID>{GSME}</sr:DeviceID></sr:DecommissionDevice>"
    with pytest.raises(NotRegisteredParty):
        _handle(service, non_device("8.3", body, originator=SUPPLIER2))
    assert _status(service.store, GSME) is DeviceStatus.COMMISSIONED


def test_decommissioning_a_device_not_in_inventory_is_e19(service: DataService) -> None:
    body = "<sr:DecommissionDevice><sr:DeviceID>11-22-33-44-55-66-77-88</sr:DeviceID></sr:DecommissionDevice>"
    with pytest.raises(DeviceUnknown):
        _handle(service, non_device("8.3", body))


# --- 8.4 Update Inventory ----------------------------------------------------------------------

def test_update_inventory_deletes_a_pending_device(service: DataService) -> None:
    _new_hub(service.store)
    assert _handle(service, non_device("8.4", update_inventory(
        NEW_GPF.hyphenated, "<sr:DeleteDevice/>"))).code == "I0"
    assert _status(service.store, NEW_GPF) is None


def test_deleting_a_commissioned_device_is_e5(service: DataService) -> None:
    with pytest.raises(DeviceStatusInvalid, match="only a Pending device"):
        _handle(service, non_device("8.4", update_inventory(ESME, "<sr:DeleteDevice/>")))
    assert _status(service.store, ESME) is DeviceStatus.COMMISSIONED


def test_update_inventory_moves_a_status_the_table_allows(service: DataService) -> None:
    _new_hub(service.store)
    change = "<sr:UpdateDeviceStatusExceptCH>InstalledNotCommissioned</sr:UpdateDeviceStatusExceptCH>"
    assert _handle(service, non_device("8.4", update_inventory(NEW_GPF.hyphenated, change))).code == "I0"
    assert _status(service.store, NEW_GPF) is DeviceStatus.INSTALLED_NOT_COMMISSIONED


def test_update_inventory_status_against_the_table_is_e5(service: DataService) -> None:
    change = "<sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>"
    with pytest.raises(DeviceStatusInvalid, match="Commissioned -> Pending"):
        _handle(service, non_device("8.4", update_inventory(ESME, change)))
    assert _status(service.store, ESME) is DeviceStatus.COMMISSIONED


def test_hub_status_through_the_non_hub_choice_is_e11(service: DataService) -> None:
    change = "<sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>"
    with pytest.raises(DeviceTypeInvalid):
        _handle(service, non_device("8.4", update_inventory(HUB, change)))


def test_update_inventory_records_new_firmware(service: DataService) -> None:
    change = "<sr:UpdateDeviceDetails><sr:FirmwareVersion>00020000</sr:FirmwareVersion></sr:UpdateDeviceDetails>"
    _handle(service, non_device("8.4", update_inventory(ESME, change)))
    with service.store.begin() as conn:
        device = inventory_repo.get_device(conn, EUI64.parse(ESME))
    assert device is not None and device.firmware == "00020000"


def test_service_opt_in_has_no_eligible_role(service: DataService) -> None:
    body = (f"<sr:ServiceOptIn><sr:DeviceID>{ESME}</sr:DeviceID><sr:DeviceType>ESME</sr:DeviceType>"
            "<sr:MPxNs><sr:ImportMPxN>1312345678111</sr:ImportMPxN></sr:MPxNs>"
            "<sr:OptInDate>2026-12-01</sr:OptInDate></sr:ServiceOptIn>")
    with pytest.raises(RoleNotEligible):
        _handle(service, non_device("8.6", body))


# --- device SRVs: the inventory follows the device ---------------------------------------------

def test_commissioning_a_pending_meter_is_refused_before_it_is_sent(service: DataService) -> None:
    device = EUI64.parse("00-DB-12-34-56-78-A0-10")
    _handle(service, non_device("12.2", pre_notification(device.hyphenated, "ESME")))
    with service.store.begin() as conn, pytest.raises(DeviceStatusInvalid, match="Pending"):
        commissioning.check_device_srv(conn, "8.1.1", device)


def test_whitelist_join_commission_walks_the_table(service: DataService) -> None:
    device = EUI64.parse("00-DB-12-34-56-78-A0-10")
    _handle(service, non_device("12.2", pre_notification(device.hyphenated, "ESME")))
    with service.store.begin() as conn:
        whitelisted = commissioning.apply_device_success(conn, "8.11", EUI64.parse(HUB), NOW, device)
        assert whitelisted is not None and whitelisted.status is DeviceStatus.WHITELISTED
        assert whitelisted.chf_id == EUI64.parse(HUB)
        commissioning.record_han_join(conn, device, NOW)
        done = commissioning.apply_device_success(conn, "8.1.1", device, NOW)
    assert done is not None and done.status is DeviceStatus.COMMISSIONED
    assert done.date_commissioned == NOW.date()


def test_a_device_srv_without_inventory_effect_changes_nothing(service: DataService) -> None:
    with service.store.begin() as conn:
        assert commissioning.apply_device_success(conn, "4.1.1", EUI64.parse(ESME), NOW) is None


def test_a_device_joining_again_keeps_its_status(service: DataService) -> None:
    with service.store.begin() as conn:
        rejoined = commissioning.record_han_join(conn, EUI64.parse(ESME), NOW)
    assert rejoined.status is DeviceStatus.COMMISSIONED


def test_a_join_of_a_device_not_in_inventory_is_e19(service: DataService) -> None:
    with service.store.begin() as conn, pytest.raises(DeviceUnknown):
        commissioning.record_han_join(conn, EUI64.parse("11-22-33-44-55-66-77-88"), NOW)


def test_a_join_of_a_decommissioned_device_is_e5_and_changes_nothing(service: DataService) -> None:
    with service.store.begin() as conn:
        inventory_repo.set_status(conn, EUI64.parse(GSME), DeviceStatus.DECOMMISSIONED)
    with service.store.begin() as conn, pytest.raises(DeviceStatusInvalid):
        commissioning.record_han_join(conn, EUI64.parse(GSME), NOW)
    assert _status(service.store, GSME) is DeviceStatus.DECOMMISSIONED


def test_service_opt_out_is_the_dccs_alone(service: DataService) -> None:
    # DUIS 8.5 Service Opt Out has no eligible user role in the SRV matrix: E2 for every user.
    from opendcc.core.access_control import check_role
    from opendcc.store.users import list_users

    srv = load_catalogue().get("8.5")
    with service.store.begin() as conn:
        users = list_users(conn)
    assert users and srv.eligible_roles == frozenset()
    for user in users:
        with pytest.raises(RoleNotEligible):
            check_role(user, srv)


def test_commissioning_a_gas_meter_puts_its_gpf_in_service(service: DataService) -> None:
    _new_hub(service.store)
    _handle(service, non_device("8.14.1", install_success(NEW_HUB.hyphenated, "1312345678111")))
    gsme = EUI64.parse("00-DB-12-34-56-78-A0-03")
    with service.store.begin() as conn:
        inventory_repo.put_device(conn, Device(gsme, DeviceType.GSME, DeviceStatus.WHITELISTED,
                                               "opendcc", "OPENDCC-GSME", chf_id=NEW_HUB))
        commissioning.apply_device_success(conn, "8.1.1", gsme, NOW)
    assert _status(service.store, gsme) is DeviceStatus.COMMISSIONED
    assert _status(service.store, NEW_GPF) is DeviceStatus.COMMISSIONED
