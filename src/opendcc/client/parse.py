"""Parse: a device's GBCS Response or Alert as typed fields and as MMC 5.4 XML.

DUIS 5.4 §3.6 / MMC Schema V5.4: a DCC user receives device answers as raw GBCS
(`sr:Response/sr:Body/sr:ResponseMessage/sr:GBCSPayload`) and turns them into an
`ra:GBCSResponse` with "Parse and Correlate". `parse()` takes the GBCS octets (binary or hex
text) or the DUIS Response (element or XML octets), checks the device's signature or MAC,
that the message is addressed to the user, decrypts ciphered payload parts with the user's
key-agreement key, and returns a `GBCSResponse`; `.to_mmc_xml()` renders it.
"""

from __future__ import annotations

import base64
import binascii
import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from lxml import etree

from opendcc.client.mmc import decryption
from opendcc.client.mmc.builders import resolve
from opendcc.client.mmc.render import Fill, Rendered, render
from opendcc.client.mmc.tables import tables
from opendcc.client.mmc.values import Outcome, alert_code_of, alert_timestamp_of, outcome_of
from opendcc.duis.parser import parse_xml
from opendcc.gbcs import codec
from opendcc.gbcs.errors import BadMac, BadSignature, GbcsError
from opendcc.gbcs.security import KeyLookup
from opendcc.ids import EUI64

SR = "http://www.dccinterface.co.uk/ServiceUserGateway"
_HEX = re.compile(rb"^[0-9A-Fa-f\s]+$")


class ParseAndCorrelateError(ValueError):
    """Base of Parse and Correlate errors: names the field that is wrong, and what was expected."""

    def __init__(self, field: str, message: str, *, expected: object = None,
                 found: object = None) -> None:
        self.field = field
        self.expected = expected
        self.found = found
        super().__init__(f"{field}: {message}")


class ParseError(ParseAndCorrelateError):
    """The input is not a GBCS Response/Alert (or DUIS Response carrying one) that can be read."""


class NotForThisUser(ParseAndCorrelateError):
    """GBCS §7.2.7: the message's recipient (BusinessTargetID) is not the user parsing it."""


class TamperedMessage(ParseAndCorrelateError):
    """GBCS §4.3.2, §6.2.3: the device's signature or MAC, or a ciphered part's tag, does not verify."""


class UnknownUseCase(ParseAndCorrelateError):
    """GBCS §13: the message code names no use case this parser knows."""


@dataclass(frozen=True)
class GBCSResponse:
    """A device Response or Alert, decoded and checked (fields named as in MMC Schema V5.4)."""

    business_originator: EUI64  # the device
    business_target: EUI64  # the user (or the DCC)
    originator_counter: int
    supplementary_remote_party_id: EUI64 | None
    supplementary_remote_party_counter: int | None
    supplementary_originator_counter: int | None
    message_code: int
    use_case: str
    use_case_title: str
    srv: str | None  # Service Reference Variant, from the DUIS Response or the use-case table
    is_alert: bool
    timestamp: datetime | None
    alert_code: int | None
    gbcs: bytes  # the message as received
    encrypted: bool  # some payload part was ciphered (and has been decrypted into `payload`)
    payload: object  # the payload codec's typed tree, as decoded (ciphered parts still ciphered)
    decrypted: decryption.Decrypted  # its JSON view with ciphered parts decrypted
    outcome: Outcome
    message: codec.GbcsMessage = field(repr=False, compare=False)

    @property
    def content(self) -> bytes:
        """The GBCS payload octets (the APDU content), as the device sent them."""
        return self.message.apdu.content

    @property
    def success(self) -> bool:
        """True when every instruction the device reports on succeeded."""
        return self.outcome.success

    @cached_property
    def rendered(self) -> Rendered:
        """The MMC document and how completely it carries the payload (kept once built)."""
        return render(self)

    @property
    def fill(self) -> Fill:
        """FULL when SMETSData (or the alert content) carries every decoded value."""
        return self.rendered.fill

    def to_mmc_xml(self) -> etree._Element:
        """MMC Schema V5.4: this message as an `ra:GBCSResponse` element (a fresh copy)."""
        return copy.deepcopy(self.rendered.root)

    def to_json(self) -> dict[str, object]:
        """The GBCS codec's JSON view of the message, with the MMC fill status."""
        out = codec.to_json(self.message)
        out["Service Reference Variant"] = self.srv
        out["MMC Fill"] = self.fill.value
        return out


