"""`attach_smets1` on a running gateway (what `opendcc serve` does): an adopted meter behind a
provider process answers a signed DUIS request, `/smets1/progress` is served, and a provider
alert reaches the supplier's outbox."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient
from lxml import etree

from opendcc.client.builder import build_request
from opendcc.clock import SimulatedClock
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.xmldsig import sign
from opendcc.gateway.app import create_app
from opendcc.gateway.pipeline import Endpoint
from opendcc.gateway.wiring import GatewayConfig, build_services
from opendcc.ids import EUI64, RequestID
from opendcc.smets1.adapters import connect
from opendcc.smets1.device_layer import Smets1DeviceLayer
from opendcc.smets1.migration import AuthorisationLine, MigrationEngine
from opendcc.smets1.models import eligible
from opendcc.smets1.providers.estate import AlertKind, Estate
from opendcc.smets1.serve import attach_smets1, providers_from_env
from opendcc.store import outbox
from opendcc.store.engine import open_store

from .support import provider_process, register_estate, registered_supplier
from .test_migration import run_all

SUPPLIER = "90B3D51F30010000"


def test_providers_are_read_from_name_equals_address_pairs() -> None:
    assert providers_from_env("alpha=http://127.0.0.1:9101, beta=127.0.0.1:9102") == {
        "alpha": "http://127.0.0.1:9101", "beta": "127.0.0.1:9102"}
    assert providers_from_env("") == {}


def test_a_gateway_with_smets1_attached_serves_adopted_meters_progress_and_alerts(tmp_path: Path) -> None:
    clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
    store = open_store(f"sqlite:///{tmp_path / 'serve.sqlite3'}")
    estate = Estate.generate("alpha", 60, seed=12)
    register_estate(store, estate)
    meter = next(m for m in estate.meters.values() if m.model == "AX-E100"
                 and eligible(m.model, m.firmware) and registered_supplier(m) == SUPPLIER)
    with provider_process("alpha", 60, 12) as address:
        adapter = connect("alpha", address)
        engine = MigrationEngine(store, {"alpha": adapter}, clock)
        [ok] = engine.authorise(SUPPLIER, [AuthorisationLine(meter.device_id, meter.mpxn, "alpha")])
        assert ok.accepted
        run_all(engine)
        services = build_services(GatewayConfig(clock=clock, seed=False, check_certificates=False),
                                  store=store)
        before = services.gateway.service.devices
        app = create_app(services=services)
        serving = attach_smets1(services, app, providers={"alpha": address})
        try:
            layer = services.gateway.service.devices
            assert isinstance(layer, Smets1DeviceLayer) and layer.smets2 is before

            user = services.keystore.xml_signing(EUI64.parse(SUPPLIER))
            assert user is not None and user.private_key is not None
            request_id = RequestID(EUI64.parse(SUPPLIER), EUI64.parse(meter.device_id), 7_000)
            request = build_request(request_id, load_catalogue().get("4.1.1"), 1,
                                    {"ReadInstantaneousImportRegisters": {}})
            sign(request, user.private_key, user.certificate)
            answer = services.gateway.submit(Endpoint.S, etree.tostring(request), "application/xml")
            assert answer.code == "I99", answer.body
            with store.connect() as conn:
                [queued] = outbox.for_request(conn, str(request_id))
            assert etree.fromstring(queued.body).find(".//{*}SMETS1SignedResponse") is not None

            progress = TestClient(app).get("/smets1/progress")
            assert progress.status_code == 200 and progress.json()["totals"]["migrated"] == 1

            adapter.raise_alert(meter.device_id, AlertKind.TAMPER)
            [relayed] = serving.relay.poll()
            assert relayed.queued and relayed.user == EUI64.parse(SUPPLIER).hyphenated
        finally:
            serving.close()
            adapter.close()
            services.http.close()
