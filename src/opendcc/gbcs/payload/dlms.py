"""xDLMS APDUs as GBCS carries them (DLMS UA 1000-2 "Green Book" §9.5, as profiled by GBCS).

GBCS uses the ACCESS service (access-request 0xD9 / access-response 0xDA) and
data-notification (0x0F) for alerts; the GET / SET / ACTION / event-notification /
exception-response APDUs are also coded. Each APDU class lists its fields in `LAYOUT`, a
table of (field name, field codec), and one generic reader/writer walks that table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from opendcc.gbcs.payload.axdr import (
    Data,
    LongUnsigned,
    OctetString,
    Structure,
    read_data,
    write_data,
)
from opendcc.gbcs.payload.errors import BadLength, InvalidTree, Malformed
from opendcc.gbcs.payload.names import (
    ACTION_RESULTS,
    COSEM_CLASSES,
    DATA_ACCESS_RESULTS,
    cosem_date_time_text,
)
from opendcc.gbcs.payload.reader import Reader, ber_length_bytes
from opendcc.gbcs.payload.tree import Node

ReadFn = Callable[[Reader], Any]
WriteFn = Callable[[Any, bytearray], None]


@dataclass(frozen=True)
class FieldCodec:
    """How one APDU field is read and written."""

    read: ReadFn
    write: WriteFn


def _uint(size: int, what: str) -> FieldCodec:
    def write(v: Any, out: bytearray) -> None:
        try:
            out += int(v).to_bytes(size, "big")
        except OverflowError as exc:
            raise InvalidTree(what, f"{v} does not fit {size} octets") from exc

    return FieldCodec(lambda r: r.uint_be(size, what), write)


def _octet_string(what: str) -> FieldCodec:
    def read(r: Reader) -> bytes:
        return r.take(r.ber_length(f"{what} length")[0], what)

    def write(v: Any, out: bytearray) -> None:
        out += ber_length_bytes(len(v))
        out += v

    return FieldCodec(read, write)


def _optional(inner: FieldCodec, what: str) -> FieldCodec:
    """A-XDR OPTIONAL: a presence octet (0 absent, 1 present) before the value."""

    def read(r: Reader) -> Any:
        start = r.pos
        flag = r.u8(f"{what} presence")
        if flag == 0:
            return None
        if flag != 1:
            raise Malformed(what, start, f"presence flag {flag} is neither 0 nor 1")
        return inner.read(r)

    def write(v: Any, out: bytearray) -> None:
        if v is None:
            out.append(0)
        else:
            out.append(1)
            inner.write(v, out)

    return FieldCodec(read, write)


def _sequence_of(inner: FieldCodec, what: str) -> FieldCodec:
    def read(r: Reader) -> tuple[Any, ...]:
        count = r.ber_length(f"{what} count")[0]
        if count > r.remaining:
            raise BadLength(what, r.pos, f"{count} items cannot fit in {r.remaining} bytes")
        return tuple(inner.read(r) for _ in range(count))

    def write(v: Any, out: bytearray) -> None:
        out += ber_length_bytes(len(v))
        for item in v:
            inner.write(item, out)

    return FieldCodec(read, write)


DATA = FieldCodec(read_data, write_data)
U8 = _uint(1, "invoke-id-and-priority")
ENUM = _uint(1, "result")
U32 = _uint(4, "block-number")
LONG_INVOKE_ID = _uint(4, "long-invoke-id-and-priority")
DATE_TIME = _octet_string("date-time")
RAW_DATA = _octet_string("raw-data")


@dataclass(frozen=True)
class Structured(Node):
    """A node read and written field by field from its `LAYOUT`."""

    LAYOUT: ClassVar[tuple[tuple[str, FieldCodec], ...]] = ()

    @classmethod
    def read_fields(cls, r: Reader) -> Structured:
        return cls(**{name: codec.read(r) for name, codec in cls.LAYOUT})

    def write_fields(self, out: bytearray) -> None:
        for name, codec in self.LAYOUT:
            codec.write(getattr(self, name), out)


def _node(cls: type[Structured]) -> FieldCodec:
    def write(v: Any, out: bytearray) -> None:
        if not isinstance(v, cls):
            raise InvalidTree(cls.TYPE, f"expected {cls.__name__}, got {type(v).__name__}")
        v.write_fields(out)

    return FieldCodec(cls.read_fields, write)


def _choice(alternatives: dict[int, type[Structured]], what: str) -> FieldCodec:
    """A CHOICE: one tag octet selects the alternative."""
    tags = {cls: tag for tag, cls in alternatives.items()}

    def read(r: Reader) -> Structured:
        start = r.pos
        tag = r.u8(what)
        cls = alternatives.get(tag)
        if cls is None:
            raise Malformed(what, start, f"unknown choice {tag}")
        return cls.read_fields(r)

    def write(v: Any, out: bytearray) -> None:
        tag = tags.get(type(v))
        if tag is None:
            raise InvalidTree(what, f"{type(v).__name__} is not one of its choices")
        out.append(tag)
        v.write_fields(out)

    return FieldCodec(read, write)


# --- COSEM descriptors (Green Book §9.5 Cosem-Attribute-Descriptor etc.) ----------------


def obis_text(instance_id: bytes) -> str:
    """OBIS code in the Blue Book's A-B:C.D.E.F value-group notation."""
    a, b, c, d, e, f = instance_id
    return f"{a}-{b}:{c}.{d}.{e}.{f}"


