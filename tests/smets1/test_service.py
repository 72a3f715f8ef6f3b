"""DUIS SRVs for adopted SMETS1 meters: answers and refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opendcc.clock import SimulatedClock
from opendcc.duis.response_codes import ResponseCode
from opendcc.duis.xmldsig import verify
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64
from opendcc.smets1.migration import DCC_ID, AuthorisationLine, MigrationEngine
from opendcc.smets1.models import MODELS, eligible
from opendcc.smets1.providers.estate import Estate, Meter
from opendcc.smets1.response import S1SPSigner
from opendcc.smets1.service import SRV_OPERATION, Smets1Service, request_id_for
from opendcc.smki.keystore import KeyStore
from opendcc.store.engine import open_store

from .support import LocalAdapter, gaining_supplier, register_estate, registered_supplier
from .test_migration import run_all


@pytest.fixture(scope="module")
def keystore() -> KeyStore:
    return KeyStore.from_reference()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, keystore: KeyStore):
    tmp_path: Path = tmp_path_factory.mktemp("smets1-service")
    store = open_store(f"sqlite:///{tmp_path / 'svc.sqlite3'}")
    estates = {p: Estate.generate(p, 120, seed=9) for p in ("alpha", "beta")}
    adapters = {p: LocalAdapter(e) for p, e in estates.items()}
    clock = SimulatedClock(datetime(2026, 3, 1, tzinfo=UTC))
    for e in estates.values():
        register_estate(store, e)
    engine = MigrationEngine(store, adapters, clock)
    chosen: dict[str, Meter] = {}
    for e in estates.values():
        for meter in e.meters.values():
            if eligible(meter.model, meter.firmware) and meter.model not in chosen:
                chosen[meter.model] = meter
    for name, meter in chosen.items():
        provider = "alpha" if meter.device_id.startswith("00A1") else "beta"
        [ok] = engine.authorise(registered_supplier(meter), [AuthorisationLine(meter.device_id, meter.mpxn, provider)])
        assert ok.accepted, name
    run_all(engine)
    dcc = keystore.xml_signing(EUI64.parse(DCC_ID))
    assert dcc is not None and dcc.private_key is not None
    signer = S1SPSigner(dcc.private_key, dcc.certificate)
    return Smets1Service(store, adapters, clock, signer, signer), chosen, estates


@pytest.mark.parametrize("variant", sorted(SRV_OPERATION))
@pytest.mark.parametrize("model_name", [m.name for m in MODELS])
def test_each_model_answers_its_srvs_and_refuses_the_others_with_e11(world, keystore, model_name, variant):
    service, chosen, _ = world
    meter = chosen[model_name]
    user = EUI64.parse(registered_supplier(meter))
    answer = service.execute(request_id_for(user, EUI64.parse(meter.device_id), 5), variant, 1500)
    supported = next(m for m in MODELS if m.name == model_name).supports(variant)
    assert answer.code is (ResponseCode.I0 if supported else ResponseCode.E11)
    validate_duis(answer.response)
    verify(answer.response, keystore.lookup)
    assert (answer.response.find(".//{*}SMETS1SignedResponse") is not None) == supported


def test_a_user_who_is_not_the_registered_supplier_gets_e4(world):
    service, chosen, _ = world
    meter = next(iter(chosen.values()))
    other = EUI64.parse(gaining_supplier(registered_supplier(meter)))
    assert service.execute(request_id_for(other, EUI64.parse(meter.device_id), 6), "4.1.1").code is ResponseCode.E4


def test_a_meter_not_adopted_gets_e19(world):
    service, chosen, estates = world
    meter = next(m for m in estates["alpha"].meters.values() if m not in chosen.values())
    user = EUI64.parse(registered_supplier(meter))
    assert service.execute(request_id_for(user, EUI64.parse(meter.device_id), 7), "4.1.1").code is ResponseCode.E19


def test_a_device_that_does_not_answer_gets_e20_and_an_outage_e21(world):
    service, chosen, estates = world
    meter = chosen["BK-ELEC-3"]
    user = EUI64.parse(registered_supplier(meter))
    device = EUI64.parse(meter.device_id)
    estates["beta"].faults.update({"failure_rate": 1.0})
    assert service.execute(request_id_for(user, device, 8), "4.1.1").code is ResponseCode.E20
    estates["beta"].faults.update({"failure_rate": 0.0, "outage": True})
    try:
        assert service.execute(request_id_for(user, device, 9), "4.1.1").code is ResponseCode.E21
    finally:
        estates["beta"].faults.update({"outage": False})


def _templates() -> list[Path]:
    from opendcc.config import reference_dir

    folder = reference_dir() / "duis" / "templates"
    return sorted(p for p in folder.glob("*.XML")
                  if p.name.split("_")[1] in SRV_OPERATION and p.name.startswith(("ECS", "GCS")))


@pytest.mark.parametrize("template", _templates(), ids=lambda p: p.name)
def test_reference_requests_are_answered_for_every_model_of_their_fuel(world, keystore, template):
    """Each RTDS template for a mapped SRV, retargeted at an adopted meter of each model of its fuel."""
    from opendcc.duis.parser import parse_xml
    from opendcc.duis.request import read_request
    from opendcc.smets1.service import execute_request

    service, chosen, estates = world
    fuel = "E" if template.name.startswith("ECS") else "G"
    text = template.read_bytes()
    original = read_request(parse_xml(text)).request_id
    for name, meter in chosen.items():
        if meter.fuel != fuel:
            continue
        user = EUI64.parse(registered_supplier(meter))
        retargeted = str(request_id_for(user, EUI64.parse(meter.device_id), original.counter))
        request = read_request(parse_xml(text.replace(str(original).encode(), retargeted.encode())))
        answer = execute_request(service, request)
        supported = next(m for m in MODELS if m.name == name).supports(request.service_reference_variant)
        assert answer.code is (ResponseCode.I0 if supported else ResponseCode.E11), name
        validate_duis(answer.response)
        if supported and request.service_reference_variant in ("1.1.1", "1.2.1"):
            device = next(e for e in estates.values() if meter.device_id in e.meters).meters[meter.device_id]
            assert device.tariff > 0


def test_the_data_service_routes_an_adopted_meter_through_the_smets1_layer(world, keystore):
    """DUIS 5.4 §3.5 over the Data Service: I99 now, the SMETS1ResponseMessage deferred."""
    from opendcc.config import reference_dir
    from opendcc.core.service import DataService
    from opendcc.duis.catalogue import load_catalogue
    from opendcc.duis.parser import parse_xml
    from opendcc.duis.request import read_request
    from opendcc.duis.xmldsig import sign
    from opendcc.smets1.device_layer import Smets1DeviceLayer

    service, chosen, _ = world
    meter = chosen["AX-E100"]
    user = EUI64.parse(registered_supplier(meter))
    text = (reference_dir() / "duis" / "templates" / "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML").read_bytes()
    original = read_request(parse_xml(text)).request_id
    retargeted = str(request_id_for(user, EUI64.parse(meter.device_id), 10**9))
    request = read_request(parse_xml(text.replace(str(original).encode(), retargeted.encode())))
    data_service = DataService(service.store, load_catalogue(), service.clock,
                               devices=Smets1DeviceLayer(service))
    outcome = data_service.handle(request, user, "serviceS")
    assert outcome.code == "I99"
    [deferred] = outcome.deferred
    validate_duis(sign(deferred, service.dcc.private_key, service.dcc.certificate))
    assert deferred.find(".//{*}ReadInstantaneousImportRegistersRsp") is not None
