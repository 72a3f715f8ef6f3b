"""A DUIS Response as the SDK hands it to its user: typed header fields and the body element."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from opendcc.client.builder import SR_NS

_SUCCESS = frozenset({"I0", "I99"})


@dataclass(frozen=True)
class Response:
    """A verified DUIS Response (DUIS 5.4 `sr:Response`): header fields plus the body element."""

    request_id: str | None
    response_code: str
    response_datetime: datetime | None
    service_reference_variant: str | None
    body: etree._Element | None  # the one child of sr:Body: ResponseMessage, DeviceAlertMessage...
    xml: bytes  # the document as the DCC signed it
    response_id: str | None = None  # alerts and device-originated messages carry a ResponseID

    @property
    def ok(self) -> bool:
        """True for I0 (success) and I99 (acknowledged, response to follow)."""
        return self.response_code in _SUCCESS

    @property
    def kind(self) -> str | None:
        """Which body: ResponseMessage, DeviceAlertMessage, DCCAlertMessage, SMETS1ResponseMessage."""
        return etree.QName(self.body).localname if self.body is not None else None

    def data(self) -> dict[str, Any]:
        """The body as nested dicts of local names; repeated elements become lists."""
        return _to_dict(self.body) if self.body is not None else {}


def parse_response(root: etree._Element, xml: bytes) -> Response:
    """Read a verified `sr:Response` element into a `Response`."""
    ns = f"{{{SR_NS}}}"
    header = root.find(f"{ns}Header")
    body = root.find(f"{ns}Body")

    def text(path: str) -> str | None:
        node = header.find(f"{ns}{path}") if header is not None else None
        return node.text.strip() if node is not None and node.text else None

    when = text("ResponseDateTime")
    message = body[0] if body is not None and len(body) else None
    srv = None
    if message is not None:
        node = message.find(f"{ns}ServiceReferenceVariant")
        srv = node.text.strip() if node is not None and node.text else None
    return Response(
        request_id=text("RequestID"),
        response_code=text("ResponseCode") or "",
        response_datetime=datetime.fromisoformat(when.replace("Z", "+00:00")) if when else None,
        service_reference_variant=srv,
        body=message,
        xml=xml,
        response_id=text("ResponseID"),
    )


def _to_dict(element: etree._Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = etree.QName(child).localname
        value: Any = _to_dict(child) if len(child) else (child.text or "").strip()
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        else:
            out[name] = value
    return out
