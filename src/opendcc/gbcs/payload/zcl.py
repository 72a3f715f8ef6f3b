"""ZigBee ZCL frames (ZCL r6 §2.4) and the profile-wide commands (§2.5) that GBCS uses.

A frame is header (frame control, manufacturer code when the frame control says so,
transaction sequence number, command identifier) plus payload. Profile-wide commands are
decoded field by field; a cluster-specific command's payload is decoded where its layout
is in `zcl_clusters`, otherwise kept as `ClusterCommandPayload` octets (still exact).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from opendcc.gbcs.payload.errors import InvalidTree, Malformed
from opendcc.gbcs.payload.names import ZCL_STATUS
from opendcc.gbcs.payload.reader import Reader
from opendcc.gbcs.payload.tree import Node
from opendcc.gbcs.payload.zcl_types import (
    ANALOG_TYPES,
    ZclValue,
    read_type_id,
    read_typed,
    read_value,
    write_typed,
    write_value,
)

FRAME_TYPE_MASK = 0x03
FRAME_TYPE_PROFILE_WIDE = 0x00
FRAME_TYPE_CLUSTER_SPECIFIC = 0x01
MANUFACTURER_SPECIFIC = 0x04
DIRECTION_SERVER_TO_CLIENT = 0x08


def _status_note(status: int) -> dict[str, str]:
    """The name of a status other than SUCCESS (which needs no note)."""
    name = ZCL_STATUS.get(status) if status else None
    return {"status": name} if name else {}


@dataclass(frozen=True)
class ZclCommandPayload(Node):
    """The payload of one ZCL command (after the ZCL header)."""

    def write(self, out: bytearray) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class ClusterCommandPayload(ZclCommandPayload):
    """A cluster-specific payload this codec does not model: its octets, unchanged."""

    TYPE = "cluster-command-payload"
    octets: bytes

    def write(self, out: bytearray) -> None:
        out += self.octets


@dataclass(frozen=True)
class ReadAttributes(ZclCommandPayload):
    """ZCL §2.5.1 Read Attributes."""

    TYPE = "read-attributes"
    attribute_identifiers: tuple[int, ...]

    def write(self, out: bytearray) -> None:
        for a in self.attribute_identifiers:
            out += _u16(a, "attribute identifier")


@dataclass(frozen=True)
class ReadAttributeStatusRecord(Node):
    TYPE = "read-attribute-status-record"
    attribute_identifier: int
    status: int
    attribute_value: ZclValue | None = None  # present when status is SUCCESS (0x00)

    def notes(self) -> dict[str, str]:
        return _status_note(self.status)


@dataclass(frozen=True)
class ReadAttributesResponse(ZclCommandPayload):
    """ZCL §2.5.2 Read Attributes Response."""

    TYPE = "read-attributes-response"
    read_attribute_status_records: tuple[ReadAttributeStatusRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.read_attribute_status_records:
            out += _u16(rec.attribute_identifier, "attribute identifier")
            out += _u8(rec.status, "status")
            if (rec.status == 0) != (rec.attribute_value is not None):
                raise InvalidTree("read attribute status record",
                                  "a value goes with status SUCCESS, and only with it")
            if rec.attribute_value is not None:
                write_typed(rec.attribute_value, out)


@dataclass(frozen=True)
class WriteAttributeRecord(Node):
    TYPE = "write-attribute-record"
    attribute_identifier: int
    attribute_data: ZclValue


@dataclass(frozen=True)
class WriteAttributes(ZclCommandPayload):
    """ZCL §2.5.3-5: Write Attributes (also Undivided and No Response: same payload)."""

    TYPE = "write-attributes"
    write_attribute_records: tuple[WriteAttributeRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.write_attribute_records:
            out += _u16(rec.attribute_identifier, "attribute identifier")
            write_typed(rec.attribute_data, out)


@dataclass(frozen=True)
class WriteAttributeStatusRecord(Node):
    TYPE = "write-attribute-status-record"
    status: int
    attribute_identifier: int | None = None  # absent when every write succeeded

    def notes(self) -> dict[str, str]:
        return _status_note(self.status)


@dataclass(frozen=True)
class WriteAttributesResponse(ZclCommandPayload):
    """ZCL §2.5.5 Write Attributes Response."""

    TYPE = "write-attributes-response"
    write_attribute_status_records: tuple[WriteAttributeStatusRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.write_attribute_status_records:
            out += _u8(rec.status, "status")
            if rec.attribute_identifier is not None:
                out += _u16(rec.attribute_identifier, "attribute identifier")


@dataclass(frozen=True)
class AttributeReportingConfigurationRecord(Node):
    """ZCL §2.5.7.1: direction 0 configures reports sent, 1 the timeout for reports received."""

    TYPE = "attribute-reporting-configuration-record"
    direction: int
    attribute_identifier: int
    attribute_data_type: int | None = None
    minimum_reporting_interval: int | None = None
    maximum_reporting_interval: int | None = None
    reportable_change: ZclValue | None = None
    timeout_period: int | None = None


def _read_reporting_config(r: Reader, direction: int, attribute: int
                           ) -> AttributeReportingConfigurationRecord:
    if direction == 0:
        data_type = read_type_id(r)
        low = r.uint_le(2, "minimum reporting interval")
        high = r.uint_le(2, "maximum reporting interval")
        change = read_value(r, data_type) if data_type in ANALOG_TYPES else None
        return AttributeReportingConfigurationRecord(direction, attribute, data_type, low, high,
                                                     change)
    if direction == 1:
        return AttributeReportingConfigurationRecord(
            direction, attribute, timeout_period=r.uint_le(2, "timeout period"))
    raise Malformed("direction", r.pos - 3, f"direction {direction} is neither 0 nor 1")


def _write_reporting_config(rec: AttributeReportingConfigurationRecord, out: bytearray) -> None:
    out += _u8(rec.direction, "direction")
    out += _u16(rec.attribute_identifier, "attribute identifier")
    if rec.direction == 0:
        if (rec.attribute_data_type is None or rec.minimum_reporting_interval is None
                or rec.maximum_reporting_interval is None):
            raise InvalidTree("reporting configuration", "direction 0 needs type and intervals")
        out += _u8(rec.attribute_data_type, "attribute data type")
        out += _u16(rec.minimum_reporting_interval, "minimum reporting interval")
        out += _u16(rec.maximum_reporting_interval, "maximum reporting interval")
        if (rec.attribute_data_type in ANALOG_TYPES) != (rec.reportable_change is not None):
            raise InvalidTree("reporting configuration",
                              "a reportable change goes with an analog type, and only with it")
        if rec.reportable_change is not None:
            write_value(rec.reportable_change, out)
    else:
        if rec.timeout_period is None:
            raise InvalidTree("reporting configuration", "direction 1 needs a timeout period")
        out += _u16(rec.timeout_period, "timeout period")


@dataclass(frozen=True)
class ConfigureReporting(ZclCommandPayload):
    """ZCL §2.5.7 Configure Reporting."""

    TYPE = "configure-reporting"
    attribute_reporting_configuration_records: tuple[AttributeReportingConfigurationRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.attribute_reporting_configuration_records:
            _write_reporting_config(rec, out)


@dataclass(frozen=True)
class AttributeStatusRecord(Node):
    TYPE = "attribute-status-record"
    status: int
    direction: int | None = None  # absent in the single-octet all-succeeded form
    attribute_identifier: int | None = None


@dataclass(frozen=True)
class ConfigureReportingResponse(ZclCommandPayload):
    """ZCL §2.5.8 Configure Reporting Response."""

    TYPE = "configure-reporting-response"
    attribute_status_records: tuple[AttributeStatusRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.attribute_status_records:
            out += _u8(rec.status, "status")
            if rec.direction is not None and rec.attribute_identifier is not None:
                out += _u8(rec.direction, "direction")
                out += _u16(rec.attribute_identifier, "attribute identifier")


@dataclass(frozen=True)
class AttributeRecord(Node):
    TYPE = "attribute-record"
    direction: int
    attribute_identifier: int


@dataclass(frozen=True)
class ReadReportingConfiguration(ZclCommandPayload):
    """ZCL §2.5.9 Read Reporting Configuration."""

    TYPE = "read-reporting-configuration"
    attribute_records: tuple[AttributeRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.attribute_records:
            out += _u8(rec.direction, "direction")
            out += _u16(rec.attribute_identifier, "attribute identifier")


@dataclass(frozen=True)
class ReportingConfigurationRecord(Node):
    TYPE = "attribute-reporting-configuration-status-record"
    status: int
    direction: int
    attribute_identifier: int
    configuration: AttributeReportingConfigurationRecord | None = None  # when status SUCCESS


@dataclass(frozen=True)
class ReadReportingConfigurationResponse(ZclCommandPayload):
    """ZCL §2.5.10 Read Reporting Configuration Response."""

    TYPE = "read-reporting-configuration-response"
    attribute_reporting_configuration_records: tuple[ReportingConfigurationRecord, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.attribute_reporting_configuration_records:
            out += _u8(rec.status, "status")
            if rec.configuration is None:
                out += _u8(rec.direction, "direction")
                out += _u16(rec.attribute_identifier, "attribute identifier")
            else:
                _write_reporting_config(rec.configuration, out)


@dataclass(frozen=True)
class AttributeReport(Node):
    TYPE = "attribute-report"
    attribute_identifier: int
    attribute_data: ZclValue


@dataclass(frozen=True)
class ReportAttributes(ZclCommandPayload):
    """ZCL §2.5.11 Report Attributes."""

    TYPE = "report-attributes"
    attribute_reports: tuple[AttributeReport, ...]

    def write(self, out: bytearray) -> None:
        for rec in self.attribute_reports:
            out += _u16(rec.attribute_identifier, "attribute identifier")
            write_typed(rec.attribute_data, out)


@dataclass(frozen=True)
class DefaultResponse(ZclCommandPayload):
    """ZCL §2.5.12 Default Response."""

    TYPE = "default-response"
    command_identifier: int
    status_code: int

    def notes(self) -> dict[str, str]:
        return _status_note(self.status_code)

    def write(self, out: bytearray) -> None:
        out += _u8(self.command_identifier, "command identifier")
        out += _u8(self.status_code, "status code")


@dataclass(frozen=True)
class DiscoverAttributes(ZclCommandPayload):
    """ZCL §2.5.13 Discover Attributes."""

    TYPE = "discover-attributes"
    start_attribute_identifier: int
    maximum_attribute_identifiers: int

    def write(self, out: bytearray) -> None:
        out += _u16(self.start_attribute_identifier, "start attribute identifier")
        out += _u8(self.maximum_attribute_identifiers, "maximum attribute identifiers")


@dataclass(frozen=True)
class AttributeInformation(Node):
    TYPE = "attribute-information"
    attribute_identifier: int
    attribute_data_type: int


@dataclass(frozen=True)
class DiscoverAttributesResponse(ZclCommandPayload):
    """ZCL §2.5.14 Discover Attributes Response."""

    TYPE = "discover-attributes-response"
    discovery_complete: int
    attribute_information: tuple[AttributeInformation, ...]

    def write(self, out: bytearray) -> None:
        out += _u8(self.discovery_complete, "discovery complete")
        for rec in self.attribute_information:
            out += _u16(rec.attribute_identifier, "attribute identifier")
            out += _u8(rec.attribute_data_type, "attribute data type")


# --- readers of the profile-wide payloads ---------------------------------------------------


R = TypeVar("R", bound=Node)


def _records(r: Reader, one: Callable[[Reader], R]) -> tuple[R, ...]:
    """Records repeated to the end of the payload."""
    items: list[R] = []
    while not r.at_end():
        items.append(one(r))
    return tuple(items)


def _read_status_record(r: Reader) -> ReadAttributeStatusRecord:
    attribute = r.uint_le(2, "attribute identifier")
    status = r.u8("status")
    value = read_typed(r) if status == 0 else None
    return ReadAttributeStatusRecord(attribute, status, value)


def _read_write_status(r: Reader) -> WriteAttributeStatusRecord:
    status = r.u8("status")
    if status == 0 and r.at_end():
        return WriteAttributeStatusRecord(status)
    return WriteAttributeStatusRecord(status, r.uint_le(2, "attribute identifier"))


def _read_config_record(r: Reader) -> AttributeReportingConfigurationRecord:
    direction = r.u8("direction")
    return _read_reporting_config(r, direction, r.uint_le(2, "attribute identifier"))


def _read_attribute_status(r: Reader) -> AttributeStatusRecord:
    status = r.u8("status")
    if r.at_end() and status == 0:
        return AttributeStatusRecord(status)
    return AttributeStatusRecord(status, r.u8("direction"), r.uint_le(2, "attribute identifier"))


def _read_config_status(r: Reader) -> ReportingConfigurationRecord:
    status = r.u8("status")
    direction = r.u8("direction")
    attribute = r.uint_le(2, "attribute identifier")
    config = _read_reporting_config(r, direction, attribute) if status == 0 else None
    return ReportingConfigurationRecord(status, direction, attribute, config)


def _read_discover_response(r: Reader) -> DiscoverAttributesResponse:
    complete = r.u8("discovery complete")
    items = []
    while not r.at_end():
        items.append(AttributeInformation(r.uint_le(2, "attribute identifier"),
                                          r.u8("attribute data type")))
    return DiscoverAttributesResponse(complete, tuple(items))


PayloadReader = Callable[[Reader], ZclCommandPayload]

#: ZCL Table 2-3: profile-wide command identifier -> payload reader.
PROFILE_WIDE: dict[int, PayloadReader] = {
    0x00: lambda r: ReadAttributes(tuple(r.uint_le(2, "attribute identifier")
                                         for _ in range(_count(r, 2, "attribute identifiers")))),
    0x01: lambda r: ReadAttributesResponse(_records(r, _read_status_record)),
    0x02: lambda r: WriteAttributes(_records(r, _read_write_record)),
    0x03: lambda r: WriteAttributes(_records(r, _read_write_record)),
    0x04: lambda r: WriteAttributesResponse(_records(r, _read_write_status)),
    0x05: lambda r: WriteAttributes(_records(r, _read_write_record)),
    0x06: lambda r: ConfigureReporting(_records(r, _read_config_record)),
    0x07: lambda r: ConfigureReportingResponse(_records(r, _read_attribute_status)),
    0x08: lambda r: ReadReportingConfiguration(_records(r, lambda q: AttributeRecord(
        q.u8("direction"), q.uint_le(2, "attribute identifier")))),
    0x09: lambda r: ReadReportingConfigurationResponse(_records(r, _read_config_status)),
    0x0A: lambda r: ReportAttributes(_records(r, lambda q: AttributeReport(
        q.uint_le(2, "attribute identifier"), read_typed(q)))),
    0x0B: lambda r: DefaultResponse(r.u8("command identifier"), r.u8("status code")),
    0x0C: lambda r: DiscoverAttributes(r.uint_le(2, "start attribute identifier"),
                                       r.u8("maximum attribute identifiers")),
    0x0D: _read_discover_response,
}


def _read_write_record(r: Reader) -> WriteAttributeRecord:
    return WriteAttributeRecord(r.uint_le(2, "attribute identifier"), read_typed(r))


def _count(r: Reader, size: int, what: str) -> int:
    if r.remaining % size:
        raise Malformed(what, r.pos, f"{r.remaining} bytes is not a whole number of {size}-byte items")
    return r.remaining // size


def _u8(v: int, what: str) -> bytes:
    if not 0 <= v <= 0xFF:
        raise InvalidTree(what, f"{v} does not fit one octet")
    return bytes([v])


def _u16(v: int, what: str) -> bytes:
    if not 0 <= v <= 0xFFFF:
        raise InvalidTree(what, f"{v} does not fit two octets")
    return v.to_bytes(2, "little")


# --- the frame ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZclFrame(Node):
    """ZCL §2.4.1: a general ZCL frame."""

    TYPE = "zcl-frame"
    frame_control: int
    transaction_sequence_number: int
    command_identifier: int
    payload: ZclCommandPayload
    manufacturer_code: int | None = None

    @property
    def cluster_specific(self) -> bool:
        return self.frame_control & FRAME_TYPE_MASK == FRAME_TYPE_CLUSTER_SPECIFIC

    @property
    def server_to_client(self) -> bool:
        return bool(self.frame_control & DIRECTION_SERVER_TO_CLIENT)


def read_zcl_header(r: Reader) -> tuple[int, int | None, int, int]:
    """Frame control, manufacturer code (or None), transaction sequence number, command id."""
    frame_control = r.u8("frame control")
    manufacturer = r.uint_le(2, "manufacturer code") if frame_control & MANUFACTURER_SPECIFIC else None
    return frame_control, manufacturer, r.u8("transaction sequence number"), r.u8("command identifier")


def write_zcl_header(f: ZclFrame, out: bytearray) -> None:
    out += _u8(f.frame_control, "frame control")
    if bool(f.frame_control & MANUFACTURER_SPECIFIC) != (f.manufacturer_code is not None):
        raise InvalidTree("manufacturer code", "present exactly when frame control bit 2 is set")
    if f.manufacturer_code is not None:
        out += _u16(f.manufacturer_code, "manufacturer code")
    out += _u8(f.transaction_sequence_number, "transaction sequence number")
    out += _u8(f.command_identifier, "command identifier")


ClusterReader = Callable[[int, int, bool, Reader], "ZclCommandPayload | None"]


def read_payload(r: Reader, cluster_id: int, frame_control: int, command: int,
                 cluster_reader: ClusterReader | None = None) -> ZclCommandPayload:
    """The payload of a command: profile-wide, a modelled cluster command, or raw octets."""
    frame_type = frame_control & FRAME_TYPE_MASK
    if frame_type == FRAME_TYPE_PROFILE_WIDE and not frame_control & MANUFACTURER_SPECIFIC:
        reader = PROFILE_WIDE.get(command)
        if reader is not None:
            payload = reader(r)
            if not r.at_end():
                raise Malformed("ZCL payload", r.pos, f"{r.remaining} bytes after the command")
            return payload
    elif frame_type == FRAME_TYPE_CLUSTER_SPECIFIC and cluster_reader is not None:
        start = r.pos
        modelled = cluster_reader(cluster_id, command,
                                  bool(frame_control & DIRECTION_SERVER_TO_CLIENT), r)
        if modelled is not None:
            if not r.at_end():
                raise Malformed("ZCL payload", r.pos, f"{r.remaining} bytes after the command")
            return modelled
        r.pos = start
    elif frame_type not in (FRAME_TYPE_PROFILE_WIDE, FRAME_TYPE_CLUSTER_SPECIFIC):
        raise Malformed("frame control", r.pos, f"reserved frame type {frame_type}")
    return ClusterCommandPayload(r.take(r.remaining, "ZCL payload"))


def read_zcl_frame(r: Reader, cluster_id: int, cluster_reader: ClusterReader | None = None
                   ) -> ZclFrame:
    """ZCL §2.4.1: header and payload, filling the reader."""
    frame_control, manufacturer, seq, command = read_zcl_header(r)
    payload = read_payload(r, cluster_id, frame_control, command, cluster_reader)
    return ZclFrame(frame_control, seq, command, payload, manufacturer)


def write_zcl_frame(f: ZclFrame, out: bytearray) -> None:
    write_zcl_header(f, out)
    f.payload.write(out)


def attribute_ids(payload: ZclCommandPayload) -> list[int]:
    """The attribute identifiers a profile-wide payload names, in order (for notes)."""
    if isinstance(payload, ReadAttributes):
        return list(payload.attribute_identifiers)
    records: tuple[Node, ...] = ()
    for name in ("read_attribute_status_records", "write_attribute_records", "attribute_reports",
                 "attribute_reporting_configuration_records", "attribute_records",
                 "attribute_information"):
        records = getattr(payload, name, records)
    found = [getattr(r, "attribute_identifier", None) for r in records]
    return [a for a in found if isinstance(a, int)]
