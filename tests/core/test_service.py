"""The DCC Data Service: replay, access control, non-device answers, unreachable devices."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from core_requests import (
    DCC,
    ESME,
    GSME,
    NETWORK_OPERATOR,
    OTHER_USER,
    SUPPLIER,
    SUPPLIER2,
    TEMPLATES,
    read_inventory,
    request_from,
    template,
)
from lxml import etree

from opendcc.clock import SimulatedClock
from opendcc.core.commissioning import NON_DEVICE_HANDLERS as INVENTORY_CHANGING
from opendcc.core.service import DataService, Outcome
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.request import SR, DuisRequest
from opendcc.duis.response import success
from opendcc.duis.response_codes import (
    CounterReplayed,
    DeviceNotReachable,
    DeviceStatusInvalid,
    DeviceUnknown,
    DuisError,
    NotRegisteredParty,
    RoleNotEligible,
    ServiceNotImplemented,
    SignerNotOriginator,
    UnknownServiceRequestVariant,
    UserUnknown,
    WrongCommandVariant,
    WrongEndpoint,
)
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64
from opendcc.inventory.demo import demo_devices, seed_demo
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.registration_feed import apply_feed
from opendcc.store import audit, outbox
from opendcc.store import inventory as inventory_repo
from opendcc.store.counters import last_counter
from opendcc.store.engine import Store, open_store
from opendcc.store.tables import request_counters

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(memory_store: Store) -> Store:
    seed_demo(memory_store)
    return memory_store


@pytest.fixture
def service(store: Store) -> DataService:
    return DataService(store, load_catalogue(), SimulatedClock(NOW))


def _handle(service: DataService, request: DuisRequest, signer: str | None = None,
            endpoint: str | None = None) -> Outcome:
    signer_id = EUI64.parse(signer) if signer else request.request_id.originator
    return service.handle(request, signer_id, endpoint or CommandVariant(request.command_variant).endpoint)


def _code(response: etree._Element) -> str:
    return response.findtext(f"{{{SR}}}Header/{{{SR}}}ResponseCode") or ""


def _audit(store: Store) -> list[audit.AuditRecord]:
    with store.begin() as conn:
        return audit.recent(conn)


# --- non-device: 8.2 Read Inventory ------------------------------------------------------------

@pytest.mark.parametrize(
    "selector",
    [
        f"<sr:DeviceID>{ESME}</sr:DeviceID>",
        "<sr:MPxN>1000999888</sr:MPxN>",
        "<sr:UPRN>100000000001</sr:UPRN>",
        "<sr:PropertyFilter><sr:PostCode>AB1 2CD</sr:PostCode>"
        "<sr:AddressIdentifier>1</sr:AddressIdentifier></sr:PropertyFilter>",
    ],
)
def test_read_inventory_answers_the_premises_schema_valid(service: DataService, selector: str) -> None:
    outcome = _handle(service, read_inventory(selector))
    validate_duis(outcome.sync)
    assert outcome.code == "I0" and outcome.deferred == []
    ids = outcome.sync.xpath("//sr:DSPInventory/sr:Device/sr:DeviceID/text()", namespaces={"sr": SR})
    assert ESME in ids and GSME in ids and "00-DB-12-34-56-78-90-A2" in ids


def test_read_inventory_reports_status_and_meter_points(service: DataService) -> None:
    outcome = _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>"))
    [esme] = outcome.sync.xpath(f"//sr:Device[sr:DeviceID='{ESME}']", namespaces={"sr": SR})
    assert esme.findtext(f"{{{SR}}}DeviceStatus") == "Commissioned"
    assert esme.findtext(f"{{{SR}}}ImportMPxN") == "1312345678111"
    assert esme.findtext(f"{{{SR}}}ExportMPAN") == "1312345678333"


def test_read_inventory_of_unknown_device_is_e19(service: DataService) -> None:
    with pytest.raises(DeviceUnknown):
        _handle(service, read_inventory("<sr:DeviceID>11-22-33-44-55-66-77-88</sr:DeviceID>"))


def test_non_device_srv_not_provided_yet_is_refused_not_faked(service: DataService) -> None:
    with pytest.raises(ServiceNotImplemented, match=r"12\.1"):
        _handle(service, request_from(template("12.1_")))


# --- device SRVs: the device layer is not there yet --------------------------------------------

def test_device_srv_is_acknowledged_then_answered_e20(service: DataService) -> None:
    outcome = _handle(service, request_from(template("ECS17b_4.1.1_SINGLE")))
    assert outcome.code == "I99"
    [deferred] = outcome.deferred
    assert _code(deferred) == "E20"
    for response in (outcome.sync, deferred):
        validate_duis(response)
        assert response.findtext(f"{{{SR}}}Header/{{{SR}}}RequestID") == (
            f"{SUPPLIER}:{ESME}:1000")


def test_transform_of_a_critical_srv_is_refused_e20(service: DataService) -> None:
    request = request_from(template("ECS01a_1.1.1_IMMEDIATE"), request_id=f"{SUPPLIER}:{ESME}:1000")
    assert request.command_variant == 4
    with pytest.raises(DeviceNotReachable):
        _handle(service, request)


# --- access control table ----------------------------------------------------------------------

def test_role_not_eligible_is_e2(service: DataService) -> None:
    # 1.1.1 Update Import Tariff is for IS/GS; the network operator is ED/GT.
    request = request_from(template("ECS01a_1.1.1_IMMEDIATE"), request_id=f"{NETWORK_OPERATOR}:{ESME}:1000")
    with pytest.raises(RoleNotEligible, match=r"1\.1\.1"):
        _handle(service, request)


def test_supplier_not_registered_for_the_device_is_e4(service: DataService) -> None:
    request = request_from(template("ECS17b_4.1.1_SINGLE"), request_id=f"{SUPPLIER2}:{ESME}:1000")
    with pytest.raises(NotRegisteredParty, match="not the registered"):
        _handle(service, request)


def test_registered_network_operator_reaches_its_device(service: DataService) -> None:
    request = request_from(template("ECS17b_4.1.1_TWIN"))
    assert str(request.request_id.originator) == NETWORK_OPERATOR
    assert _handle(service, request).code == "I99"


@pytest.mark.parametrize("command_variant", [1, 2, 3, 8])
def test_critical_srv_outside_cv_4_to_7_is_e12(service: DataService, command_variant: int) -> None:
    request = request_from(template("ECS01a_1.1.1_IMMEDIATE"), request_id=f"{SUPPLIER}:{ESME}:1000",
                           command_variant=command_variant)
    with pytest.raises(WrongCommandVariant):
        _handle(service, request, endpoint="serviceS")


@pytest.mark.parametrize("command_variant", [1, 4])
def test_non_device_srv_outside_cv_8_is_e12(service: DataService, command_variant: int) -> None:
    with pytest.raises(WrongCommandVariant):
        _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>",
                                        command_variant=command_variant))


@pytest.mark.parametrize("command_variant", [4, 8])
def test_non_critical_device_srv_outside_cv_1_to_3_is_e12(service: DataService, command_variant: int) -> None:
    request = request_from(template("ECS17b_4.1.1_SINGLE"), command_variant=command_variant)
    with pytest.raises(WrongCommandVariant):
        _handle(service, request)


def test_request_sent_to_the_wrong_url_is_e13(service: DataService) -> None:
    with pytest.raises(WrongEndpoint, match="serviceD"):
        _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>"), endpoint="serviceT")


def test_unknown_target_device_is_e19(service: DataService) -> None:
    request = request_from(template("ECS17b_4.1.1_SINGLE"),
                           request_id=f"{SUPPLIER}:11-22-33-44-55-66-77-88:1000")
    with pytest.raises(DeviceUnknown):
        _handle(service, request)


def test_decommissioned_device_is_e5(service: DataService, store: Store) -> None:
    with store.begin() as conn:
        inventory_repo.set_status(conn, EUI64.parse(ESME), DeviceStatus.DECOMMISSIONED)
    with pytest.raises(DeviceStatusInvalid, match="Decommissioned"):
        _handle(service, request_from(template("ECS17b_4.1.1_SINGLE")))


def test_signer_other_than_the_originator_is_e1(service: DataService) -> None:
    with pytest.raises(SignerNotOriginator):
        _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>"), signer=NETWORK_OPERATOR)


def test_signer_that_is_not_a_duis_user_is_e1(service: DataService) -> None:
    with pytest.raises(UserUnknown):
        _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", originator=DCC))


def test_other_user_may_read_inventory(service: DataService) -> None:
    outcome = _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", originator=OTHER_USER))
    assert outcome.code == "I0"


# --- replay, audit, no side effects ------------------------------------------------------------

def test_replayed_request_is_rejected_and_audited(service: DataService, store: Store) -> None:
    request = read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", counter=7)
    _handle(service, request)
    with pytest.raises(CounterReplayed):
        _handle(service, request)
    codes = [r.response_code for r in _audit(store)]
    assert codes == ["HTTP 409", "I0"]


def test_rejected_request_changes_nothing_but_the_audit(service: DataService, store: Store) -> None:
    request = request_from(template("ECS17b_4.1.1_SINGLE"), request_id=f"{SUPPLIER2}:{ESME}:5000")
    with pytest.raises(NotRegisteredParty):
        _handle(service, request)
    with store.begin() as conn:
        assert last_counter(conn, EUI64.parse(SUPPLIER2)) is None
        assert outbox.due(conn, NOW, 10) == []
    [record] = _audit(store)
    assert (record.response_code, record.originator, record.service_reference_variant) == (
        "E4", SUPPLIER2, "4.1.1")
    assert record.detail and "NotRegisteredParty" in record.detail


def test_accepted_request_consumes_its_counter(service: DataService, store: Store) -> None:
    _handle(service, read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", counter=41))
    with store.begin() as conn:
        assert last_counter(conn, EUI64.parse(SUPPLIER)) == 41


def test_replay_protection_survives_restart(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/store.sqlite3"
    first = open_store(url)
    seed_demo(first)
    request = read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", counter=99)
    _handle(DataService(first, load_catalogue(), SimulatedClock(NOW)), request)
    first.close()
    second = open_store(url)
    with pytest.raises(CounterReplayed):
        _handle(DataService(second, load_catalogue(), SimulatedClock(NOW)), request)
    second.close()


# --- every published template ------------------------------------------------------------------

# Templates opendcc rejects, and why (docs/store.md lists the same).
DOCUMENTED_REJECTIONS: dict[str, type[DuisError]] = {
    # Originated by the DCC itself (90-B3-D5-1F-30-00-00-02): not a DUIS user.
    "CS02fMAC_6.24.1_SUCCESS_REQUEST_DUIS.XML": UserUnknown,
    "CS08_11.2_SUCCESS_REQUEST_DUIS.XML": UserUnknown,
    "GCS59_8.12.2_SUCCESS_REQUEST_DUIS.XML": UserUnknown,
    # Originated by the load controller 90-B3-D5-1F-30-01-00-08: not a DUIS user.
    "ECS47e_7.16_APC_OUTPUT_SUCCESS_REQUEST_DUIS.XML": UserUnknown,
    # Supplier 2 reading a GPF whose meter point is registered to supplier 1 ("URP").
    "GCS16b_4.14_URP_SUCCESS_REQUEST_DUIS.XML": NotRegisteredParty,
}


@pytest.fixture(scope="module")
def estate() -> Iterator[DataService]:
    store = open_store("sqlite://")
    seed_demo(store)
    yield DataService(store, load_catalogue(), SimulatedClock(NOW))
    store.close()


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_template_gets_its_specified_answer(estate: DataService, path: object) -> None:
    with estate.store.begin() as conn:
        conn.execute(request_counters.delete())  # templates reuse counters
    request = request_from(path)  # type: ignore[arg-type]
    name = path.name  # type: ignore[attr-defined]
    srv = load_catalogue().get(request.service_reference_variant)
    if name in DOCUMENTED_REJECTIONS:
        with pytest.raises(DOCUMENTED_REJECTIONS[name]):
            _handle(estate, request)
    elif srv.variant in INVENTORY_CHANGING:  # I0, or E5 where the template's device cannot move
        try:
            assert _handle(estate, request).code == "I0"
        except DeviceStatusInvalid:
            assert srv.variant in ("12.2", "8.4")  # A0 exists already / is not Pending
        seed_demo(estate.store)  # 8.3 decommissioned the ESME later templates address
    elif srv.non_device and srv.variant != "8.2":
        with pytest.raises(ServiceNotImplemented):
            _handle(estate, request)
    elif request.command_variant in (2, 4, 6):
        with pytest.raises(DeviceNotReachable):
            _handle(estate, request)
    else:
        outcome = _handle(estate, request)
        assert outcome.code == "I99"
        assert [_code(d) for d in outcome.deferred] == ["E20"]


class _RecordingDevices:
    """A device layer that records what reaches it and answers I0."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def submit(self, request: DuisRequest, srv: object, device: object, now: datetime) -> Outcome:
        self.seen.append(device.device_id.hyphenated)  # type: ignore[attr-defined]
        return Outcome(success(request, now))