def _obis_read(r: Reader) -> str:
    return obis_text(r.take(6, "cosem-object-instance-id"))


def _obis_write(v: Any, out: bytearray) -> None:
    try:
        ab, cdef = str(v).split(":")
        parts = [int(p) for p in ab.split("-")] + [int(p) for p in cdef.split(".")]
        out += bytes(parts)
        if len(parts) != 6:
            raise ValueError
    except ValueError as exc:
        raise InvalidTree("instance-id", f"{v!r} is not an OBIS code A-B:C.D.E.F") from exc


OBIS = FieldCodec(_obis_read, _obis_write)
CLASS_ID = _uint(2, "cosem-class-id")
ATTRIBUTE_ID = _uint(1, "cosem-object-attribute-id")
METHOD_ID = _uint(1, "cosem-object-method-id")


def _class_note(class_id: int) -> dict[str, str]:
    name = COSEM_CLASSES.get(class_id)
    return {"class": name} if name else {}


def _result_note(table: dict[int, str], result: int) -> dict[str, str]:
    name = table.get(result)
    return {"result": name} if name else {}


FUTURE_DATED_ALERT = 0x8F66


def _future_dated_notes(payload: Data) -> dict[str, str]:
    """GBCS alert 0x8F66: message code, originator counter and the COSEM attribute executed."""
    if not isinstance(payload, OctetString) or len(payload.value) != 19:
        return {}
    octets = payload.value
    class_id = int.from_bytes(octets[10:12], "big")
    name = COSEM_CLASSES.get(class_id, f"class {class_id}")
    return {
        "message_code": f"0x{int.from_bytes(octets[0:2], 'big'):04X}",
        "originator_counter": str(int.from_bytes(octets[2:10], "big")),
        "attribute": f"{name} {obis_text(octets[12:18])} attribute {octets[18]}",
    }


def _date_time_note(octets: bytes | None) -> dict[str, str]:
    text = cosem_date_time_text(octets) if octets else None
    return {"date_time": text} if text else {}


@dataclass(frozen=True)
class CosemAttributeDescriptor(Structured):
    TYPE = "cosem-attribute-descriptor"
    LAYOUT = (("class_id", CLASS_ID), ("instance_id", OBIS), ("attribute_id", ATTRIBUTE_ID))
    class_id: int
    instance_id: str
    attribute_id: int

    def notes(self) -> dict[str, str]:
        return _class_note(self.class_id)


@dataclass(frozen=True)
class CosemMethodDescriptor(Structured):
    TYPE = "cosem-method-descriptor"
    LAYOUT = (("class_id", CLASS_ID), ("instance_id", OBIS), ("method_id", METHOD_ID))
    class_id: int
    instance_id: str
    method_id: int

    def notes(self) -> dict[str, str]:
        return _class_note(self.class_id)


