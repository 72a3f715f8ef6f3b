"""The client SDK without a server: requests it builds and signs, counters, its receiver."""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from lxml import etree

import dcctool
from opendcc.client import DccClient, ResponseNotTrusted, UnknownServiceRequest
from opendcc.client.builder import SR_NS, build_request
from opendcc.client.counter import Counter
from opendcc.client.dcc_client import DCC_ID
from opendcc.client.receiver import Receiver
from opendcc.config import reference_dir
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.xmldsig import sign
from opendcc.duis.xsd import validate_duis
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*.XML"))
SR = f"{{{SR_NS}}}"


@pytest.fixture
def client(tmp_path: Path) -> DccClient:
    return DccClient.from_reference(SUPPLIER, "http://127.0.0.1:9", counter=Counter(tmp_path / "c"))


def template_parts(path: Path) -> tuple[str, int, etree._Element]:
    root = parse_xml(path.read_bytes())
    header = root.find(f"{SR}Header")
    assert header is not None
    srv = header.findtext(f"{SR}ServiceReferenceVariant") or ""
    cv = int(header.findtext(f"{SR}CommandVariant") or 0)
    body = root.find(f"{SR}Body")
    assert body is not None
    element = next(e for e in body if isinstance(e.tag, str))
    return srv, cv, element


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_the_builder_makes_a_schema_valid_request_for_every_template_srv(
    path: Path, client: DccClient
) -> None:
    srv_variant, cv, body = template_parts(path)
    srv = load_catalogue().get(srv_variant)
    target = DCC_ID if srv.non_device else EUI64.parse("00-DB-12-34-56-78-90-A0")
    root = build_request(RequestID(SUPPLIER, target, 1), srv, cv, body)
    client.sign(root)
    validate_duis(root)


@pytest.mark.java
def test_a_request_the_sdk_signs_passes_the_dcc_tool(client: DccClient) -> None:
    srv = load_catalogue().get("8.2")
    root = build_request(RequestID(SUPPLIER, DCC_ID, client.counter.next()), srv, 8,
                         {"ReadInventory": {"DeviceID": "00-DB-12-34-56-78-90-A0"}})
    ok, diagnostics = dcctool.validate(client.sign(root))
    assert ok, diagnostics


def test_the_counter_rises_strictly_and_survives_a_restart(tmp_path: Path) -> None:
    first = Counter(tmp_path / "counter")
    values = [first.next() for _ in range(100)]
    assert values == sorted(set(values))
    assert Counter(tmp_path / "counter").next() > values[-1]


def test_a_device_srv_needs_a_target(client: DccClient) -> None:
    with pytest.raises(ValueError, match="target"):
        client.submit("4.1.1", {"ReadInstantaneousImportRegisters": None})


def test_an_unknown_srv_is_refused_before_sending(client: DccClient) -> None:
    with pytest.raises(UnknownServiceRequest, match=r"99\.9"):
        client.submit("99.9", {"ReadInventory": {"DeviceID": "00-DB-12-34-56-78-90-A0"}})


def test_a_critical_srv_sent_as_command_variant_1_is_refused(client: DccClient) -> None:
    with pytest.raises(UnknownServiceRequest, match="Command Variant 1"):
        client.submit("1.1.1", {"UpdateImportTariffPrimaryElement": None},
                      target="00-DB-12-34-56-78-90-A0", command_variant=1)


def dcc_signed_response(request_id: str, code: str = "I0") -> bytes:
    dcc = KeyStore.from_reference().xml_signing(DCC_ID)
    assert dcc is not None and dcc.private_key is not None
    root = etree.Element(f"{SR}Response", nsmap={"sr": SR_NS})
    root.set("schemaVersion", "5.4")
    header = etree.SubElement(root, f"{SR}Header")
    etree.SubElement(header, f"{SR}RequestID").text = request_id
    etree.SubElement(header, f"{SR}ResponseCode").text = code
    etree.SubElement(header, f"{SR}ResponseDateTime").text = (
        datetime(2026, 1, 1, tzinfo=UTC).isoformat().replace("+00:00", "Z"))
    message = etree.SubElement(etree.SubElement(root, f"{SR}Body"), f"{SR}ResponseMessage")
    etree.SubElement(message, f"{SR}ServiceReference").text = "4.1"
    etree.SubElement(message, f"{SR}ServiceReferenceVariant").text = "4.1.1"
    sign(root, dcc.private_key, dcc.certificate)
    return etree.tostring(root)


