"""GBZ: the GBCS wrapping of ZigBee ZCL commands (GBCS "GBZ Payload").

A GBZ payload is Profile ID (0x0109), a component count, then components. Each component is
an Extended Header (control field, cluster id, length) around one ZCL frame; when the
control field says so, an Additional Header (control, frame counter) precedes the ZCL header
and the ZCL payload is ciphered (kept here as security header, ciphertext and tag), or a
From Date-Time precedes it. GBZ alerts put Alert Code and Time Stamp before the components.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opendcc.gbcs.payload.errors import BadLength, GbcsError, InvalidTree, Malformed
from opendcc.gbcs.payload.names import (
    ZCL_ATTRIBUTES,
    ZCL_CLUSTERS,
    ZCL_PROFILE_WIDE_COMMANDS,
    zigbee_utc_text,
)
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.tree import Node
from opendcc.gbcs.payload.zcl import (
    ZclCommandPayload,
    ZclFrame,
    attribute_ids,
    read_payload,
    read_zcl_header,
    write_zcl_frame,
)
from opendcc.gbcs.payload.zcl_clusters import LAYOUTS, read_cluster_command

GBZ_PROFILE_ID = 0x0109
ENCRYPTED = 0x02  # Extended Header Control Field: the ZCL payload is ciphered
FROM_DATE_TIME = 0x10  # Extended Header Control Field: a From Date-Time precedes the ZCL header
SECURITY_HEADER_SIZE = 5
TAG_SIZE = 12
FUTURE_DATED_ALERT = 0x8F66
METER_INTEGRITY_ISSUE_WARNING = 0x81A0
OCTET_STRING_TAG = 0x09  # the hash is sent as an A-XDR octet-string, tag and length included
ALERT_CODE_MIN = 0x8000  # alert codes all have the top bit set; control fields never do


@dataclass(frozen=True)
class CipheredZclPayload(ZclCommandPayload):
    """A ciphered ZCL payload: security header, ciphertext and 12-octet authentication tag."""

    TYPE = "ciphered-zcl-payload"
    security_header: bytes
    ciphertext: bytes
    authentication_tag: bytes

    def write(self, out: bytearray) -> None:
        if len(self.security_header) != SECURITY_HEADER_SIZE or len(self.authentication_tag) != TAG_SIZE:
            raise InvalidTree("ciphered payload", "security header is 5 octets, tag 12")
        body = self.security_header + self.ciphertext + self.authentication_tag
        out += len(body).to_bytes(2, "big")
        out += body


@dataclass(frozen=True)
class GbzComponent(Node):
    """GBCS GBZ Payload: one GBZ component (Extended Header, optional headers, ZCL frame)."""

    TYPE = "gbz-component"
    extended_header_control_field: int
    extended_header_cluster_id: int
    zcl_frame: ZclFrame
    additional_header_control: int | None = None
    additional_header_frame_counter: int | None = None
    from_date_time: int | None = None  # UTC seconds since 2000-01-01, as sent (little-endian)

    @property
    def encrypted(self) -> bool:
        return bool(self.extended_header_control_field & ENCRYPTED)

    def notes(self) -> dict[str, str]:
        out: dict[str, str] = {}
        cluster = ZCL_CLUSTERS.get(self.extended_header_cluster_id)
        if cluster:
            out["cluster"] = cluster
        frame = self.zcl_frame
        if frame.cluster_specific:
            layout = LAYOUTS.get((self.extended_header_cluster_id, frame.server_to_client,
                                  frame.command_identifier))
            if layout:
                out["command"] = layout.name
        elif not frame.frame_control & 0x04:
            name = ZCL_PROFILE_WIDE_COMMANDS.get(frame.command_identifier)
            if name:
                out["command"] = name
        if self.from_date_time is not None:
            text = zigbee_utc_text(self.from_date_time)
            if text:
                out["from_date_time"] = text
        attributes = [f"0x{a:04X} {ZCL_ATTRIBUTES[(self.extended_header_cluster_id, a)]}"
                      for a in attribute_ids(frame.payload)
                      if (self.extended_header_cluster_id, a) in ZCL_ATTRIBUTES]
        if attributes:
            out["attributes"] = ", ".join(attributes)
        return out


@dataclass(frozen=True)
class GbzPayload(Node):
    """GBCS GBZ Payload: Profile ID, then the GBZ components (their count is implied)."""

    TYPE = "gbz-payload"
    components: tuple[GbzComponent, ...]
    profile_id: int = GBZ_PROFILE_ID


@dataclass(frozen=True)
class GbzAlertContent(Node):
    """What follows a GBZ alert's time stamp."""


@dataclass(frozen=True)
class GbzAlertComponents(GbzAlertContent):
    TYPE = "gbz-alert-components"
    components: tuple[GbzComponent, ...]


@dataclass(frozen=True)
class FutureDatedAlertPayload(GbzAlertContent):
    """GBCS future-dated alert (0x8F66): which future-dated command was executed."""

    TYPE = "future-dated-alert-payload"
    message_code: int
    originator_counter: int
    cluster_id: int
    frame_control: int
    command_identifier: int