@dataclass(frozen=True)
class SelectiveAccessDescriptor(Structured):
    TYPE = "selective-access-descriptor"
    LAYOUT = (("access_selector", _uint(1, "access-selector")), ("access_parameters", DATA))
    access_selector: int
    access_parameters: Data


ATTR = _node(CosemAttributeDescriptor)
METHOD = _node(CosemMethodDescriptor)
SELECTION = _optional(_node(SelectiveAccessDescriptor), "access-selection")


@dataclass(frozen=True)
class AttributeDescriptorWithSelection(Structured):
    TYPE = "cosem-attribute-descriptor-with-selection"
    LAYOUT = (("cosem_attribute_descriptor", ATTR), ("access_selection", SELECTION))
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None = None


ATTR_LIST = _sequence_of(_node(AttributeDescriptorWithSelection), "attribute-descriptor-list")


# --- ACCESS service (Green Book §9.5 Access-Request / Access-Response) -------------------


@dataclass(frozen=True)
class AccessRequestGet(Structured):
    TYPE = "access-request-get"
    LAYOUT = (("cosem_attribute_descriptor", ATTR),)
    cosem_attribute_descriptor: CosemAttributeDescriptor


@dataclass(frozen=True)
class AccessRequestSet(Structured):
    TYPE = "access-request-set"
    LAYOUT = (("cosem_attribute_descriptor", ATTR),)
    cosem_attribute_descriptor: CosemAttributeDescriptor


@dataclass(frozen=True)
class AccessRequestAction(Structured):
    TYPE = "access-request-action"
    LAYOUT = (("cosem_method_descriptor", METHOD),)
    cosem_method_descriptor: CosemMethodDescriptor


@dataclass(frozen=True)
class AccessRequestGetWithSelection(Structured):
    TYPE = "access-request-get-with-selection"
    LAYOUT = (("cosem_attribute_descriptor", ATTR),
              ("access_selection", _node(SelectiveAccessDescriptor)))
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor


@dataclass(frozen=True)
class AccessRequestSetWithSelection(Structured):
    TYPE = "access-request-set-with-selection"
    LAYOUT = (("cosem_attribute_descriptor", ATTR),
              ("access_selection", _node(SelectiveAccessDescriptor)))
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor


ACCESS_REQUEST_SPECIFICATION = _choice(
    {1: AccessRequestGet, 2: AccessRequestSet, 3: AccessRequestAction,
     4: AccessRequestGetWithSelection, 5: AccessRequestSetWithSelection},
    "access-request-specification",
)


@dataclass(frozen=True)
class AccessResponseGet(Structured):
    TYPE = "access-response-get"
    LAYOUT = (("result", ENUM),)
    result: int  # Data-Access-Result

    def notes(self) -> dict[str, str]:
        return _result_note(DATA_ACCESS_RESULTS, self.result)


@dataclass(frozen=True)
class AccessResponseSet(Structured):
    TYPE = "access-response-set"
    LAYOUT = (("result", ENUM),)
    result: int  # Data-Access-Result

    def notes(self) -> dict[str, str]:
        return _result_note(DATA_ACCESS_RESULTS, self.result)


@dataclass(frozen=True)
class AccessResponseAction(Structured):
    TYPE = "access-response-action"
    LAYOUT = (("result", ENUM),)
    result: int  # Action-Result

    def notes(self) -> dict[str, str]:
        return _result_note(ACTION_RESULTS, self.result)


ACCESS_RESPONSE_SPECIFICATION = _choice(
    {1: AccessResponseGet, 2: AccessResponseSet, 3: AccessResponseAction},
    "access-response-specification",
)


@dataclass(frozen=True)
class Apdu(Structured):
    """An xDLMS APDU: `TAG` is its APDU tag, then the CHOICE octet where the APDU has one."""

    TAG: ClassVar[tuple[int, ...]] = ()


@dataclass(frozen=True)
class AccessRequest(Apdu):
    TYPE = "access-request"
    TAG = (0xD9,)
    LAYOUT = (
        ("long_invoke_id_and_priority", LONG_INVOKE_ID),
        ("date_time", DATE_TIME),
        ("access_request_list_of_specification",
         _sequence_of(ACCESS_REQUEST_SPECIFICATION, "access-request-list-of-specification")),
        ("access_request_list_of_data", _sequence_of(DATA, "access-request-list-of-data")),
    )
    long_invoke_id_and_priority: int
    date_time: bytes
    access_request_list_of_specification: tuple[Structured, ...]
    access_request_list_of_data: tuple[Data, ...]

    def notes(self) -> dict[str, str]:
        return _date_time_note(self.date_time)


