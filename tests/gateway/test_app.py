"""The gateway's HTTP surface: DCC Boxed endpoints, async delivery, health, metrics, admin."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from gateway_support import ESME, SUPPLIER, last_counter, outbox_size, request_xml

import dcctool
from opendcc.client import DccClient, Receiver
from opendcc.config import reference_dir
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response import build_response
from opendcc.duis.response_codes import ResponseCode
from opendcc.gateway.pipeline import Endpoint
from opendcc.gateway.wiring import Services
from opendcc.store import audit

INVENTORY = {"ReadInventory": {"DeviceID": ESME.hyphenated}}


def test_read_inventory_is_answered_synchronously_from_the_store(supplier: DccClient) -> None:
    response = supplier.request("8.2", INVENTORY)
    assert response.response_code == "I0"
    devices = response.data()["DSPInventory"]["Device"]
    ids = {d["DeviceID"] for d in (devices if isinstance(devices, list) else [devices])}
    assert ESME.hyphenated in ids


@pytest.mark.java
def test_a_response_opendcc_signs_passes_the_dcc_tool(http: TestClient) -> None:
    reply = http.post("/api/v1/serviceD", content=request_xml("8.2", INVENTORY),
                      headers={"Content-Type": "application/xml"})
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "application/xml"
    ok, diagnostics = dcctool.validate(reply.content)
    assert ok, diagnostics


def test_send_command_is_acknowledged_then_answered_through_the_outbox(
    supplier: DccClient, services: Services
) -> None:
    ack = supplier.submit("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME)
    assert ack.response_code == "I99"
    assert outbox_size(services) == 1
    assert services.worker.run_once().delivered == 1
    assert ack.request_id is not None
    (response,) = supplier.receiver().received(ack.request_id)
    # No device layer yet: DUIS's "unable to communicate with the device", never a fake success.
    assert response.response_code == "E20"
    assert outbox_size(services) == 0


@pytest.mark.java
def test_an_async_response_opendcc_signs_passes_the_dcc_tool(
    supplier: DccClient, services: Services
) -> None:
    ack = supplier.submit("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME)
    services.worker.run_once()
    assert ack.request_id is not None
    (response,) = supplier.receiver().received(ack.request_id)
    ok, diagnostics = dcctool.validate(response.xml)
    assert ok, diagnostics


def test_the_sdk_waits_for_the_async_response(supplier: DccClient, services: Services) -> None:
    services.worker.start(poll=0.05)
    try:
        response = supplier.request("4.1.1", {"ReadInstantaneousImportRegisters": None},
                                    target=ESME, timeout=10)
    finally:
        services.worker.stop()
    assert response.response_code == "E20"
    assert response.request_id is not None
    assert response.request_id.startswith(f"{SUPPLIER}:{ESME}:")


def test_health_reports_the_outbox_depth(http: TestClient) -> None:
    assert http.get("/health").json() == {"status": "ok", "outbox_depth": 0}


def test_metrics_count_requests_by_endpoint_and_code(http: TestClient, supplier: DccClient) -> None:
    supplier.request("8.2", INVENTORY)
    http.post("/api/v1/serviceD", content=b"<x", headers={"Content-Type": "application/xml"})
    text = http.get("/metrics").text
    assert 'opendcc_requests_total{endpoint="serviceD",code="I0"} 1' in text
    assert 'opendcc_requests_total{endpoint="serviceD",code="HTTP 400"} 1' in text
    assert "opendcc_outbox_depth 0" in text
    assert 'opendcc_request_seconds_count{endpoint="serviceD"} 2' in text


def test_the_openapi_page_lists_the_three_duis_endpoints(http: TestClient) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for endpoint in ("serviceD", "serviceS", "serviceT"):
        assert "application/xml" in paths[f"/api/v1/{endpoint}"]["post"]["requestBody"]["content"]
    assert http.get("/docs").status_code == 200


def test_a_user_registers_its_response_url(http: TestClient) -> None:
    url = "http://127.0.0.1:9999/duis"
    reply = http.put(f"/admin/users/{SUPPLIER.hyphenated}/response-url", json={"url": url})
    assert reply.status_code == 200
    users = {u["user_id"]: u for u in http.get("/admin/users").json()}
    assert users[SUPPLIER.hyphenated]["response_url"] == url


def test_an_unknown_user_or_a_bad_url_is_refused(http: TestClient) -> None:
    assert http.put("/admin/users/00-00-00-00-00-00-00-01/response-url",
                    json={"url": "http://x/"}).status_code == 404
    assert http.put(f"/admin/users/{SUPPLIER.hyphenated}/response-url",
                    json={"url": "ftp://x/"}).status_code == 422


def test_a_request_rejected_before_the_data_service_is_audited(
    http: TestClient, services: Services
) -> None:
    http.post("/api/v1/serviceD", content=request_xml("8.2", INVENTORY, signed=False),
              headers={"Content-Type": "application/xml"})
    with services.store.connect() as conn:
        (record,) = audit.recent(conn)
    assert record.response_code == "HTTP 401"
    assert record.detail is not None and "SignatureMissing" in record.detail


def test_async_responses_are_queued_in_the_same_transaction_as_the_request(
    services: Services,
) -> None:
    def broken_outbox(*_args: object) -> None:
        raise RuntimeError("disk full")

    services.gateway.enqueue = broken_outbox
    document = request_xml("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME)
    answer = services.gateway.submit(Endpoint.S, document, "application/xml")
    assert answer.status == 500 and b"disk full" not in answer.body
    # the request is not stored either: its counter can be used again; only the failure is
    # audited, by the gateway
    assert last_counter(services, SUPPLIER) is None
    with services.store.connect() as conn:
        (record,) = audit.recent(conn)
    assert record.response_code == "HTTP 500"


def test_a_later_response_is_signed_queued_and_delivered_after_the_first(
    supplier: DccClient, services: Services
) -> None:
    ack = supplier.submit("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME)
    assert ack.request_id is not None
    later = build_response(ack.request_id, ResponseCode.I0, now=services.clock.now(),
                           service_reference="4.1", variant="4.1.1")
    assert services.deliver(SUPPLIER, later) == 1  # after the deferred E20 (sequence 0)
    while services.worker.run_once().delivered:
        pass
    codes = sorted(r.response_code for r in supplier.receiver().received(ack.request_id))
    assert codes == ["E20", "I0"]


CRITICAL = reference_dir() / "duis" / "templates" / "ECS01a_1.1.1_IMMEDIATE_BLOCK_SUCCESS_REQUEST_DUIS.XML"


def test_a_critical_srv_goes_transform_correlate_sign_and_send(
    supplier: DccClient, services: Services
) -> None:
    template = read_request(parse_xml(CRITICAL.read_bytes()))
    services.worker.start(poll=0.05)
    try:
        response = supplier.request_critical(template.service_reference_variant, template.body,
                                             target=template.request_id.target, timeout=10)
    finally:
        services.worker.stop()
    # the signed Pre-Command was accepted (I99); the device cannot be reached yet (E20)
    assert response.response_code == "E20"
    with services.store.connect() as conn:
        endpoints = [(r.endpoint, r.response_code) for r in reversed(audit.recent(conn))]
    assert endpoints == [("serviceT", "I0"), ("serviceS", "I99")]


def test_responses_waiting_for_an_endpoint_go_as_soon_as_one_is_registered(
    http: TestClient, services: Services, supplier: DccClient
) -> None:
    document = request_xml("4.1.1", {"ReadInstantaneousImportRegisters": None}, target=ESME)
    http.post("/api/v1/serviceS", content=document, headers={"Content-Type": "application/xml"})
    assert services.worker.run_once().retried == 1  # no response URL yet: back-off
    with Receiver(supplier.verify_response) as receiver:
        http.put(f"/admin/users/{SUPPLIER.hyphenated}/response-url", json={"url": receiver.url})
        assert services.worker.run_once().delivered == 1  # due at once, not after the back-off
        assert receiver.received(f"{SUPPLIER}:{ESME}:1")[0].response_code == "E20"
