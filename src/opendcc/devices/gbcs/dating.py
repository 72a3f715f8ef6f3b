"""Future dating (GBCS §7.2.10): when a command should run, read from its payload.

A future-datable command carries its execution date-time in the payload. DLMS commands use
the activation-time attributes they set: a 12-octet COSEM date-time sent as a value of its
own, e.g. Charge attribute 7. All zero means at once, all "not specified" (0xFF) means cancel
the pending command, and anything else is the execution time. GBZ (ZCL) commands use the
Smart Energy start / implementation date-time fields: 0 means now, 0xFFFFFFFF means cancel,
and other values are ZigBee UTC time (seconds since 2000-01-01). GBCS's ASN.1 commands (CS06)
carry an executionDateTime GeneralizedTime: absent means now, 9999-12-31T23:59:59Z cancel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opendcc.devices.errors import InvalidArgument
from opendcc.devices.gbcs.alerts import ZCL_TIME_FIELDS
from opendcc.gbcs.date_time import DateTime

#: Use cases GBCS lets a user future-date (those RTDS shows future-dated).
FUTURE_DATABLE = frozenset({"ECS01a", "ECS01b", "ECS01c", "ECS01d", "ECS02", "ECS03", "ECS08", "ECS28a", "ECS46c",
                            "GCS01a", "GCS01b", "GCS02", "GCS03", "GCS05", "CS06"})
#: GBCS ASN.1 commands (CS06) carry the time as executionDateTime (GeneralizedTime); this
#: value cancels, as RTDS's CS02b cancellation shows.
_ASN1_CANCEL = "99991231235959Z"
_ZIGBEE_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_ZCL_NOW, _ZCL_CANCEL = 0, 0xFFFFFFFF
_COSEM_DATE_TIME_HEX = 24


@dataclass(frozen=True, slots=True)
class Dating:
    """When to run a command: now (`at` None, not cancel), at `at`, or cancel the pending one."""

    at: datetime | None = None
    cancel: bool = False


IMMEDIATE = Dating()


def _cosem(hex_text: str) -> Dating:
    raw = bytes.fromhex(hex_text)
    if not any(raw[:9]):
        return IMMEDIATE
    if all(b == 0xFF for b in raw[:9]):
        return Dating(cancel=True)
    at = DateTime.from_bytes(raw).to_datetime()
    if at is None:
        raise InvalidArgument(f"activation date-time {hex_text} is neither a time, zero nor wildcard")
    return Dating(at)


def _zigbee(seconds: int) -> Dating:
    if seconds == _ZCL_NOW:
        return IMMEDIATE
    if seconds == _ZCL_CANCEL:
        return Dating(cancel=True)
    return Dating(_ZIGBEE_EPOCH + timedelta(seconds=seconds))


def _asn1(text: str) -> Dating:
    if text == _ASN1_CANCEL:
        return Dating(cancel=True)
    try:
        return Dating(datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=UTC))
    except ValueError:
        raise InvalidArgument(f"executionDateTime {text!r} is not a GeneralizedTime") from None


def _candidates(view: Any) -> list[Dating]:
    out: list[Dating] = []
    if not isinstance(view, dict):
        return out
    specs = view.get("access_request_list_of_specification", [])
    for spec, data in zip(specs, view.get("access_request_list_of_data", []), strict=False):
        value = data.get("value") if isinstance(data, dict) else None
        if spec.get("@type") == "access-request-set" and data.get("@type") == "octet-string" \
                and isinstance(value, str) and len(value) == _COSEM_DATE_TIME_HEX:
            out.append(_cosem(value))
    for element in view.get("elements", []) if view.get("@type") == "SEQUENCE" else []:
        if isinstance(element, dict) and element.get("name") == "executionDateTime":
            out.append(_asn1(str(element.get("value", ""))))
    for component in view.get("components", []):
        fields = component.get("zcl_frame", {}).get("payload", {}).get("fields", {})
        for name in ZCL_TIME_FIELDS:
            if isinstance(fields.get(name), int):
                out.append(_zigbee(fields[name]))
    return out


def dating(use_case: str, view: Any) -> Dating:
    """GBCS §7.2.10: when the command runs. The first execution time that is not "now"
    decides. Use cases that cannot be future-dated always run at once."""
    if use_case not in FUTURE_DATABLE:
        return IMMEDIATE
    for d in _candidates(view):
        if d != IMMEDIATE:
            return d
    return IMMEDIATE
