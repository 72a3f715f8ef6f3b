"""Render a parsed GBCS Response or Alert as `ra:GBCSResponse` (MMC Schema V5.4).

The document is Header (GBCS §7.2.7 grouping header fields), then Body with either
`ResponseMessage` (GBCSData and, where a builder is tabled, the SRV's SMETSData element) or
`DeviceAlertMessage` (GBCSData and DeviceAlertContent). Which SMETSData element answers which
SRV, and which builder fills it, come from `tables.json`; nothing here is per-SRV code.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from lxml import etree

from opendcc.client.mmc import document
from opendcc.client.mmc.document import MMC_NS as MMC_NS
from opendcc.client.mmc.document import (
    GbcsData,
    MmcHeader,
    gbcs_data,
    header,
    smets_data,
)
from opendcc.client.mmc.document import ra as ra
from opendcc.client.mmc.document import sub as sub
from opendcc.client.mmc.document import xml_datetime as xml_datetime
from opendcc.client.mmc.tables import tables
from opendcc.client.mmc.values import Outcome
from opendcc.ids import EUI64

if TYPE_CHECKING:
    from opendcc.client.mmc.decryption import Decrypted

SCHEMA_VERSION = "5.4"
_NSMAP = {"ra": MMC_NS}


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


def header_of(msg: Renderable) -> MmcHeader:
    """The MMC Header values of a parsed message (an alert names no SRV)."""
    return MmcHeader(
        msg.business_originator, msg.business_target, msg.originator_counter,
        srv=msg.srv if not msg.is_alert else None, timestamp=msg.timestamp,
        message_code=msg.message_code,
        supplementary_remote_party_id=msg.supplementary_remote_party_id,
        supplementary_remote_party_counter=msg.supplementary_remote_party_counter,
        supplementary_originator_counter=msg.supplementary_originator_counter)


def gbcs_data_of(msg: Renderable) -> GbcsData:
    """The MMC GBCSData values of a parsed message."""
    return GbcsData(msg.gbcs, msg.use_case, msg.encrypted)


def says_nothing(srv: str | None, srv_el: etree._Element, *, success: bool,
                 complete: bool) -> bool:
    """True for a field-bearing SMETSData type with nothing to say (an error answer): the
    schema requires its fields, so the SMETSData element is left out. (A success with nothing
    to say, e.g. a future-dated command accepted, keeps the element for its MessageSuccess.)"""
    return (srv or "") in tables().schema_has_fields and len(srv_el) == 0 and not (complete and success)


def _response_smets(msg: Renderable) -> tuple[etree._Element | None, Fill, str | None]:
    """The SMETSData element (or None: GBCSData alone answers) and how complete it is."""
    t = tables()
    element = t.element_for(msg.srv)
    if element is None:
        return None, Fill.NONE_DEFINED, None
    has_fields = (msg.srv or "") in t.schema_has_fields
    name = t.builder_for(msg.srv, msg.use_case) or ("outcome" if not has_fields else None)
    build = BUILDERS.get(name or "")
    if build is None:
        return None, Fill.PARTIAL, element
    smets, srv_el = smets_data(element, msg.success)
    complete = build(msg, srv_el)
    if says_nothing(msg.srv, srv_el, success=msg.success, complete=complete):
        # GBCSData carries the error answer.
        return None, (Fill.FULL if not msg.success else Fill.PARTIAL), element
    return smets, (Fill.FULL if complete else Fill.PARTIAL), element


def _alert_body(msg: Renderable, body: etree._Element) -> Fill:
    t = tables()
    alert = sub(body, "DeviceAlertMessage")
    gbcs_data(alert, gbcs_data_of(msg))
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
    if msg.is_alert:
        header(root, MMC_NS, header_of(msg))
        return Rendered(root, _alert_body(msg, sub(root, "Body")), None)
    smets, fill, element = _response_smets(msg)
    # Through the module, so a SMETS1 answer (opendcc.smets1.response) and this one are
    # visibly made by the same function.
    document.response_parts(root, MMC_NS, header_of(msg), gbcs=gbcs_data_of(msg), smets=smets)
    return Rendered(root, fill, element)
