"""The acceptance scenario over HTTP: two suppliers' SDK clients, the gateway (FastAPI
TestClient), the Data Service with the emulated DCC Boxed premises behind the SM WAN.

Supplier A reads the dual-fuel premises and sets a tariff; the customer switches to B
(registration feed); B's CoS completes; B reads and sets a tariff; A's next read is E4; the
meters' supplier anchors name B. The ZAZ1 certificate supplier B signs with expired on
2025-12-22, so the gateway checks certificates a year back (`YearAgo`); the Data Service and the
devices run on the wall clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from core_requests import template
from cos_support import client_for, http_gateway, tcos
from fastapi.testclient import TestClient
from lxml import etree

from opendcc.core.change_of_supplier import check_switched, run_switches
from opendcc.core.device_layer import DeviceSide
from opendcc.devices.gsme import CONTACT_INTERVAL
from opendcc.devices.load_model import EPOCH
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import SR, read_request
from opendcc.gateway.wiring import Services
from opendcc.ids import EUI64
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.inventory.registration_feed import apply_feed
from opendcc.store import inventory as inventory_repo

A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = "90-B3-D5-1F-30-02-00-00"
ESME = EUI64.parse("00-DB-12-34-56-78-90-A0")
GSME = EUI64.parse("00-DB-12-34-56-78-90-A1")
NEW_HUB = EUI64.parse("00-DB-12-34-56-78-A1-00")
NEW_GPF = EUI64.parse("00-DB-12-34-56-78-A1-01")
POINTS = ("1312345678111", "1312345678222", "1312345678333", "1000999888")


@pytest.fixture
def gateway() -> Iterator[tuple[Services, DeviceSide, TestClient]]:
    with http_gateway() as parts:
        yield parts


_client = client_for


def _body(name: str) -> object:
    return read_request(parse_xml(template(name).read_bytes())).body


def test_install_read_tariff_switch_over_http(
    gateway: tuple[Services, DeviceSide, TestClient], tmp_path: Path,
) -> None:
    services, side, http = gateway
    read, tariff = _body("ECS17b_4.1.1_SINGLE"), _body("ECS01a_1.1.1_IMMEDIATE_BLOCK")
    with _client(A, http, tmp_path) as a, _client(B, http, tmp_path) as b:
        # Installing a new comms hub at the premises: pre-notified, then installed on the SM WAN.
        for device, kind in ((NEW_HUB, "CHF"), (NEW_GPF, "GPF")):
            assert a.request("12.2", {"DevicePrenotification": {
                "DeviceID": device.hyphenated, "DeviceManufacturer": "opendcc",
                "DeviceModel": f"OPENDCC-{kind}", "DeviceType": kind}}).response_code == "I0"
        with services.store.begin() as conn:  # the GPF's hub, as the manufacturer's data says
            gpf = inventory_repo.get_device(conn, NEW_GPF)
            assert gpf is not None
            inventory_repo.put_device(conn, replace(gpf, chf_id=NEW_HUB))
        assert a.request("8.14.1", {"CHFInstallSuccessSMWAN": {
            "DeviceID": NEW_HUB.hyphenated, "CHFInstallType": "New CHF Install",
            "MPxN": POINTS[0], "AerialInstall": "false",
            "CHFLocation": "Basement or Cellar"}}).response_code == "I0"
        with services.store.begin() as conn:
            assert inventory_repo.get_device(conn, NEW_HUB).status is DeviceStatus.COMMISSIONED  # type: ignore[union-attr]
        assert b.request("8.14.1", {"CHFInstallSuccessSMWAN": {
            "DeviceID": NEW_HUB.hyphenated, "CHFInstallType": "New CHF Install",
            "MPxN": POINTS[0], "AerialInstall": "false",
            "CHFLocation": "Basement or Cellar"}}).response_code == "E4"  # not B's premises yet

        assert a.request("4.1.1", read, target=ESME).response_code == "I0"
        assert a.request_critical("1.1.1", tariff, target=ESME).response_code == "I0"

        now = side.router.clock.now()
        with services.store.begin() as conn:
            apply_feed(conn, "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
                f"{p},{B},{DNO},{now.isoformat()}\n" for p in POINTS), now)
        # B's CoS: SRV 6.23 for each meter, CS02b signed by the Transitional CoS party, over
        # the SM WAN; each meter's signed Response goes to B.
        to_b: list[str | None] = []

        def deliver(user: EUI64, message: etree._Element) -> None:
            to_b.append(message.findtext(f"{{{SR}}}Header/{{{SR}}}ResponseCode"))
            assert user == B

        credentials = tcos(side, deliver)
        # The battery-powered GSME takes its CS02b when it next wakes: in 2 s, not up to 30 min.
        gsme = side.estate.device(GSME.hyphenated)
        since = (side.router.clock.now() - EPOCH).total_seconds()
        gsme.contact_phase_s = int(since + 2) % int(CONTACT_INTERVAL.total_seconds())
        assert run_switches(services.store, credentials, side.router.clock.now()) == len(POINTS)
        assert check_switched(services.store, credentials, side.router.clock.now()) == []
        assert to_b == ["I0", "I0"] and credentials.commands_sent == 2

        assert b.request("4.1.1", read, target=ESME).response_code == "I0"
        assert b.request_critical("1.1.1", tariff, target=ESME).response_code == "I0"
        assert a.submit("4.1.1", read, target=ESME).response_code == "E4"
    assert credentials.supplier_anchor(ESME) == B and credentials.supplier_anchor(GSME) == B
