"""The Data Service's answers, signed with the DCC's key, pass the DCC's own validator."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from core_requests import ESME, SUPPLIER, read_inventory, request_from, template
from lxml import etree

import dcctool
from opendcc.clock import SimulatedClock
from opendcc.core.service import DataService
from opendcc.duis import xmldsig
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.response import serialize
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.smki.keystore import KeyStore
from opendcc.store.engine import Store

DCC = EUI64.parse("90-B3-D5-1F-30-00-00-02")
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _signed(root: etree._Element) -> bytes:
    credential = KeyStore.from_reference().xml_signing(DCC)
    assert credential is not None and credential.private_key is not None
    xmldsig.sign(root, credential.private_key, credential.certificate)
    return bytes(serialize(root))


@pytest.mark.java
def test_read_inventory_and_device_answers_pass_the_dcc_validator(memory_store: Store) -> None:
    seed_demo(memory_store)
    service = DataService(memory_store, load_catalogue(), SimulatedClock(NOW))
    inventory = service.handle(
        read_inventory(f"<sr:DeviceID>{ESME}</sr:DeviceID>"), EUI64.parse(SUPPLIER), "serviceD")
    device = service.handle(request_from(template("ECS17b_4.1.1_SINGLE")),
                            EUI64.parse(SUPPLIER), "serviceS")
    for answer in (inventory.sync, device.sync, *device.deferred):
        ok, diagnostics = dcctool.validate(_signed(answer))
        assert ok, diagnostics