@dataclass(frozen=True)
class MeterIntegrityIssueWarning(GbzAlertContent):
    """GBCS alert 0x81A0: which integrity issue the meter found (e.g. 5, unexpected reset)."""

    TYPE = "meter-integrity-issue-warning"
    other_info: int


@dataclass(frozen=True)
class CalculatedManufacturerHash(GbzAlertContent):
    """Firmware distribution receipt alerts: the hash the device computed over the image."""

    TYPE = "calculated-manufacturer-hash"
    hash: bytes


@dataclass(frozen=True)
class UseCaseSpecificContent(GbzAlertContent):
    """Alert content this codec does not model (e.g. a firmware hash): its octets, unchanged."""

    TYPE = "gbz-use-case-specific-content"
    octets: bytes


@dataclass(frozen=True)
class GbzAlertPayload(Node):
    """GBCS GBZ alert: Profile ID, component count, Alert Code, Time Stamp, content."""

    TYPE = "gbz-alert-payload"
    number_of_components: int
    alert_code: int
    time_stamp: int  # UTC seconds since 2000-01-01, big-endian as GBCS sends it
    content: GbzAlertContent
    profile_id: int = GBZ_PROFILE_ID

    def notes(self) -> dict[str, str]:
        out = {"alert_code": f"0x{self.alert_code:04X}"}
        text = zigbee_utc_text(self.time_stamp)
        if text:
            out["time_stamp"] = text
        return out


# --- decoding ------------------------------------------------------------------------------


def _read_component(r: Reader) -> GbzComponent:
    control = r.u8("extended header control field")
    cluster = r.uint_be(2, "extended header cluster id")
    length = r.uint_be(2, "extended header GBZ command length")
    body = r.sub(length, "GBZ command")
    add_control = add_counter = from_time = None
    if control & ENCRYPTED:
        add_control = body.u8("additional header control")
        add_counter = body.u8("additional header frame counter")
    if control & FROM_DATE_TIME:
        from_time = body.uint_le(4, "from date time")
    frame_control, manufacturer, seq, command = read_zcl_header(body)
    payload: ZclCommandPayload
    if control & ENCRYPTED:
        size = body.uint_be(2, "ciphered information length")
        ciphered = body.sub(size, "ciphered information")
        if size < SECURITY_HEADER_SIZE + TAG_SIZE:
            raise BadLength("ciphered information", ciphered.pos, f"{size} octets is too short")
        header = ciphered.take(SECURITY_HEADER_SIZE, "security header")
        text = ciphered.take(size - SECURITY_HEADER_SIZE - TAG_SIZE, "ciphertext")
        payload = CipheredZclPayload(header, text, ciphered.take(TAG_SIZE, "authentication tag"))
        if not body.at_end():
            raise Malformed("GBZ command", body.pos, f"{body.remaining} bytes after the ciphered payload")
    else:
        payload = read_payload(body, cluster, frame_control, command, read_cluster_command)
    frame = ZclFrame(frame_control, seq, command, payload, manufacturer)
    return GbzComponent(control, cluster, frame, add_control, add_counter, from_time)


def _read_components(r: Reader, count: int) -> tuple[GbzComponent, ...]:
    if count * 8 > r.remaining:  # a component takes at least 8 octets
        raise BadLength("number of GBZ components", r.pos,
                        f"{count} components cannot fit in {r.remaining} bytes")
    components = tuple(_read_component(r) for _ in range(count))
    if not r.at_end():
        raise Malformed("GBZ payload", r.pos, f"{r.remaining} bytes after the last component")
    return components


def _read_future_dated(r: Reader) -> FutureDatedAlertPayload:
    length = r.u8("future dated alert payload length")
    body = r.sub(length, "future dated alert payload")
    content = FutureDatedAlertPayload(
        body.uint_be(2, "message code"), body.uint_be(8, "originator counter"),
        body.uint_be(2, "cluster id"), body.u8("frame control"), body.u8("command identifier"))
    if not body.at_end() or not r.at_end():
        raise Malformed("future dated alert payload", body.pos, "unexpected trailing bytes")
    return content


def _read_integrity(r: Reader) -> MeterIntegrityIssueWarning:
    content = MeterIntegrityIssueWarning(r.uint_be(2, "other info"))
    if not r.at_end():
        raise Malformed("meter integrity issue warning", r.pos, "unexpected trailing bytes")
    return content


def _read_hash(r: Reader) -> CalculatedManufacturerHash:
    start = r.pos
    if r.u8("calculated manufacturer hash tag") != OCTET_STRING_TAG:
        raise Malformed("calculated manufacturer hash", start, "not an octet-string")
    n = r.u8("calculated manufacturer hash length")
    if n >= 0x80 or n != r.remaining:
        raise BadLength("calculated manufacturer hash", start, "length does not fill the alert")
    return CalculatedManufacturerHash(r.take(n, "calculated manufacturer hash"))


#: alert code -> reader of the content that this alert alone has
_ALERT_CONTENT: dict[int, Callable[[Reader], GbzAlertContent]] = {
    FUTURE_DATED_ALERT: _read_future_dated,
    METER_INTEGRITY_ISSUE_WARNING: _read_integrity,
}


