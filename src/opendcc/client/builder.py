"""Build a DUIS Request for any SRV: the Header from the catalogue, the Body from a dict.

DUIS 5.4 `sr:Request` = Header (RequestID, CommandVariant, ServiceReference,
ServiceReferenceVariant) + Body (exactly one SRV element) + the user's ds:Signature. The body
element is given either as an lxml element or as a dict such as
`{"ReadInventory": {"DeviceID": "00-DB-12-34-56-78-90-A0"}}`: keys become `sr:` elements in
the order given (the XSD's sequence order), lists repeat an element, None leaves it empty.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from opendcc.duis.catalogue import ServiceRequestVariant
from opendcc.ids import RequestID

SR_NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
DS_NS = "http://www.w3.org/2000/09/xmldsig#"
SCHEMA_VERSION = "5.4"
_NSMAP = {"sr": SR_NS, "ds": DS_NS}

Body = Mapping[str, Any] | etree._Element


def _sr(name: str) -> str:
    return f"{{{SR_NS}}}{name}"


def build_request(
    request_id: RequestID, srv: ServiceRequestVariant, command_variant: int, body: Body
) -> etree._Element:
    """The unsigned `sr:Request` for `srv`, carrying `body` as its Body element."""
    root = etree.Element(_sr("Request"), nsmap=_NSMAP)
    root.set("schemaVersion", SCHEMA_VERSION)
    header = etree.SubElement(root, _sr("Header"))
    etree.SubElement(header, _sr("RequestID")).text = str(request_id)
    etree.SubElement(header, _sr("CommandVariant")).text = str(command_variant)
    etree.SubElement(header, _sr("ServiceReference")).text = srv.service_reference
    etree.SubElement(header, _sr("ServiceReferenceVariant")).text = srv.variant
    container = etree.SubElement(root, _sr("Body"))
    if isinstance(body, etree._Element):
        container.append(body)
    else:
        if len(body) != 1:
            raise ValueError(f"a DUIS Body holds exactly one SRV element, got {list(body)}")
        _fill(container, body)
    return root


def _fill(parent: etree._Element, content: Mapping[str, Any]) -> None:
    for name, value in content.items():
        for item in value if isinstance(value, list) else [value]:
            child = etree.SubElement(parent, _sr(name))
            if isinstance(item, Mapping):
                _fill(child, item)
            elif isinstance(item, etree._Element):
                child.append(item)
            elif isinstance(item, bool):
                child.text = "true" if item else "false"
            elif item is not None:
                child.text = str(item)
