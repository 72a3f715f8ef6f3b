"""`TransformOnly`: Pre-Commands and local commands from the Transform, E20 for the WAN part.

The oracle is the Transform itself: for every template a DUIS user may send, the Data Service
answers with exactly what `core.transform` builds, or rejects with the Transform's error.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from core_requests import TEMPLATES, request_from, template
from lxml import etree

import dcctool
from opendcc.clock import SimulatedClock
from opendcc.core.device_layer import MillisecondCounter, TransformOnly
from opendcc.core.service import DataService, Outcome
from opendcc.core.transform import transform
from opendcc.duis import xmldsig
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.request import SR
from opendcc.duis.response import serialize
from opendcc.duis.response_codes import DuisError
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import open_store
from opendcc.store.tables import request_counters

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
COUNTER = 5_000
DUIS_USERS = {"90-B3-D5-1F-30-01-00-00", "90-B3-D5-1F-30-02-00-00"}
NS = {"sr": SR}


def _device_templates() -> list[Path]:
    out = []
    for path in TEMPLATES:
        request = request_from(path)
        srv = load_catalogue().get(request.service_reference_variant)
        if not srv.non_device and str(request.request_id.originator) in DUIS_USERS:
            out.append(path)
    return out


@pytest.fixture(scope="module")
def keys() -> KeyStore:
    return KeyStore.from_reference()


@pytest.fixture(scope="module")
def estate(keys: KeyStore) -> Iterator[DataService]:
    store = open_store("sqlite://")
    seed_demo(store)
    yield DataService(store, load_catalogue(), SimulatedClock(NOW),
                      devices=TransformOnly(keys, lambda: COUNTER))
    store.close()


def _handle(service: DataService, path: Path) -> Outcome:
    request = request_from(path)
    return service.handle(request, request.request_id.originator,
                          CommandVariant(request.command_variant).endpoint)


@pytest.mark.parametrize("path", _device_templates(), ids=lambda p: p.name)
def test_device_srv_gets_what_the_transform_builds(estate: DataService, keys: KeyStore,
                                                   path: Path) -> None:
    with estate.store.begin() as conn:
        conn.execute(request_counters.delete())
        request = request_from(path)
        device = inventory_repo.get_device(conn, request.request_id.target)
    assert device is not None
    try:
        expected = transform(request, now=NOW, counter=COUNTER, keys=keys,
                             device_type=device.device_type.value)
    except DuisError as exc:
        with pytest.raises(type(exc)):
            _handle(estate, path)
        return
    outcome = _handle(estate, path)
    validate_duis(outcome.sync)
    for response in outcome.deferred:
        validate_duis(response)
    payload = outcome.sync.xpath("//sr:GBCSPayload/text()", namespaces=NS)
    if expected.pre_command:
        assert outcome.code == "I0" and outcome.deferred == []
        assert outcome.sync.xpath("//sr:PreCommand/sr:GBCSVersion/text()", namespaces=NS) == ["4.0"]
        assert [base64.b64decode(p) for p in payload] == [expected.gbcs]
    elif expected.deliver_locally:
        assert outcome.code == "I0"
        assert outcome.sync.xpath("//sr:LocalCommand", namespaces=NS)
        assert [base64.b64decode(p) for p in payload] == [expected.gbcs]
    else:
        assert outcome.code == "I99" and payload == []
    assert [d.findtext(f"{{{SR}}}Header/{{{SR}}}ResponseCode") for d in outcome.deferred] == (
        ["E20"] if expected.send_over_wan else [])


@pytest.mark.java
def test_pre_command_response_passes_the_dcc_validator(estate: DataService, keys: KeyStore) -> None:
    with estate.store.begin() as conn:
        conn.execute(request_counters.delete())
    outcome = _handle(estate, template("ECS01a_1.1.1_IMMEDIATE"))
    assert outcome.sync.xpath("//sr:PreCommand", namespaces=NS)
    credential = keys.xml_signing(EUI64.parse("90-B3-D5-1F-30-00-00-02"))
    assert credential is not None and credential.private_key is not None
    root: etree._Element = outcome.sync
    xmldsig.sign(root, credential.private_key, credential.certificate)
    ok, diagnostics = dcctool.validate(bytes(serialize(root)))
    assert ok, diagnostics


def test_dcc_originator_counters_rise_even_within_one_millisecond() -> None:
    counter = MillisecondCounter(SimulatedClock(NOW))
    first, second = counter(), counter()
    assert first == int(NOW.timestamp() * 1000) and second == first + 1