def _read_alert_content(r: Reader, alert_code: int, count: int) -> GbzAlertContent:
    start = r.pos
    special = _ALERT_CONTENT.get(alert_code)
    readers: list[Callable[[Reader], GbzAlertContent]] = (
        [special] if special else
        [lambda q: GbzAlertComponents(_read_components(q, count)), _read_hash])
    for read in readers:
        try:
            return read(r)
        except GbcsError:
            r.pos = start
    # Content laid out some other way for this alert: keep it whole rather than guess.
    return UseCaseSpecificContent(r.take(r.remaining, "use case specific content"))


def decode_gbz(data: bytes) -> GbzPayload | GbzAlertPayload:
    """GBCS GBZ Payload: a GBZ payload or GBZ alert payload filling `data`."""
    r = Reader(data)
    profile = r.uint_be(2, "profile id")
    if profile != GBZ_PROFILE_ID:
        raise Malformed("profile id", 0, f"0x{profile:04X} is not the GBZ profile 0x0109")
    count = r.u8("number of GBZ components")
    if not r.at_end() and r.data[r.pos] & 0x80:
        alert_code = r.uint_be(2, "alert code")
        time_stamp = r.uint_be(4, "time stamp")
        return GbzAlertPayload(count, alert_code, time_stamp,
                               _read_alert_content(r, alert_code, count), profile)
    return GbzPayload(_read_components(r, count), profile)


# --- encoding ------------------------------------------------------------------------------


def _write_component(c: GbzComponent, out: bytearray) -> None:
    body = bytearray()
    encrypted = bool(c.extended_header_control_field & ENCRYPTED)
    if encrypted != isinstance(c.zcl_frame.payload, CipheredZclPayload):
        raise InvalidTree("extended header control field",
                          "the encrypted bit must match a ciphered ZCL payload")
    if encrypted:
        if c.additional_header_control is None or c.additional_header_frame_counter is None:
            raise InvalidTree("additional header", "needed when the component is encrypted")
        body.append(c.additional_header_control & 0xFF)
        body.append(c.additional_header_frame_counter & 0xFF)
    if bool(c.extended_header_control_field & FROM_DATE_TIME) != (c.from_date_time is not None):
        raise InvalidTree("from date time", "present exactly when control field bit 4 is set")
    if c.from_date_time is not None:
        body += c.from_date_time.to_bytes(4, "little")
    write_zcl_frame(c.zcl_frame, body)
    out.append(c.extended_header_control_field)
    out += c.extended_header_cluster_id.to_bytes(2, "big")
    out += len(body).to_bytes(2, "big")
    out += body


def encode_gbz(p: GbzPayload | GbzAlertPayload) -> bytes:
    """GBCS GBZ Payload: the bytes of a GBZ payload or GBZ alert payload."""
    out = bytearray()
    try:
        out += p.profile_id.to_bytes(2, "big")
        if isinstance(p, GbzPayload):
            out.append(len(p.components))
            for c in p.components:
                _write_component(c, out)
            return bytes(out)
        out.append(p.number_of_components)
        out += p.alert_code.to_bytes(2, "big")
        out += p.time_stamp.to_bytes(4, "big")
        content = p.content
        if isinstance(content, GbzAlertComponents):
            for c in content.components:
                _write_component(c, out)
        elif isinstance(content, FutureDatedAlertPayload):
            out += bytes([14])
            out += content.message_code.to_bytes(2, "big")
            out += content.originator_counter.to_bytes(8, "big")
            out += content.cluster_id.to_bytes(2, "big")
            out += bytes([content.frame_control, content.command_identifier])
        elif isinstance(content, MeterIntegrityIssueWarning):
            out += content.other_info.to_bytes(2, "big")
        elif isinstance(content, CalculatedManufacturerHash):
            if len(content.hash) >= 0x80:
                raise InvalidTree("calculated manufacturer hash", "longer than 127 octets")
            out += bytes([OCTET_STRING_TAG, len(content.hash)]) + content.hash
        elif isinstance(content, UseCaseSpecificContent):
            out += content.octets
        else:
            raise InvalidTree("gbz alert content", f"unknown content {type(content).__name__}")
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, GbcsError):
            raise
        raise InvalidTree("GBZ payload", f"a field does not fit its size: {exc}") from exc
    return bytes(out)


def decode_deciphered_zcl(component: GbzComponent, plaintext: bytes) -> ZclCommandPayload:
    """The ZCL payload of an encrypted component, from the plaintext its ciphertext opens to.

    Decoded as the component's cluster, frame control and command id say, exactly as a
    plaintext component would be; `encode_zcl_payload` gives the plaintext back.
    """
    frame = component.zcl_frame
    r = Reader(plaintext)
    return read_payload(r, component.extended_header_cluster_id, frame.frame_control,
                        frame.command_identifier, read_cluster_command)


def encode_zcl_payload(payload: ZclCommandPayload) -> bytes:
    """The octets of a ZCL command payload (no ZCL header): the plaintext to encrypt."""
    out = bytearray()
    payload.write(out)
    return bytes(out)
