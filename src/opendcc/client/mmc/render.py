"""Render a parsed GBCS Response or Alert as `ra:GBCSResponse` (MMC Schema V5.4).

The document is Header (GBCS §7.2.7 grouping header fields), then Body with either
`ResponseMessage` (GBCSData and, where a builder is tabled, the SRV's SMETSData element) or
`DeviceAlertMessage` (GBCSData and DeviceAlertContent). Which SMETSData element answers which
SRV, and which builder fills it, come from `tables.json`; nothing here is per-SRV code.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from lxml import etree

from opendcc.client.mmc.tables import service_reference, tables
from opendcc.client.mmc.values import Outcome
from opendcc.ids import EUI64

if TYPE_CHECKING:
    from opendcc.client.mmc.decryption import Decrypted

MMC_NS = "http://www.dccinterface.co.uk/ResponseAndAlert"
SCHEMA_VERSION = "5.4"
_NSMAP = {"ra": MMC_NS}


def ra(name: str) -> str:
    """The Clark name of an element in the MMC namespace."""
    return f"{{{MMC_NS}}}{name}"


class Fill(enum.StrEnum):
    """How much of the decoded payload the MMC document carries as SMETSData / alert payload."""

    FULL = "full"  # every value the schema has a place for
    PARTIAL = "partial"  # GBCSData only, or some values left out
    NONE_DEFINED = "none-defined"  # MMC defines no SMETSData for this SRV: GBCSData is the answer


class Renderable(Protocol):
    """What the renderer needs from a parsed message (opendcc.client.parse.GBCSResponse)."""

    @property
    def business_originator(self) -> EUI64: ...
    @property
    def business_target(self) -> EUI64: ...
    @property
    def originator_counter(self) -> int: ...
    @property
    def supplementary_remote_party_id(self) -> EUI64 | None: ...
    @property
    def supplementary_remote_party_counter(self) -> int | None: ...
    @property
    def supplementary_originator_counter(self) -> int | None: ...
    @property
    def message_code(self) -> int: ...
    @property
    def use_case(self) -> str: ...
    @property
    def srv(self) -> str | None: ...
    @property
    def timestamp(self) -> datetime | None: ...
    @property
    def is_alert(self) -> bool: ...
    @property
    def alert_code(self) -> int | None: ...
    @property
    def gbcs(self) -> bytes: ...
    @property
    def encrypted(self) -> bool: ...
    @property
    def success(self) -> bool: ...
    @property
    def payload(self) -> object: ...
    @property
    def content(self) -> bytes: ...
    @property
    def outcome(self) -> Outcome: ...
    @property
    def decrypted(self) -> Decrypted: ...


#: A builder adds the SRV's values to its SMETSData child element; returns True when all
#: the values the schema has places for were rendered.
Builder = Callable[[Renderable, etree._Element], bool]
#: An alert builder returns the alert's Payload element (or None) and whether it is complete.
AlertBuilder = Callable[[Renderable], tuple[etree._Element | None, bool]]

BUILDERS: dict[str, Builder] = {}
ALERT_BUILDERS: dict[str, AlertBuilder] = {}


def builder(name: str) -> Callable[[Builder], Builder]:
    """Register a SMETSData builder under the name `tables.json` uses for it."""

    def register(fn: Builder) -> Builder:
        BUILDERS[name] = fn
        return fn

    return register


def alert_builder(name: str) -> Callable[[AlertBuilder], AlertBuilder]:
    """Register a DeviceAlertContent/Payload builder under its `tables.json` name."""

    def register(fn: AlertBuilder) -> AlertBuilder:
        ALERT_BUILDERS[name] = fn
        return fn

    return register


@dataclass(frozen=True, slots=True)
class Rendered:
    """The MMC document and how completely it carries the payload."""

    root: etree._Element
    fill: Fill
    smets_element: str | None


def sub(parent: etree._Element, tag: str, text: object | None = None,
        **attrib: str) -> etree._Element:
    """Append an MMC element with optional text and attributes."""
    el = etree.SubElement(parent, ra(tag), attrib)
    if text is not None:
        el.text = str(text)
    return el


def xml_datetime(when: datetime) -> str:
    """xs:dateTime in UTC with a Z."""
    text = when.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _header(msg: Renderable, root: etree._Element) -> None:
    h = sub(root, "Header")
    sub(h, "BusinessOriginatorID", msg.business_originator.hyphenated)
    sub(h, "BusinessTargetID", msg.business_target.hyphenated)
    sub(h, "OriginatorCounter", msg.originator_counter)
    if msg.supplementary_remote_party_id is not None:
        sub(h, "SupplementaryRemotePartyID", msg.supplementary_remote_party_id.hyphenated)
    if msg.supplementary_remote_party_counter is not None:
        sub(h, "SupplementaryRemotePartyCounter", msg.supplementary_remote_party_counter)
    if msg.supplementary_originator_counter is not None:
        sub(h, "SupplementaryOriginatorCounter", msg.supplementary_originator_counter)
    sub(h, "GBCSHexadecimalMessageCode", f"{msg.message_code:04X}")
    if msg.srv is not None and not msg.is_alert:
        sub(h, "ServiceReference", service_reference(msg.srv))
        sub(h, "ServiceReferenceVariant", msg.srv)
    if msg.timestamp is not None:
        sub(h, "Timestamp", xml_datetime(msg.timestamp))


def _gbcs_data(msg: Renderable, parent: etree._Element) -> None:
    sub(parent, "GBCSData", base64.b64encode(msg.gbcs).decode("ascii"),
        format="encrypted" if msg.encrypted else "plain", sequence="0",
        name=msg.use_case, type="gbcs")


def _response_body(msg: Renderable, body: etree._Element) -> tuple[Fill, str | None]:
    t = tables()
    message = sub(body, "ResponseMessage")
    _gbcs_data(msg, message)
    element = t.element_for(msg.srv)
    if element is None:
        return Fill.NONE_DEFINED, None
    has_fields = (msg.srv or "") in t.schema_has_fields
    name = t.builder_for(msg.srv, msg.use_case) or ("outcome" if not has_fields else None)
    build = BUILDERS.get(name or "")
    if build is None:
        return Fill.PARTIAL, element
    smets = etree.Element(ra("SMETSData"))
    srv_el = sub(smets, element, MessageSuccess="true" if msg.success else "false")
    complete = build(msg, srv_el)
    if has_fields and len(srv_el) == 0 and not (complete and msg.success):
        # A field-bearing type with nothing to say (an error answer): GBCSData carries it.
        # (A success with nothing to say, e.g. a future-dated command accepted, keeps the
        # element for its MessageSuccess.)
        return Fill.FULL if not msg.success else Fill.PARTIAL, element
    message.append(smets)
    return (Fill.FULL if complete else Fill.PARTIAL), element


def _alert_body(msg: Renderable, body: etree._Element) -> Fill:
    t = tables()
    alert = sub(body, "DeviceAlertMessage")
    _gbcs_data(msg, alert)
    if msg.alert_code is None or msg.timestamp is None:
        return Fill.PARTIAL
    content = sub(alert, "DeviceAlertContent")
    sub(content, "GBCSHexAlertCode", f"{msg.alert_code:04X}")
    sub(content, "AlertDescription", t.alert_description(msg.alert_code))
    sub(content, "Timestamp", xml_datetime(msg.timestamp))
    name = t.builder_for(f"{msg.alert_code:04X}", msg.use_case)
    build = ALERT_BUILDERS.get(name or "")
    if build is None:
        return Fill.FULL if name is None else Fill.PARTIAL
    payload, complete = build(msg)
    if payload is not None:
        content.append(payload)
    return Fill.FULL if complete else Fill.PARTIAL


def render(msg: Renderable) -> Rendered:
    """MMC Schema V5.4: the `ra:GBCSResponse` document for one GBCS Response or Alert."""
    root = etree.Element(ra("GBCSResponse"), nsmap=_NSMAP)
    root.set("schemaVersion", SCHEMA_VERSION)
    _header(msg, root)
    body = sub(root, "Body")
    if msg.is_alert:
        return Rendered(root, _alert_body(msg, body), None)
    fill, element = _response_body(msg, body)
    return Rendered(root, fill, element)
