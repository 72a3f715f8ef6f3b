"""Responses opendcc builds are valid against DUIS Schema V5.4, signed or not."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from opendcc.duis import response, xmldsig
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.duis.response_codes import (
    DeviceNotReachable,
    DuisError,
    MalformedXml,
    ResponseCode,
    all_error_classes,
)
from opendcc.duis.xsd import validate_duis
from opendcc.smki.keystore import KeyStore

from .conftest import Signer
from .support import SAMPLES, TEMPLATES

NOW = datetime(2026, 11, 23, 13, 0, 5, 123456, tzinfo=UTC)


def _request() -> DuisRequest:
    path = next(p for p in TEMPLATES if p.name == "CS08_11.2_SUCCESS_REQUEST_DUIS.XML")
    return read_request(parse_xml(path.read_bytes()))


def test_acknowledgement_is_i99_echoing_the_request() -> None:
    request = _request()
    root = response.acknowledgement(request, NOW)
    validate_duis(root)
    ns = {"sr": "http://www.dccinterface.co.uk/ServiceUserGateway"}
    assert root.findtext("sr:Header/sr:ResponseCode", namespaces=ns) == "I99"
    assert root.findtext("sr:Header/sr:RequestID", namespaces=ns) == str(request.request_id)
    assert root.findtext("sr:Header/sr:ResponseDateTime", namespaces=ns) == "2026-11-23T13:00:05.123Z"
    assert root.findtext(".//sr:ServiceReferenceVariant", namespaces=ns) == "11.2"


@pytest.mark.parametrize("cls", [c for c in all_error_classes() if c.code is not None],
                         ids=lambda c: c.__name__)
def test_error_response_carries_the_one_code_of_its_rejection(cls: type[DuisError]) -> None:
    request = _request()
    root = response.error_response(cls("x"), str(request.request_id), NOW,
                                   service_reference="11.2", variant="11.2")
    validate_duis(root)
    assert root.findtext(".//{http://www.dccinterface.co.uk/ServiceUserGateway}ResponseCode") == cls.code


def test_http_only_rejection_has_no_duis_response() -> None:
    with pytest.raises(ValueError, match="HTTP 400"):
        response.error_response(MalformedXml("x"), None, NOW)


def test_success_with_a_gbcs_payload_and_response_id_is_valid(dcc_signer: Signer, keystore: KeyStore) -> None:
    request = _request()
    root = response.success(request, NOW, response.payload_element("GBCSPayload", "3QAAAAAAAFUR"))
    validate_duis(root)
    xmldsig.sign(root, dcc_signer.private_key, dcc_signer.certificate)
    validate_duis(root)
    again = parse_xml(response.serialize(root))
    assert xmldsig.verify(again, keystore.lookup).serial == dcc_signer.certificate.serial_number


def test_dcc_inventory_payload_round_trips_into_a_valid_response() -> None:
    sample = parse_xml((SAMPLES / "read-inventory-response-5.4.xml").read_bytes())
    inventory = sample.find(".//{http://www.dccinterface.co.uk/ServiceUserGateway}DSPInventory")
    assert inventory is not None
    root = response.build_response("90-B3-D5-1F-30-01-00-00:90-B3-D5-1F-30-00-00-02:1766940660265",
                                   ResponseCode.I0, now=NOW, service_reference="8.2",
                                   variant="8.2", payload=inventory)
    validate_duis(root)


def test_device_not_reachable_is_e20() -> None:
    assert DeviceNotReachable.code is ResponseCode.E20
