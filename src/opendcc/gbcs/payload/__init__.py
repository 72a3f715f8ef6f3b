"""GBCS payload codecs: the DLMS, ZCL (GBZ) and ASN.1 payloads inside GBCS frames.

    decode_payload(PayloadKind.DLMS, data) -> Payload     # a typed tree
    encode_payload(tree) -> bytes                          # the same bytes back
    Payload.from_json(tree.to_json()) == tree              # a readable, editable form

Pure: no I/O. Decoding errors are `opendcc.gbcs.errors` `Truncated` / `BadLength` /
`Malformed` naming the field and the offset within the payload; a tree that cannot be
encoded raises `InvalidTree` (a `Malformed`).
"""

from __future__ import annotations

from enum import StrEnum

from opendcc.gbcs.payload.asn1 import Asn1Value, decode_asn1, encode_value
from opendcc.gbcs.payload.axdr import decode_data, encode_data
from opendcc.gbcs.payload.dlms import Apdu, decode_apdu, encode_apdu
from opendcc.gbcs.payload.dlms_protection import ProtectedData, protected_data
from opendcc.gbcs.payload.errors import InvalidTree, Malformed
from opendcc.gbcs.payload.gbcs_asn1 import name_values
from opendcc.gbcs.payload.gbz import (
    GbzAlertPayload,
    GbzPayload,
    decode_deciphered_zcl,
    decode_gbz,
    encode_gbz,
    encode_zcl_payload,
)
from opendcc.gbcs.payload.tree import Node

#: Every payload tree node; `Payload.from_json` rebuilds any of them from its JSON.
Payload = Node

__all__ = ["Payload", "PayloadKind", "ProtectedData", "decode_data", "decode_deciphered_zcl",
           "decode_payload", "encode_data", "encode_payload", "encode_zcl_payload", "kind_of",
           "protected_data", "sniff_kind"]


class PayloadKind(StrEnum):
    """Which codec a GBCS payload needs (GBCS: DLMS COSEM, GBZ ZigBee, or ASN.1 DER)."""

    DLMS = "dlms"
    ZCL = "zcl"
    ASN1 = "asn1"


_DLMS_APDU_TAGS = frozenset([0x0F, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC7, 0xD8, 0xD9, 0xDA])


def sniff_kind(data: bytes) -> PayloadKind:
    """The payload kind told by its first octets: GBZ profile 0x0109, an xDLMS APDU tag, else DER."""
    if data[:2] == b"\x01\x09":
        return PayloadKind.ZCL
    if data[:1] and data[0] in _DLMS_APDU_TAGS:
        return PayloadKind.DLMS
    return PayloadKind.ASN1


def decode_payload(kind: PayloadKind, data: bytes, *, use_case: str | None = None) -> Payload:
    """Decode one whole payload of the given kind into its typed tree.

    `use_case` (e.g. "CS02b") names the values of ASN.1 payloads after GBCS's ASN.1 module
    (`gbcs_asn1`); DLMS and GBZ layouts are recognised from the bytes alone.
    """
    if kind == PayloadKind.DLMS:
        return decode_apdu(data)
    if kind == PayloadKind.ZCL:
        return decode_gbz(data)
    if kind == PayloadKind.ASN1:
        return name_values(decode_asn1(data), use_case)
    raise Malformed("payload kind", 0, f"unknown payload kind {kind!r}")


def kind_of(p: Payload) -> PayloadKind:
    """The kind of a payload tree's root."""
    if isinstance(p, Apdu):
        return PayloadKind.DLMS
    if isinstance(p, GbzPayload | GbzAlertPayload):
        return PayloadKind.ZCL
    if isinstance(p, Asn1Value):
        return PayloadKind.ASN1
    raise InvalidTree("payload", f"a {type(p).__name__} is not the root of a payload")


def encode_payload(p: Payload) -> bytes:
    """The bytes of a payload tree: encode_payload(decode_payload(k, b)) == b."""
    try:
        if isinstance(p, Apdu):
            return encode_apdu(p)
        if isinstance(p, GbzPayload | GbzAlertPayload):
            return encode_gbz(p)
        if isinstance(p, Asn1Value):
            return encode_value(p)
    except RecursionError:
        raise InvalidTree("payload", "nested too deeply to encode") from None
    raise InvalidTree("payload", f"a {type(p).__name__} is not the root of a payload")
