"""S1SP alerts: a provider's alert about an adopted meter reaches the meter's registered
supplier as a DCC-signed DCCAlertMessage carrying the S1SP-signed S1SPAlert (DUIS 5.4)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

import dcctool
from opendcc.clock import SimulatedClock
from opendcc.duis.xmldsig import verify
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.model import Registration
from opendcc.smets1.alerts import S1SP_ALERT_CODES, S1SP_DCC_ALERT_CODE, S1SPAlertRelay
from opendcc.smets1.migration import DCC_ID, AuthorisationLine, MigrationEngine
from opendcc.smets1.models import eligible
from opendcc.smets1.providers.estate import AlertKind, Estate, Meter
from opendcc.smets1.response import S1SPSigner
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory, outbox
from opendcc.store.engine import open_store

from .support import (
    NETWORK_OPERATOR,
    LocalAdapter,
    gaining_supplier,
    register_estate,
    registered_supplier,
)
from .test_migration import run_all

UTRN = "12345678901234567890"


@pytest.fixture(scope="module")
def keystore() -> KeyStore:
    return KeyStore.from_reference()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, keystore: KeyStore):
    """Two estates, one adopted meter per provider, the relay polling both as the DCC."""
    tmp_path: Path = tmp_path_factory.mktemp("smets1-alerts")
    store = open_store(f"sqlite:///{tmp_path / 'alerts.sqlite3'}")
    estates = {p: Estate.generate(p, 60, seed=21) for p in ("alpha", "beta")}
    adapters = {p: LocalAdapter(e) for p, e in estates.items()}
    clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
    for e in estates.values():
        register_estate(store, e)
    engine = MigrationEngine(store, adapters, clock)
    adopted: dict[str, Meter] = {}
    for provider, e in estates.items():
        meter = next(m for m in e.meters.values() if eligible(m.model, m.firmware) and not m.dormant)
        [ok] = engine.authorise(registered_supplier(meter), [AuthorisationLine(meter.device_id, meter.mpxn, provider)])
        assert ok.accepted
        adopted[provider] = meter
    run_all(engine)
    dcc = keystore.xml_signing(EUI64.parse(DCC_ID))
    assert dcc is not None and dcc.private_key is not None
    signer = S1SPSigner(dcc.private_key, dcc.certificate)
    relay = S1SPAlertRelay(store, adapters, clock, signer, signer)
    return relay, estates, adopted, store, clock


def _queued(store, response_id: str) -> etree._Element:
    with store.connect() as conn:
        [item] = outbox.for_request(conn, response_id)
    return etree.fromstring(item.body)


@pytest.mark.parametrize("kind", list(AlertKind), ids=lambda k: k.name)
@pytest.mark.parametrize("provider", ["alpha", "beta"])
def test_each_alert_kind_reaches_the_registered_supplier_as_a_signed_dcc_alert(world, keystore, provider, kind):
    relay, estates, adopted, store, clock = world
    meter = adopted[provider]
    utrn = UTRN if kind is AlertKind.CREDIT_ADDED else ""
    estates[provider].raise_alert(meter.device_id, kind, utrn=utrn, at=clock.now())
    [relayed] = relay.poll()
    assert relayed.queued and relayed.reason is None
    assert relayed.user == EUI64.parse(registered_supplier(meter)).hyphenated
    assert relayed.response_id is not None
    with store.connect() as conn:
        [item] = outbox.for_request(conn, relayed.response_id)
    assert item.user_id == relayed.user
    root = etree.fromstring(item.body)
    validate_duis(root)
    verify(root, keystore.lookup)
    assert root.findtext(".//{*}DCCAlertCode") == S1SP_DCC_ALERT_CODE
    alert = root.find(".//{*}S1SPAlertDSP/{*}S1SPAlert")
    assert alert is not None
    assert alert.findtext("{*}DeviceID") == EUI64.parse(meter.device_id).hyphenated
    assert alert.findtext("{*}S1SPAlertCode") == S1SP_ALERT_CODES[kind][0]
    assert alert.findtext("{*}UTRN") == (utrn or None)


@pytest.mark.java
def test_the_s1sp_signed_alert_passes_the_dcc_tool_and_a_tampered_one_fails(world):
    relay, estates, adopted, store, clock = world
    meter = adopted["alpha"]
    estates["alpha"].raise_alert(meter.device_id, AlertKind.TAMPER, "cover opened", at=clock.now())
    [relayed] = relay.poll()
    assert relayed.response_id is not None
    root = _queued(store, relayed.response_id)
    assert dcctool.validate(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))[0]
    alert = root.find(".//{*}S1SPAlert")
    assert alert is not None
    alone = copy.deepcopy(alert)
    passed, why = dcctool.validate(etree.tostring(alone, xml_declaration=True, encoding="UTF-8"))
    assert passed, why
    info = alone.find("{*}AdditionalInformation")
    assert info is not None and info.text == "cover opened"
    info.text = "nothing happened"
    assert not dcctool.validate(etree.tostring(alone, xml_declaration=True, encoding="UTF-8"))[0]


def test_alerts_of_meters_the_dcc_does_not_hold_are_not_fetched(world):
    relay, estates, _adopted, _store, clock = world
    other = next(m for m in estates["beta"].meters.values() if m.owner != DCC_ID)
    estates["beta"].raise_alert(other.device_id, AlertKind.POWER_OUTAGE, at=clock.now())
    assert relay.poll() == []


def test_polling_the_same_alerts_again_queues_nothing_twice(world):
    relay, estates, adopted, _store, clock = world
    estates["beta"].raise_alert(adopted["beta"].device_id, AlertKind.LOW_CREDIT, at=clock.now())
    [first] = relay.poll()
    assert first.queued
    relay.cursors = dict.fromkeys(relay.cursors, 0)  # a restarted relay reads the feeds from the start
    again = relay.poll()
    assert again and not any(r.queued for r in again)
    assert first.response_id in {r.response_id for r in again}


def test_a_provider_out_of_service_is_polled_again_next_round(world):
    relay, estates, adopted, _store, clock = world
    meter = adopted["alpha"]
    estates["alpha"].faults.update({"outage": True})
    try:
        estates["alpha"].raise_alert(meter.device_id, AlertKind.POWER_OUTAGE, at=clock.now())
        assert relay.poll() == [] and "alpha" in relay.failures
    finally:
        estates["alpha"].faults.update({"outage": False})
    [relayed] = relay.poll()
    assert relayed.queued and relayed.alert.kind is AlertKind.POWER_OUTAGE and "alpha" not in relay.failures


def test_after_a_change_of_supplier_alerts_go_to_the_new_supplier(world):
    relay, estates, adopted, store, clock = world
    meter = adopted["beta"]
    new = EUI64.parse(gaining_supplier(registered_supplier(meter)))
    clock.advance(60)
    with store.begin() as conn:
        inventory.register(conn, Registration(MPxN.parse(meter.mpxn), new, NETWORK_OPERATOR,
                                              clock.now() - timedelta(seconds=1)))
    estates["beta"].raise_alert(meter.device_id, AlertKind.POWER_RESTORED, at=clock.now())
    [relayed] = relay.poll()
    assert relayed.queued and relayed.user == new.hyphenated
