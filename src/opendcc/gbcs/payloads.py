"""The seam to the payload codecs (`opendcc.gbcs.payload`): which kind a payload is, and
decoding it there when that package can, else keeping it as opaque octets.

GBCS payloads are DLMS/COSEM xDLMS APDUs (access-request 0xD9, access-response 0xDA,
data-notification 0x0F), GBZ (ZigBee ZCL, starting 0x01 0x09), or ASN.1 DER structures.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache
from typing import Any

DLMS = "dlms"
ZCL = "zcl"
ASN1 = "asn1"

#: Leading octet of an xDLMS APDU as GBCS carries it.
_DLMS_TAGS = frozenset((0xD9, 0xDA, 0x0F))
#: GBZ buffer: profile 0x0109 (Smart Energy).
_GBZ_PREFIX = b"\x01\x09"


@dataclass(frozen=True, slots=True)
class RawPayload:
    """A payload kept as octets: no payload codec, or the codec could not read it."""

    kind: str
    data: bytes
    error: str | None = None


def payload_kind(content: bytes) -> str:
    """GBCS §7.2.8: DLMS, GBZ (ZCL) or ASN.1, from the payload's leading octets."""
    if content[:2] == _GBZ_PREFIX:
        return ZCL
    if content[:1] and content[0] in _DLMS_TAGS:
        return DLMS
    return ASN1


@lru_cache(maxsize=1)
def _codec() -> Any:
    try:
        return importlib.import_module("opendcc.gbcs.payload")
    except ImportError:
        return None


def _functions() -> tuple[Any, Any, Any] | None:
    mod = _codec()
    if mod is None or not hasattr(mod, "decode_payload") or not hasattr(mod, "encode_payload"):
        return None
    return mod.decode_payload, mod.encode_payload, getattr(mod, "PayloadKind", None)


@lru_cache(maxsize=1)
def _takes_use_case() -> bool:
    fns = _functions()
    try:
        return fns is not None and "use_case" in inspect.signature(fns[0]).parameters
    except (TypeError, ValueError):
        return False


def decode_payload(kind: str, data: bytes, use_case: str | None = None) -> object:
    """The payload package's decoding of `data`, or a RawPayload saying why not."""
    fns = _functions()
    if fns is None:
        return RawPayload(kind, data)
    decode, _, kind_type = fns
    arg: Any = kind_type(kind) if isinstance(kind_type, type) and issubclass(kind_type, Enum) else kind
    try:
        if use_case is not None and _takes_use_case():
            return decode(arg, data, use_case=use_case)
        return decode(arg, data)
    except Exception as exc:  # a payload the codec cannot read stays opaque
        return RawPayload(kind, data, f"{type(exc).__name__}: {exc}")


def encode_payload(payload: object) -> bytes:
    """The octets of a payload (decoded or raw)."""
    if isinstance(payload, RawPayload):
        return payload.data
    fns = _functions()
    if fns is None:
        raise TypeError(f"cannot encode {type(payload).__name__} without opendcc.gbcs.payload")
    out = fns[1](payload)
    return bytes(out)


def payload_from_json(view: object) -> object | None:
    """Rebuild a decoded payload from its JSON view (None when the payload package cannot)."""
    mod = _codec()
    payload_type = getattr(mod, "Payload", None) if mod is not None else None
    build = getattr(payload_type, "from_json", None)
    return build(view) if callable(build) else None


def payload_json(payload: object) -> object:
    """A JSON view of a decoded payload, when the payload offers one."""
    if isinstance(payload, RawPayload):
        return None
    for name in ("to_json", "as_json", "to_dict"):
        fn = getattr(payload, name, None)
        if callable(fn):
            try:
                return fn()
            except Exception:  # a view is optional
                return None
    return None
