"""Building DUIS `sr:Response` messages, valid against DUIS Schema V5.4 (DUIS 5.4 §3.5).

A Response is Header (RequestID, ResponseID, ResponseCode, ResponseDateTime) and Body with a
`ResponseMessage` (ServiceReference, ServiceReferenceVariant and at most one payload such as
GBCSPayload, PreCommand, LocalCommand or DSPInventory). The DCC signs what it sends: pass the
result to `opendcc.duis.xmldsig.sign` before serialising.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from opendcc.duis.request import SR, DuisRequest
from opendcc.duis.response_codes import DuisError, ResponseCode
from opendcc.duis.xmldsig import DS

SCHEMA_VERSION = "5.4"
_NSMAP = {"sr": SR, "ds": DS}


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


def format_datetime(moment: datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as the DCC writes ResponseDateTime."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    # Formatted by hand: strftime was ~1% of a device SRV end to end (three per request).
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
            f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z")


def build_response(request_id: str | None, code: ResponseCode, *, now: datetime,
                   service_reference: str | None, variant: str | None,
                   payload: etree._Element | None = None,
                   response_id: str | None = None) -> etree._Element:
    """An unsigned `sr:Response` with a ResponseMessage body (DUIS 5.4 §3.5.1).

    DUIS requires ServiceReference and ServiceReferenceVariant in every ResponseMessage, so
    both must be given for the result to be schema-valid.
    """
    root = etree.Element(_sr("Response"), nsmap=_NSMAP)
    root.set("schemaVersion", SCHEMA_VERSION)
    header = etree.SubElement(root, _sr("Header"))
    if request_id is not None:
        etree.SubElement(header, _sr("RequestID")).text = request_id
    if response_id is not None:
        etree.SubElement(header, _sr("ResponseID")).text = response_id
    etree.SubElement(header, _sr("ResponseCode")).text = code.value
    etree.SubElement(header, _sr("ResponseDateTime")).text = format_datetime(now)
    message = etree.SubElement(etree.SubElement(root, _sr("Body")), _sr("ResponseMessage"))
    if service_reference is not None:
        etree.SubElement(message, _sr("ServiceReference")).text = service_reference
    if variant is not None:
        etree.SubElement(message, _sr("ServiceReferenceVariant")).text = variant
    if payload is not None:
        message.append(payload)
    return root


def payload_element(name: str, text: str | None = None) -> etree._Element:
    """A bare `sr:<name>` element for use as a payload (e.g. `GBCSPayload` with base64 text)."""
    element = etree.Element(_sr(name), nsmap={"sr": SR})
    element.text = text
    return element


def acknowledgement(request: DuisRequest, now: datetime) -> etree._Element:
    """I99: the request passed access control and is on its way to the device (DUIS 5.4 §3.5)."""
    return build_response(str(request.request_id), ResponseCode.I99, now=now,
                          service_reference=request.service_reference,
                          variant=request.service_reference_variant)


def success(request: DuisRequest, now: datetime,
            payload: etree._Element | None = None) -> etree._Element:
    """I0 for a request (non-device answers carry their data as payload)."""
    return build_response(str(request.request_id), ResponseCode.I0, now=now,
                          service_reference=request.service_reference,
                          variant=request.service_reference_variant, payload=payload)


def error_response(exc: DuisError, request_id: str | None, now: datetime, *,
                   service_reference: str | None = None,
                   variant: str | None = None) -> etree._Element:
    """The DUIS answer to a rejection: its one response code, echoing what is known of the request.

    Only for errors that have a DUIS code; errors with `code is None` are answered with their
    HTTP status alone.
    """
    if exc.code is None:
        raise ValueError(f"{type(exc).__name__} has no DUIS response code; answer HTTP {exc.http_status}")
    return build_response(request_id, exc.code, now=now, service_reference=service_reference,
                          variant=variant)


def serialize(root: etree._Element) -> bytes:
    """UTF-8 bytes with an XML declaration, no added whitespace (signatures stay intact)."""
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8")
