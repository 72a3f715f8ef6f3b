"""SMI Status at the DCC: for each Smart Metering Inventory status, a Service Request the DCC
lets through and one it refuses (E5) before the Transform, the refusal changing nothing."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from core_requests import ESME, SUPPLIER, read_inventory, request_from, template
from test_commissioning import non_device, update_inventory

from opendcc.clock import SimulatedClock
from opendcc.core.service import DataService, Outcome
from opendcc.duis.catalogue import CommandVariant, ServiceRequestVariant, load_catalogue
from opendcc.duis.request import DuisRequest
from opendcc.duis.response import acknowledgement
from opendcc.duis.response_codes import DeviceStatusInvalid
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.model import Device
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import open_store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
S = DeviceStatus
_counter = itertools.count(5000)


@dataclass
class Recorder:
    """A device layer standing for the Transform: it records what reaches it."""

    submitted: list[str] = field(default_factory=list)

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        self.submitted.append(srv.variant)
        return Outcome(acknowledgement(request, now))


@pytest.fixture
def dcc() -> Iterator[tuple[DataService, Recorder]]:
    store = open_store("sqlite://")
    seed_demo(store)
    recorder = Recorder()
    yield DataService(store, load_catalogue(), SimulatedClock(NOW), devices=recorder), recorder
    store.close()


def _device_request(name: str) -> DuisRequest:
    """A template addressed to the demo ESME by supplier A, with a fresh counter."""
    return request_from(template(name), request_id=f"{SUPPLIER}:{ESME}:{next(_counter)}")


READ = "ECS17b_4.1.1_SINGLE"  # 4.1.1 Read Instantaneous Import Registers
TARIFF = "ECS01a_1.1.1_IMMEDIATE_BLOCK"  # 1.1.1 Update Import Tariff (critical)
COMMISSION = "ECS70Commission_8.1.1"  # 8.1.1 Commission Device (critical)
FIRMWARE_VERSION = "ECS52_11.2"  # 11.2 Read Firmware Version
INVENTORY = "8.2"  # Read Inventory (non-device): answered in every status

# status -> (an SRV the DCC processes for the ESME, one it refuses with E5)
CASES: dict[DeviceStatus, tuple[str, str]] = {
    S.PENDING: (INVENTORY, COMMISSION),
    S.WHITELISTED: (COMMISSION, READ),
    S.INSTALLED_NOT_COMMISSIONED: (TARIFF, READ),
    S.COMMISSIONED: (READ, "8.4 Pending"),
    S.SUSPENDED: (FIRMWARE_VERSION, TARIFF),
    S.RECOVERY: (INVENTORY, FIRMWARE_VERSION),
    S.RECOVERED: (READ, "8.4 Pending"),
    S.DECOMMISSIONED: (INVENTORY, FIRMWARE_VERSION),
    S.WITHDRAWN: (INVENTORY, READ),
}


def _request(name: str) -> DuisRequest:
    if name == INVENTORY:
        return read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>", counter=next(_counter))
    if name == "8.4 Pending":  # a status move the lifecycle table does not allow from here
        return non_device("8.4", update_inventory(
            ESME, "<sr:UpdateDeviceStatusExceptCH>Pending</sr:UpdateDeviceStatusExceptCH>"))
    return _device_request(name)


def _send(service: DataService, request: DuisRequest) -> Outcome:
    endpoint = CommandVariant(request.command_variant).endpoint
    return service.handle(request, request.request_id.originator, endpoint)


def _put_status(service: DataService, status: DeviceStatus) -> Device:
    with service.store.begin() as conn:
        device = inventory_repo.get_device(conn, EUI64.parse(ESME))
        assert device is not None
        moved = replace(device, status=status)
        inventory_repo.put_device(conn, moved)
    return moved


def _device(service: DataService) -> Device | None:
    with service.store.begin() as conn:
        return inventory_repo.get_device(conn, EUI64.parse(ESME))


def test_every_smi_status_has_a_case() -> None:
    assert set(CASES) == set(DeviceStatus)


@pytest.mark.parametrize("status", list(CASES), ids=str)
def test_the_dcc_processes_what_the_status_allows(
    dcc: tuple[DataService, Recorder], status: DeviceStatus,
) -> None:
    service, recorder = dcc
    _put_status(service, status)
    allowed, _ = CASES[status]
    outcome = _send(service, _request(allowed))
    assert outcome.code in ("I0", "I99")
    if allowed != INVENTORY:  # a device SRV: it went on to the Transform
        assert recorder.submitted == [_request(allowed).service_reference_variant]


@pytest.mark.parametrize("status", list(CASES), ids=str)
def test_the_dcc_refuses_what_the_status_does_not_allow_and_changes_nothing(
    dcc: tuple[DataService, Recorder], status: DeviceStatus,
) -> None:
    service, recorder = dcc
    before = _put_status(service, status)
    _, refused = CASES[status]
    request = _request(refused)
    with pytest.raises(DeviceStatusInvalid) as caught:
        _send(service, request)
    assert caught.value.code is not None and caught.value.code.value == "E5"
    assert recorder.submitted == []  # nothing reached the Transform
    assert _device(service) == before
    # the refused request's counter was not consumed: the same RequestID is decided afresh
    _put_status(service, S.COMMISSIONED)
    if refused != "8.4 Pending":
        assert _send(service, request).code in ("I0", "I99")
