"""Reading DUIS requests: header fields, the SRV body element, future dating."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import RequestIdInvalid

from .support import TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_every_template_reads(template: Path) -> None:
    request = read_request(parse_xml(template.read_bytes()))
    assert 1 <= request.command_variant <= 8
    assert request.service_reference_variant.startswith(request.service_reference)
    assert request.body_name == etree.QName(request.body).localname
    assert ("FUTURE_DATED" in template.name) <= request.future_dated


def test_request_fields_of_a_future_dated_top_up() -> None:
    path = next(p for p in TEMPLATES if p.name == "CS02bSupplierBySupplier_6.15.1_FUTURE_DATED_SUCCESS_REQUEST_DUIS.XML")
    request = read_request(parse_xml(path.read_bytes()))
    assert request.body_name == "UpdateSecurityCredentialsKRP"
    assert request.execution_datetime == datetime(2030, 1, 15, tzinfo=UTC)
    assert request.service_reference_variant == "6.15.1"


def _with_request_id(value: str) -> etree._Element:
    root = parse_xml(TEMPLATES[0].read_bytes())
    node = root.find(".//{http://www.dccinterface.co.uk/ServiceUserGateway}RequestID")
    assert node is not None
    node.text = value
    return root


@pytest.mark.parametrize("value", [
    "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2",
    "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:0",
    "90-B3-D5-1F-30-01-00:00-DB-12-34-56-78-90-A2:5",
    "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A2:18446744073709551616",
])
def test_bad_request_id_is_rejected(value: str) -> None:
    with pytest.raises(RequestIdInvalid):
        read_request(_with_request_id(value))
