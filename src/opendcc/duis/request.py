"""A DUIS Service Request read into typed fields (DUIS 5.4 §3.4: Header, Body, Signature)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from opendcc.duis.response_codes import RequestIdInvalid
from opendcc.ids import InvalidIdentifier, RequestID

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
_HEADER = f"{{{SR}}}Header"


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


@dataclass(frozen=True, slots=True)
class DuisRequest:
    """The parts of a schema-valid `sr:Request` the gateway and core act on."""

    request_id: RequestID
    command_variant: int
    service_reference: str
    service_reference_variant: str
    body: etree._Element  # the SRV-specific element inside sr:Body
    body_name: str  # its local name, e.g. "TopUpDevice"
    execution_datetime: datetime | None  # future-dated requests (sr:ExecutionDateTime)
    root: etree._Element

    @property
    def future_dated(self) -> bool:
        """True when the request carries an ExecutionDateTime."""
        return self.execution_datetime is not None


def parse_datetime(text: str) -> datetime:
    """An xs:dateTime as an aware datetime; a value without a zone is taken as UTC."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def read_request(root: etree._Element) -> DuisRequest:
    """Read a schema-valid DUIS request; raise RequestIdInvalid when the RequestID has the wrong form."""
    header = root.find(_HEADER)
    body_wrapper = root.find(_sr("Body"))
    if header is None or body_wrapper is None or len(body_wrapper) == 0:
        raise ValueError("not a DUIS sr:Request with Header and Body (validate against the schema first)")
    raw_id = header.findtext(_sr("RequestID")) or ""
    try:
        request_id = RequestID.parse(raw_id)
    except InvalidIdentifier as exc:
        raise RequestIdInvalid(f"RequestID {raw_id!r}: {exc}") from None
    if request_id.counter == 0:
        raise RequestIdInvalid(f"RequestID {raw_id!r}: the counter must be positive")
    body = next(child for child in body_wrapper if isinstance(child.tag, str))
    executed = body.findtext(_sr("ExecutionDateTime"))
    return DuisRequest(
        request_id=request_id,
        command_variant=int(header.findtext(_sr("CommandVariant")) or 0),
        service_reference=(header.findtext(_sr("ServiceReference")) or "").strip(),
        service_reference_variant=(header.findtext(_sr("ServiceReferenceVariant")) or "").strip(),
        body=body,
        body_name=etree.QName(body).localname,
        execution_datetime=parse_datetime(executed) if executed else None,
        root=root,
    )
