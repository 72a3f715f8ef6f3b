"""`opendcc serve` as a newcomer runs it: read a meter with the SDK and get the device's
answer, and run a critical SRV (Pre-Command, user signature) end to end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import ESME, SUPPLIER, Server

import dcctool
from opendcc.client import DccClient
from opendcc.client.counter import Counter

pytestmark = [pytest.mark.java, pytest.mark.slow]

#: The ESME of the first generated premises of the demo estate (seed 1).
GENERATED_ESME = "0A-00-01-00-00-00-00-01"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(tmp_path)
    srv.start()
    yield srv
    srv.stop()


def test_a_newcomer_reads_a_meter_and_disables_its_supply_over_http(
        server: Server, tmp_path: Path) -> None:
    with DccClient.from_reference(SUPPLIER, server.url,
                                  counter=Counter(tmp_path / "supplier.counter")) as sdk:
        read = sdk.request("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME,
                           timeout=30)
        assert read.response_code == "I0"
        assert read.body is not None and read.body.findtext(
            "{http://www.dccinterface.co.uk/ServiceUserGateway}GBCSPayload")
        ok, diagnostics = dcctool.validate(read.xml)
        assert ok, diagnostics

        disabled = sdk.request_critical("7.2", {"DisableSupply": None}, target=ESME, timeout=30)
        assert disabled.response_code == "I0"
        ok, diagnostics = dcctool.validate(disabled.xml)
        assert ok, diagnostics


def test_generated_premises_are_in_the_inventory_and_answer(server: Server, tmp_path: Path) -> None:
    with DccClient.from_reference(SUPPLIER, server.url,
                                  counter=Counter(tmp_path / "supplier.counter")) as sdk:
        inventory = sdk.request("8.2", {"ReadInventory": {"DeviceID": GENERATED_ESME}})
        assert inventory.response_code == "I0"
        read = sdk.request("4.1.1", {"ReadInstantaneousImportRegisters": None},
                           target=GENERATED_ESME, timeout=30)
        assert read.response_code == "I0"
