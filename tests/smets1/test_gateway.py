"""An adopted SMETS1 meter over the DUIS gateway: a signed request in, I99 back, and the
S1SP-signed SMETS1ResponseMessage waiting in the outbox for the user."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

import dcctool
from opendcc.client.builder import build_request
from opendcc.clock import SimulatedClock
from opendcc.core.service import DataService
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.xmldsig import sign, verify
from opendcc.gateway.pipeline import Endpoint
from opendcc.gateway.wiring import GatewayConfig, build_services
from opendcc.ids import EUI64, RequestID
from opendcc.smets1.device_layer import Smets1DeviceLayer
from opendcc.smets1.migration import DCC_ID, AuthorisationLine, MigrationEngine
from opendcc.smets1.models import eligible
from opendcc.smets1.providers.estate import Estate
from opendcc.smets1.response import S1SPSigner
from opendcc.smets1.service import Smets1Service
from opendcc.smki.keystore import KeyStore
from opendcc.store import outbox
from opendcc.store.engine import open_store

from .support import LocalAdapter, register_estate, registered_supplier
from .test_migration import run_all

SUPPLIER = "90B3D51F30010000"


@pytest.mark.java
@pytest.mark.parametrize(("variant", "body", "command_variant"), [
    ("4.1.1", {"ReadInstantaneousImportRegisters": {}}, 1),
    ("7.4", {"ReadSupplyStatus": {}}, 1),
])
def test_a_signed_request_to_an_adopted_meter_is_answered_through_the_gateway(
        tmp_path: Path, variant: str, body: dict[str, object], command_variant: int) -> None:
    clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
    store = open_store(f"sqlite:///{tmp_path / 'gw.sqlite3'}")
    estate = Estate.generate("alpha", 60, seed=12)
    register_estate(store, estate)
    adapters = {"alpha": LocalAdapter(estate)}
    meter = next(m for m in estate.meters.values() if m.model == "AX-E100"
                 and eligible(m.model, m.firmware) and registered_supplier(m) == SUPPLIER)
    engine = MigrationEngine(store, adapters, clock)
    [ok] = engine.authorise(SUPPLIER, [AuthorisationLine(meter.device_id, meter.mpxn, "alpha")])
    assert ok.accepted
    run_all(engine)
    keystore = KeyStore.from_reference()
    dcc = keystore.xml_signing(EUI64.parse(DCC_ID))
    assert dcc is not None and dcc.private_key is not None
    signer = S1SPSigner(dcc.private_key, dcc.certificate)
    smets1 = Smets1Service(store, adapters, clock, signer, signer)
    data_service = DataService(store, load_catalogue(), clock, devices=Smets1DeviceLayer(smets1))
    services = build_services(GatewayConfig(clock=clock, seed=False, check_certificates=False),
                              service=data_service, store=store)
    user = keystore.xml_signing(EUI64.parse(SUPPLIER))
    assert user is not None and user.private_key is not None
    request_id = RequestID(EUI64.parse(SUPPLIER), EUI64.parse(meter.device_id), 5_000)
    request = build_request(request_id, load_catalogue().get(variant), command_variant, body)
    sign(request, user.private_key, user.certificate)
    answer = services.gateway.submit(Endpoint.S, etree.tostring(request), "application/xml")
    assert answer.status == 200 and answer.code == "I99", answer.body
    with store.connect() as conn:
        [queued] = outbox.for_request(conn, str(request_id))  # the deferred device answer
    response = etree.fromstring(queued.body)
    verify(response, keystore.lookup)
    inner = response.find(".//{*}SMETS1SignedResponse")
    assert inner is not None and response.findtext(".//{*}ResponseCode") == "I0"
    passed, why = dcctool.validate(etree.tostring(copy.deepcopy(inner), xml_declaration=True, encoding="UTF-8"))
    assert passed, why
    assert dcctool.validate(queued.body)[0]  # schema-valid as a whole
    services.http.close()