def test_device_layer_receives_only_authorised_requests(store: Store) -> None:
    devices = _RecordingDevices()
    service = DataService(store, load_catalogue(), SimulatedClock(NOW), devices=devices)
    assert _handle(service, request_from(template("ECS17b_4.1.1_SINGLE"))).code == "I0"
    with pytest.raises(NotRegisteredParty):
        _handle(service, request_from(template("ECS17b_4.1.1_SINGLE"),
                                      request_id=f"{SUPPLIER2}:{ESME}:1000"))
    assert devices.seen == [ESME]


def test_after_change_of_supplier_the_old_supplier_is_refused(service: DataService, store: Store) -> None:
    feed = "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
        f"{mpan},{SUPPLIER2},{NETWORK_OPERATOR},{NOW.isoformat()}\n"
        for mpan in ("1312345678111", "1312345678222", "1312345678333")
    )
    with store.begin() as conn:
        apply_feed(conn, feed, NOW)
    with pytest.raises(NotRegisteredParty):
        _handle(service, request_from(template("ECS17b_4.1.1_SINGLE")))
    new = request_from(template("ECS17b_4.1.1_SINGLE"), request_id=f"{SUPPLIER2}:{ESME}:1000")
    assert _handle(service, new).code == "I99"


def test_smets1_device_is_reported_with_its_service_provider(service: DataService, store: Store) -> None:
    [esme] = [d for d in demo_devices() if d.device_id == EUI64.parse(ESME)]
    s1 = replace(esme, device_id=EUI64.parse("00-11-22-33-44-55-66-77"), chf_id=None,
                 smets="SMETS1", s1sp="S1SP-A", uprn="200000000002", postcode=None,
                 address_identifier=None, mpxn=None, secondary_import_mpan=None, export_mpan=None)
    with store.begin() as conn:
        inventory_repo.put_device(conn, s1)
    outcome = _handle(service, read_inventory("<sr:DeviceID>00-11-22-33-44-55-66-77</sr:DeviceID>"))
    validate_duis(outcome.sync)
    [device] = outcome.sync.xpath("//sr:DSPInventory/sr:Device", namespaces={"sr": SR})
    assert device.findtext(f"{{{SR}}}CSPRegion") == "SMETS1"
    assert device.findtext(f"{{{SR}}}S1SP") == "S1SP-A"


def test_variant_of_another_service_reference_is_refused(service: DataService) -> None:
    request = read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>")
    request = replace(request, service_reference="4.1")
    with pytest.raises(UnknownServiceRequestVariant, match="does not belong"):
        _handle(service, request)


def test_future_dated_request_executing_after_a_change_of_supplier_is_e4(
    service: DataService, store: Store
) -> None:
    feed = "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
        f"{mpan},{SUPPLIER2},{NETWORK_OPERATOR},2029-01-01\n"
        for mpan in ("1312345678111", "1312345678222", "1312345678333")
    )
    with store.begin() as conn:
        apply_feed(conn, feed, NOW)
    future = request_from(template("ECS01a_1.1.1_FUTURE_DATED"))  # executes in 2030
    assert future.execution_datetime is not None and future.execution_datetime.year == 2030
    with pytest.raises(NotRegisteredParty):
        _handle(service, future)
    # An immediate request from the same supplier is still authorised today.
    assert _handle(service, request_from(template("ECS17b_4.1.1_SINGLE"))).code == "I99"