REQUEST_ID = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:7"


def test_the_receiver_accepts_a_dcc_signed_response_with_204(client: DccClient) -> None:
    with Receiver(client.verify_response) as receiver:
        reply = httpx.post(receiver.url, content=dcc_signed_response(REQUEST_ID),
                           headers={"Content-Type": "application/xml"})
        assert reply.status_code == 204
        response = receiver.wait_for(REQUEST_ID, timeout=1)
    assert response.response_code == "I0"
    assert response.service_reference_variant == "4.1.1"


def test_the_receiver_refuses_a_tampered_response_with_400(client: DccClient) -> None:
    tampered = dcc_signed_response(REQUEST_ID).replace(b">I0<", b">E1<")
    with Receiver(client.verify_response) as receiver:
        reply = httpx.post(receiver.url, content=tampered)
        assert reply.status_code == 400
        assert receiver.refused == 1
        assert receiver.received(REQUEST_ID) == []


def test_a_duplicate_delivery_is_recognised_by_its_request_id(client: DccClient) -> None:
    document = dcc_signed_response(REQUEST_ID)
    with Receiver(client.verify_response) as receiver:
        for _ in range(2):
            assert httpx.post(receiver.url, content=document).status_code == 204
        assert len(receiver.received(REQUEST_ID)) == 1
        assert receiver.duplicates == 1


def test_a_response_signed_by_someone_else_is_not_trusted(client: DccClient) -> None:
    supplier = KeyStore.from_reference().xml_signing(SUPPLIER)
    assert supplier is not None and supplier.private_key is not None
    root = parse_xml(dcc_signed_response(REQUEST_ID))
    sign(root, supplier.private_key, supplier.certificate)
    with pytest.raises(ResponseNotTrusted):
        client.verify_response(etree.tostring(root))


def test_against_dcc_boxed_the_receiver_takes_a_fixed_port_and_is_not_registered(
    tmp_path: Path,
) -> None:
    calls: list[str] = []
    transport = httpx.MockTransport(lambda r: calls.append(r.method) or httpx.Response(500))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with DccClient.from_reference(SUPPLIER, "http://boxed.invalid", counter=Counter(tmp_path / "c"),
                                  http=httpx.Client(transport=transport), receiver_port=port,
                                  register_receiver=False) as client:
        assert client.receiver().url == f"http://127.0.0.1:{port}/"
    assert calls == []


SAMPLES = sorted((reference_dir() / "duis" / "samples").glob("*"))
# Responses a real DCC (DCC Boxed) signed; every other sample is broken on purpose, or a request.
GENUINE = {"read-inventory-response-4g.xml", "read-inventory-response-5.4.xml",
           "readfw-response.xml"}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_the_sdk_trusts_genuine_dcc_responses_and_refuses_every_broken_sample(
    sample: Path, client: DccClient
) -> None:
    if sample.name in GENUINE:
        response = client.verify_response(sample.read_bytes())
        assert response.response_code == "I0"
    else:
        with pytest.raises(ResponseNotTrusted):
            client.verify_response(sample.read_bytes())


def test_every_new_message_reaches_on_message_once_and_alerts_are_kept_by_response_id(
    client: DccClient,
) -> None:
    dcc = KeyStore.from_reference().xml_signing(DCC_ID)
    assert dcc is not None and dcc.private_key is not None
    response_id = "00-DB-12-34-56-78-90-A0:90-B3-D5-1F-30-01-00-00:1766940660265"
    root = parse_xml(dcc_signed_response(REQUEST_ID))
    header = root.find(f"{SR}Header")
    assert header is not None
    header.remove(header.find(f"{SR}RequestID"))
    header.insert(0, etree.Element(f"{SR}ResponseID"))
    header[0].text = response_id
    sign(root, dcc.private_key, dcc.certificate)
    alert = etree.tostring(root)
    seen: list[str | None] = []
    with Receiver(client.verify_response, on_message=lambda r: seen.append(r.response_id)) as rx:
        for _ in range(2):
            assert httpx.post(rx.url, content=alert).status_code == 204
        assert [r.response_id for r in rx.received(response_id)] == [response_id]
    assert seen == [response_id]