@dataclass(frozen=True)
class AccessResponse(Apdu):
    TYPE = "access-response"
    TAG = (0xDA,)
    LAYOUT = (
        ("long_invoke_id_and_priority", LONG_INVOKE_ID),
        ("date_time", DATE_TIME),
        ("access_request_specification",
         _optional(_sequence_of(ACCESS_REQUEST_SPECIFICATION, "access-request-specification"),
                   "access-request-specification")),
        ("access_response_list_of_data", _sequence_of(DATA, "access-response-list-of-data")),
        ("access_response_specification",
         _sequence_of(ACCESS_RESPONSE_SPECIFICATION, "access-response-specification")),
    )
    long_invoke_id_and_priority: int
    date_time: bytes
    access_request_specification: tuple[Structured, ...] | None
    access_response_list_of_data: tuple[Data, ...]
    access_response_specification: tuple[Structured, ...]

    def notes(self) -> dict[str, str]:
        return _date_time_note(self.date_time)


@dataclass(frozen=True)
class DataNotification(Apdu):
    """Green Book §9.5 Data-Notification; GBCS alerts put alert code, time and body in it."""

    TYPE = "data-notification"
    TAG = (0x0F,)
    LAYOUT = (
        ("long_invoke_id_and_priority", LONG_INVOKE_ID),
        ("date_time", DATE_TIME),
        ("notification_body", DATA),
    )
    long_invoke_id_and_priority: int
    date_time: bytes
    notification_body: Data

    def notes(self) -> dict[str, str]:
        """GBCS alerts: the body is a structure of alert code, time stamp and content."""
        out = _date_time_note(self.date_time)
        body = self.notification_body
        if isinstance(body, Structure) and body.elements:
            first = body.elements[0]
            if isinstance(first, LongUnsigned):
                out["alert_code"] = f"0x{first.value:04X}"
                if first.value == FUTURE_DATED_ALERT and len(body.elements) == 3:
                    out.update(_future_dated_notes(body.elements[2]))
        return out


@dataclass(frozen=True)
class EventNotificationRequest(Apdu):
    TYPE = "event-notification-request"
    TAG = (0xC2,)
    LAYOUT = (
        ("time", _optional(DATE_TIME, "time")),
        ("cosem_attribute_descriptor", ATTR),
        ("attribute_value", DATA),
    )
    time: bytes | None
    cosem_attribute_descriptor: CosemAttributeDescriptor
    attribute_value: Data


@dataclass(frozen=True)
class ExceptionResponse(Apdu):
    """Green Book §9.5 ExceptionResponse: state-error, then service-error CHOICE and its value."""

    TYPE = "exception-response"
    TAG = (0xD8,)
    LAYOUT = (("state_error", _uint(1, "state-error")),
              ("service_error", _uint(1, "service-error")),
              ("service_error_value", _uint(1, "service-error value")))
    state_error: int
    service_error: int
    service_error_value: int


# --- GET / SET / ACTION (Green Book §9.5 Get-Request etc.) -----------------------------


@dataclass(frozen=True)
class DataBlockSA(Structured):
    """DataBlock-SA: a block of a long SET / ACTION parameter."""

    TYPE = "datablock-sa"
    LAYOUT = (("last_block", _uint(1, "last-block")), ("block_number", U32),
              ("raw_data", RAW_DATA))
    last_block: int
    block_number: int
    raw_data: bytes


@dataclass(frozen=True)
class GetDataResultData(Structured):
    TYPE = "get-data-result-data"
    LAYOUT = (("data", DATA),)
    data: Data


@dataclass(frozen=True)
class GetDataResultAccessResult(Structured):
    TYPE = "get-data-result-data-access-result"
    LAYOUT = (("data_access_result", ENUM),)
    data_access_result: int

    def notes(self) -> dict[str, str]:
        return _result_note(DATA_ACCESS_RESULTS, self.data_access_result)


