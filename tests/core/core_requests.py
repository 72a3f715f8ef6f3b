"""Building DUIS requests for core tests: from the reference templates, or minimal ones."""

from __future__ import annotations

import re
from pathlib import Path

from opendcc.config import reference_dir
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request

TEMPLATES = sorted((reference_dir() / "duis" / "templates").glob("*"))
DCC = "90-B3-D5-1F-30-00-00-02"
SUPPLIER = "90-B3-D5-1F-30-01-00-00"
SUPPLIER2 = "90-B3-D5-1F-30-03-00-00"
NETWORK_OPERATOR = "90-B3-D5-1F-30-02-00-00"
OTHER_USER = "00-DB-12-34-56-78-00-04"
ESME = "00-DB-12-34-56-78-90-A0"
GSME = "00-DB-12-34-56-78-90-A1"


def template(name: str) -> Path:
    """The one template whose file name starts with `name`."""
    [path] = [p for p in TEMPLATES if p.name.startswith(name)]
    return path


def request_from(path: Path, *, request_id: str | None = None,
                 command_variant: int | None = None) -> DuisRequest:
    """A template as a DuisRequest, optionally with another RequestID or Command Variant."""
    text = path.read_text(encoding="utf-8")
    if request_id is not None:
        text = re.sub(r"<sr:RequestID>[^<]*</sr:RequestID>",
                      f"<sr:RequestID>{request_id}</sr:RequestID>", text, count=1)
    if command_variant is not None:
        text = re.sub(r"<sr:CommandVariant>[^<]*</sr:CommandVariant>",
                      f"<sr:CommandVariant>{command_variant}</sr:CommandVariant>", text, count=1)
    return read_request(parse_xml(text.encode()))


def read_inventory(selector: str, *, originator: str = SUPPLIER, counter: int = 1,
                   command_variant: int = 8) -> DuisRequest:
    """An SRV 8.2 Read Inventory request; `selector` is the inner XML of sr:ReadInventory."""
    xml = f"""<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"
 schemaVersion="5.4"><sr:Header><sr:RequestID>{originator}:{DCC}:{counter}</sr:RequestID>
<sr:CommandVariant>{command_variant}</sr:CommandVariant><sr:ServiceReference>8.2</sr:ServiceReference>
<sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant></sr:Header>
<sr:Body><sr:ReadInventory>{selector}</sr:ReadInventory></sr:Body></sr:Request>"""
    return read_request(parse_xml(xml.encode()))
