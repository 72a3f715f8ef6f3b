"""The MMC Header and response Body (MMC Schema V5.4 `ra:HeaderType`, `ra:ResponsePayload`)
from typed values; pure, no I/O.

Two documents carry them: Parse and Correlate's `ra:GBCSResponse` (Header and Body in the MMC
namespace) and the S1SP's `sr:SMETS1Response` inside `SMETS1SignedResponse` (DUIS Schema V5.4
`SMETS1ResponseType`: Header and Body in the DUIS namespace, their content in the MMC one).
`response_parts` writes both, so a SMETS1 answer and a GBCS-derived one for the same SRV have
the same structure.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from opendcc.client.mmc.tables import service_reference
from opendcc.ids import EUI64

MMC_NS = "http://www.dccinterface.co.uk/ResponseAndAlert"


def ra(name: str) -> str:
    """The Clark name of an element in the MMC namespace."""
    return f"{{{MMC_NS}}}{name}"


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


@dataclass(frozen=True, slots=True)
class MmcHeader:
    """MMC Schema V5.4 `HeaderType`: who answered whom, with which counter, for which SRV."""

    business_originator: EUI64  # the device
    business_target: EUI64  # the user (or the DCC for DCC-originated commands)
    originator_counter: int
    srv: str | None = None  # ServiceReferenceVariant; None for alerts
    timestamp: datetime | None = None
    message_code: int | None = None  # GBCS message code; SMETS1 answers have none
    supplementary_remote_party_id: EUI64 | None = None
    supplementary_remote_party_counter: int | None = None
    supplementary_originator_counter: int | None = None


@dataclass(frozen=True, slots=True)
class GbcsData:
    """MMC `GBCSData`: the device's GBCS message as it came, and how."""

    gbcs: bytes
    use_case: str
    encrypted: bool = False


def header(parent: etree._Element, container: str, values: MmcHeader) -> etree._Element:
    """MMC Schema V5.4 `HeaderType`, as `{container}Header` under `parent`."""
    h = etree.SubElement(parent, f"{{{container}}}Header")
    sub(h, "BusinessOriginatorID", values.business_originator.hyphenated)
    sub(h, "BusinessTargetID", values.business_target.hyphenated)
    sub(h, "OriginatorCounter", values.originator_counter)
    if values.supplementary_remote_party_id is not None:
        sub(h, "SupplementaryRemotePartyID", values.supplementary_remote_party_id.hyphenated)
    if values.supplementary_remote_party_counter is not None:
        sub(h, "SupplementaryRemotePartyCounter", values.supplementary_remote_party_counter)
    if values.supplementary_originator_counter is not None:
        sub(h, "SupplementaryOriginatorCounter", values.supplementary_originator_counter)
    if values.message_code is not None:
        sub(h, "GBCSHexadecimalMessageCode", f"{values.message_code:04X}")
    if values.srv is not None:
        sub(h, "ServiceReference", service_reference(values.srv))
        sub(h, "ServiceReferenceVariant", values.srv)
    if values.timestamp is not None:
        sub(h, "Timestamp", xml_datetime(values.timestamp))
    return h


def gbcs_data(parent: etree._Element, data: GbcsData) -> etree._Element:
    """MMC `GBCSData`: the GBCS message, base64."""
    return sub(parent, "GBCSData", base64.b64encode(data.gbcs).decode("ascii"),
               format="encrypted" if data.encrypted else "plain", sequence="0",
               name=data.use_case, type="gbcs")


def smets_data(element: str, success: bool) -> tuple[etree._Element, etree._Element]:
    """MMC `ResponsePayload/SMETSData` with the SRV's element (MessageSuccess set), detached:
    (SMETSData, the SRV element to fill)."""
    smets = etree.Element(ra("SMETSData"))
    return smets, sub(smets, element, MessageSuccess="true" if success else "false")


def response_parts(parent: etree._Element, container: str, values: MmcHeader, *,
                   gbcs: GbcsData | None = None,
                   smets: etree._Element | None = None) -> etree._Element:
    """MMC Schema V5.4: Header, then Body/ResponseMessage (`ResponsePayload`: GBCSData, then
    SMETSData) under `parent`, the Header/Body/ResponseMessage elements in `container`'s
    namespace. Returns the ResponseMessage."""
    header(parent, container, values)
    body = etree.SubElement(parent, f"{{{container}}}Body")
    message = etree.SubElement(body, f"{{{container}}}ResponseMessage")
    if gbcs is not None:
        gbcs_data(message, gbcs)
    if smets is not None:
        message.append(smets)
    return message


@dataclass(frozen=True, slots=True)
class SmetsValues:
    """An SRV's SMETSData given as values: the SRV variant, MessageSuccess, and (element path,
    text) leaves in the field specs' path language (`Electricity/ActiveImportRegister/Value`)."""

    srv: str
    success: bool
    values: tuple[tuple[str, str], ...] = ()