def _gbcs_from_duis(root: etree._Element) -> tuple[bytes, str | None]:
    """DUIS 5.4 sr:Response: the base64 GBCSPayload and the ServiceReferenceVariant."""
    if etree.QName(root).namespace != SR:
        raise ParseError("Response", f"root element {etree.QName(root).localname!r} is not a DUIS sr:Response")
    payload = root.find(f".//{{{SR}}}GBCSPayload")
    if payload is None or not (payload.text or "").strip():
        raise ParseError("GBCSPayload", "the DUIS Response carries no GBCS payload")
    try:
        data = base64.b64decode("".join((payload.text or "").split()), validate=True)
    except binascii.Error as exc:
        raise ParseError("GBCSPayload", f"not base64: {exc}") from None
    srv = root.findtext(f".//{{{SR}}}ServiceReferenceVariant")
    return data, (srv.strip() if srv else None)


def read_input(data: bytes | str | etree._Element) -> tuple[bytes, str | None]:
    """GBCS octets and SRV variant (if known) from binary GBCS, hex text or a DUIS Response."""
    if isinstance(data, etree._Element):
        return _gbcs_from_duis(data)
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    stripped = raw.strip()
    if stripped.startswith(b"<"):
        return _gbcs_from_duis(parse_xml(stripped))
    if stripped and _HEX.match(stripped) and stripped[:2].upper() in (b"DD", b"DF", b"E0"):
        return bytes.fromhex(stripped.decode("ascii")), None
    if raw[:1] in (b"\xdd", b"\xdf"):
        return raw, None
    raise ParseError("GBCS", "neither GBCS octets, hex text nor a DUIS Response")


def _outcome(view: dict[str, object] | None, use_case: str) -> Outcome:
    """The device's outcome; a value GBCS defines as a failure (`tables.json` `failure_values`,
    e.g. GCS31's SampleID 0xFFFF) makes it a failure even when every status reads success."""
    t = tables()
    outcome = outcome_of(view, t.asn1_status.get(use_case))
    failure = t.failure_values.get(use_case)
    if view is not None and failure is not None and resolve(view, failure[0]) == failure[1]:
        return Outcome(success=False, known=True)
    return outcome


def parse(data: bytes | str | etree._Element, *, keys: KeyLookup | None = None,
          user: EUI64 | None = None, srv: str | None = None) -> GBCSResponse:
    """DUIS §3.6 Parse: decode, check and decrypt one device Response or Alert.

    `keys` verify the device's signature/MAC and decrypt ciphered parts (the user's KA key);
    `user` refuses a message addressed to anyone else; `srv` names the Service Reference
    Variant when the input does not (raw GBCS): else the use-case table's first is assumed.
    """
    gbcs, duis_srv = read_input(data)
    try:
        msg = codec.decode(gbcs, keys)
    except (BadMac, BadSignature) as exc:
        raise TamperedMessage(exc.field, exc.message) from None
    except GbcsError as exc:
        raise ParseError(exc.field, f"at offset {exc.offset}: {exc.message}") from None
    if msg.kind not in (codec.MessageKind.RESPONSE, codec.MessageKind.ALERT):
        raise ParseError("CRA Flag", f"a {msg.kind.value} is not a device Response or Alert")
    apdu = msg.apdu
    other = apdu.other_information
    if user is not None and user not in (apdu.recipient, other.remote_party_id):
        raise NotForThisUser("BusinessTargetID", f"the message is for {apdu.recipient}, not {user}",
                             expected=user, found=apdu.recipient)
    if not msg.use_case.known:
        raise UnknownUseCase("GBCSHexadecimalMessageCode",
                             f"0x{apdu.message_code:04X} names no GBCS use case",
                             found=f"{apdu.message_code:04X}")
    is_alert = msg.kind is codec.MessageKind.ALERT
    variant = srv or duis_srv or (None if is_alert else tables().default_srv(msg.use_case.code))
    try:
        view, encrypted = decryption.decrypt_parts(msg, keys)
    except decryption.DecryptionFailed as exc:
        raise TamperedMessage(exc.field, str(exc)) from None
    stamp = apdu.date_time.to_datetime() if apdu.date_time is not None else None
    return GBCSResponse(
        business_originator=apdu.originator,
        business_target=apdu.recipient,
        originator_counter=apdu.originator_counter,
        supplementary_remote_party_id=other.remote_party_id,
        supplementary_remote_party_counter=other.remote_party_counter,
        supplementary_originator_counter=other.originator_counter,
        message_code=apdu.message_code,
        use_case=msg.use_case.code,
        use_case_title=msg.use_case.title,
        srv=variant,
        is_alert=is_alert,
        timestamp=(alert_timestamp_of(apdu.content) or stamp) if is_alert else stamp,
        alert_code=alert_code_of(apdu.content) if is_alert else None,
        gbcs=gbcs,
        encrypted=encrypted,
        payload=msg.payload,
        decrypted=view,
        outcome=_outcome(view.view, msg.use_case.code),
        message=msg,
    )