GET_DATA_RESULT = _choice({0: GetDataResultData, 1: GetDataResultAccessResult},
                          "get-data-result")


@dataclass(frozen=True)
class DataBlockGRawData(Structured):
    TYPE = "datablock-g-raw-data"
    LAYOUT = (("raw_data", RAW_DATA),)
    raw_data: bytes


DATABLOCK_G_RESULT = _choice({0: DataBlockGRawData, 1: GetDataResultAccessResult},
                             "datablock-g result")


@dataclass(frozen=True)
class ActionResponseWithOptionalData(Structured):
    TYPE = "action-response-with-optional-data"
    LAYOUT = (("result", ENUM), ("return_parameters", _optional(GET_DATA_RESULT, "return-parameters")))
    result: int
    return_parameters: Structured | None = None

    def notes(self) -> dict[str, str]:
        return _result_note(ACTION_RESULTS, self.result)


INVOKE = ("invoke_id_and_priority", U8)
PBLOCK = ("pblock", _node(DataBlockSA))
BLOCK_NUMBER = ("block_number", U32)
RESULTS = ("results", _sequence_of(ENUM, "result list"))


@dataclass(frozen=True)
class GetRequestNormal(Apdu):
    TYPE = "get-request-normal"
    TAG = (0xC0, 1)
    LAYOUT = (INVOKE, ("cosem_attribute_descriptor", ATTR), ("access_selection", SELECTION))
    invoke_id_and_priority: int
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None = None


@dataclass(frozen=True)
class GetRequestNext(Apdu):
    TYPE = "get-request-next"
    TAG = (0xC0, 2)
    LAYOUT = (INVOKE, BLOCK_NUMBER)
    invoke_id_and_priority: int
    block_number: int


@dataclass(frozen=True)
class GetRequestWithList(Apdu):
    TYPE = "get-request-with-list"
    TAG = (0xC0, 3)
    LAYOUT = (INVOKE, ("attribute_descriptor_list", ATTR_LIST))
    invoke_id_and_priority: int
    attribute_descriptor_list: tuple[AttributeDescriptorWithSelection, ...]


@dataclass(frozen=True)
class GetResponseNormal(Apdu):
    TYPE = "get-response-normal"
    TAG = (0xC4, 1)
    LAYOUT = (INVOKE, ("result", GET_DATA_RESULT))
    invoke_id_and_priority: int
    result: Structured


@dataclass(frozen=True)
class GetResponseWithDatablock(Apdu):
    TYPE = "get-response-with-datablock"
    TAG = (0xC4, 2)
    LAYOUT = (INVOKE, ("last_block", _uint(1, "last-block")), BLOCK_NUMBER,
              ("result", DATABLOCK_G_RESULT))
    invoke_id_and_priority: int
    last_block: int
    block_number: int
    result: Structured


@dataclass(frozen=True)
class GetResponseWithList(Apdu):
    TYPE = "get-response-with-list"
    TAG = (0xC4, 3)
    LAYOUT = (INVOKE, ("result", _sequence_of(GET_DATA_RESULT, "get-data-result list")))
    invoke_id_and_priority: int
    result: tuple[Structured, ...]


@dataclass(frozen=True)
class SetRequestNormal(Apdu):
    TYPE = "set-request-normal"
    TAG = (0xC1, 1)
    LAYOUT = (INVOKE, ("cosem_attribute_descriptor", ATTR), ("access_selection", SELECTION),
              ("value", DATA))
    invoke_id_and_priority: int
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None
    value: Data


@dataclass(frozen=True)
class SetRequestWithFirstDatablock(Apdu):
    TYPE = "set-request-with-first-datablock"
    TAG = (0xC1, 2)
    LAYOUT = (INVOKE, ("cosem_attribute_descriptor", ATTR), ("access_selection", SELECTION),
              ("datablock", _node(DataBlockSA)))
    invoke_id_and_priority: int
    cosem_attribute_descriptor: CosemAttributeDescriptor
    access_selection: SelectiveAccessDescriptor | None
    datablock: DataBlockSA


@dataclass(frozen=True)
class SetRequestWithDatablock(Apdu):
    TYPE = "set-request-with-datablock"
    TAG = (0xC1, 3)
    LAYOUT = (INVOKE, ("datablock", _node(DataBlockSA)))
    invoke_id_and_priority: int
    datablock: DataBlockSA


@dataclass(frozen=True)
class SetRequestWithList(Apdu):
    TYPE = "set-request-with-list"
    TAG = (0xC1, 4)
    LAYOUT = (INVOKE, ("attribute_descriptor_list", ATTR_LIST),
              ("value_list", _sequence_of(DATA, "value-list")))
    invoke_id_and_priority: int
    attribute_descriptor_list: tuple[AttributeDescriptorWithSelection, ...]
    value_list: tuple[Data, ...]


@dataclass(frozen=True)
class SetRequestWithListAndFirstDatablock(Apdu):
    TYPE = "set-request-with-list-and-first-datablock"
    TAG = (0xC1, 5)
    LAYOUT = (INVOKE, ("attribute_descriptor_list", ATTR_LIST), ("datablock", _node(DataBlockSA)))
    invoke_id_and_priority: int
    attribute_descriptor_list: tuple[AttributeDescriptorWithSelection, ...]
    datablock: DataBlockSA


@dataclass(frozen=True)
class SetResponseNormal(Apdu):
    TYPE = "set-response-normal"
    TAG = (0xC5, 1)
    LAYOUT = (INVOKE, ("result", ENUM))
    invoke_id_and_priority: int
    result: int

    def notes(self) -> dict[str, str]:
        return _result_note(DATA_ACCESS_RESULTS, self.result)


@dataclass(frozen=True)
class SetResponseDatablock(Apdu):
    TYPE = "set-response-datablock"
    TAG = (0xC5, 2)
    LAYOUT = (INVOKE, BLOCK_NUMBER)
    invoke_id_and_priority: int
    block_number: int


@dataclass(frozen=True)
class SetResponseLastDatablock(Apdu):
    TYPE = "set-response-last-datablock"
    TAG = (0xC5, 3)
    LAYOUT = (INVOKE, ("result", ENUM), BLOCK_NUMBER)
    invoke_id_and_priority: int
    result: int
    block_number: int


@dataclass(frozen=True)
class SetResponseLastDatablockWithList(Apdu):
    TYPE = "set-response-last-datablock-with-list"
    TAG = (0xC5, 4)
    LAYOUT = (INVOKE, RESULTS, BLOCK_NUMBER)
    invoke_id_and_priority: int
    results: tuple[int, ...]
    block_number: int


@dataclass(frozen=True)
class SetResponseWithList(Apdu):
    TYPE = "set-response-with-list"
    TAG = (0xC5, 5)
    LAYOUT = (INVOKE, RESULTS)
    invoke_id_and_priority: int
    results: tuple[int, ...]


@dataclass(frozen=True)
class ActionRequestNormal(Apdu):
    TYPE = "action-request-normal"
    TAG = (0xC3, 1)
    LAYOUT = (INVOKE, ("cosem_method_descriptor", METHOD),
              ("method_invocation_parameters", _optional(DATA, "method-invocation-parameters")))
    invoke_id_and_priority: int
    cosem_method_descriptor: CosemMethodDescriptor
    method_invocation_parameters: Data | None = None


@dataclass(frozen=True)
class ActionRequestNextPblock(Apdu):
    TYPE = "action-request-next-pblock"
    TAG = (0xC3, 2)
    LAYOUT = (INVOKE, BLOCK_NUMBER)
    invoke_id_and_priority: int
    block_number: int


@dataclass(frozen=True)
class ActionRequestWithList(Apdu):
    TYPE = "action-request-with-list"
    TAG = (0xC3, 3)
    LAYOUT = (INVOKE,
              ("cosem_method_descriptor_list", _sequence_of(METHOD, "cosem-method-descriptor-list")),
              ("method_invocation_parameters", _sequence_of(DATA, "method-invocation-parameters")))
    invoke_id_and_priority: int
    cosem_method_descriptor_list: tuple[CosemMethodDescriptor, ...]
    method_invocation_parameters: tuple[Data, ...]


@dataclass(frozen=True)
class ActionRequestWithFirstPblock(Apdu):
    TYPE = "action-request-with-first-pblock"
    TAG = (0xC3, 4)
    LAYOUT = (INVOKE, ("cosem_method_descriptor", METHOD), PBLOCK)
    invoke_id_and_priority: int
    cosem_method_descriptor: CosemMethodDescriptor
    pblock: DataBlockSA


@dataclass(frozen=True)
class ActionRequestWithListAndFirstPblock(Apdu):
    TYPE = "action-request-with-list-and-first-pblock"
    TAG = (0xC3, 5)
    LAYOUT = (INVOKE,
              ("cosem_method_descriptor_list", _sequence_of(METHOD, "cosem-method-descriptor-list")),
              PBLOCK)
    invoke_id_and_priority: int
    cosem_method_descriptor_list: tuple[CosemMethodDescriptor, ...]
    pblock: DataBlockSA


@dataclass(frozen=True)
class ActionRequestWithPblock(Apdu):
    TYPE = "action-request-with-pblock"
    TAG = (0xC3, 6)
    LAYOUT = (INVOKE, PBLOCK)
    invoke_id_and_priority: int
    pblock: DataBlockSA


@dataclass(frozen=True)
class ActionResponseNormal(Apdu):
    TYPE = "action-response-normal"
    TAG = (0xC7, 1)
    LAYOUT = (INVOKE, ("single_response", _node(ActionResponseWithOptionalData)))
    invoke_id_and_priority: int
    single_response: ActionResponseWithOptionalData


@dataclass(frozen=True)
class ActionResponseWithPblock(Apdu):
    TYPE = "action-response-with-pblock"
    TAG = (0xC7, 2)
    LAYOUT = (INVOKE, PBLOCK)
    invoke_id_and_priority: int
    pblock: DataBlockSA


@dataclass(frozen=True)
class ActionResponseWithList(Apdu):
    TYPE = "action-response-with-list"
    TAG = (0xC7, 3)
    LAYOUT = (INVOKE, ("list_of_responses",
                       _sequence_of(_node(ActionResponseWithOptionalData), "list-of-responses")))
    invoke_id_and_priority: int
    list_of_responses: tuple[ActionResponseWithOptionalData, ...]


@dataclass(frozen=True)
class ActionResponseNextPblock(Apdu):
    TYPE = "action-response-next-pblock"
    TAG = (0xC7, 4)
    LAYOUT = (INVOKE, BLOCK_NUMBER)
    invoke_id_and_priority: int
    block_number: int


def _apdu_table() -> dict[tuple[int, ...], type[Apdu]]:
    table: dict[tuple[int, ...], type[Apdu]] = {}
    pending: list[type[Apdu]] = list(Apdu.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.TAG:
            table[cls.TAG] = cls
    return table


APDUS = _apdu_table()
_TWO_OCTET_TAGS = frozenset(tag[0] for tag in APDUS if len(tag) == 2)


def decode_apdu(data: bytes) -> Apdu:
    """Green Book §9.5: one xDLMS APDU filling `data`."""
    r = Reader(data)
    first = r.u8("xDLMS APDU tag")
    tag: tuple[int, ...] = (first, r.u8("APDU choice")) if first in _TWO_OCTET_TAGS else (first,)
    cls = APDUS.get(tag)
    if cls is None:
        raise Malformed("xDLMS APDU tag", 0, f"unknown APDU {'/'.join(f'0x{t:02X}' for t in tag)}")
    apdu = cls.read_fields(r)
    if not r.at_end():
        raise Malformed(cls.TYPE, r.pos, f"{r.remaining} bytes after the APDU")
    assert isinstance(apdu, Apdu)
    return apdu


def encode_apdu(apdu: Apdu) -> bytes:
    """Green Book §9.5: the bytes of one xDLMS APDU."""
    out = bytearray(apdu.TAG)
    apdu.write_fields(out)
    return bytes(out)


def _check_layouts() -> None:
    """Each Structured class names every one of its fields in LAYOUT, in order."""
    pending: list[type[Structured]] = list(Structured.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.TYPE and [f.name for f in fields(cls)] != [n for n, _ in cls.LAYOUT]:
            raise TypeError(f"{cls.__name__}.LAYOUT does not match its fields")


_check_layouts()
