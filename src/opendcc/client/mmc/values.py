"""Values read off a decoded payload for the MMC document: outcome, alert code and time, results.

Builders work on the payload codec's JSON view (`Node.to_json()`: {"@type": ..., fields}),
so they depend on the specification's structure names, not on Python classes. The alert
header (code and time) is read from the payload octets: its layout is fixed per payload kind
(GBCS §9.2: DLMS data-notification, GBZ alert header, ASN.1 alert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from opendcc.gbcs.date_time import DateTime

Json = dict[str, Any]
_GBZ_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Whether the device reports success for every instruction; `known` False when unread."""

    success: bool
    known: bool


def tree(payload: object) -> Json | None:
    """The payload's JSON view (a fresh copy), or None for a payload the codec kept as octets."""
    to_json = getattr(payload, "to_json", None)
    if callable(to_json):
        out = to_json()
        return out if isinstance(out, dict) else None
    return None


def content_of(payload: object) -> bytes:
    """The payload octets (decoded payloads keep them, raw ones are them)."""
    data = getattr(payload, "data", None)
    return data if isinstance(data, bytes) else b""


_RESULT_KEYS = ("result", "data_access_result", "status", "status_code", "result_type")


#: GBCS ASN.1 named values that report an outcome (0 = success); `commandAccepted` reports
#: that a command was accepted (for later, future-dated, execution).
_ASN1_RESULTS = ("statusCode", "responseCode")


def _results(node: Any) -> list[int]:
    out: list[int] = []
    if isinstance(node, dict) and node.get("name") in _ASN1_RESULTS and isinstance(node.get("value"), int):
        return [node["value"]]
    if isinstance(node, dict) and node.get("name") == "commandAccepted":
        return [0]
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _RESULT_KEYS and isinstance(value, int):
                out.append(value)
            else:
                out.extend(_results(value))
    elif isinstance(node, list):
        for item in node:
            out.extend(_results(item))
    return out


def outcome_of(t: Json | None, status_at: int | str | None = None) -> Outcome:
    """Success when every result/status the payload view reports is 0 (DLMS, ZCL SUCCESS).

    `status_at`: for an ASN.1 response SEQUENCE, the element holding its status (0 = success),
    as `tables.json` `asn1_status` names it per use case (e.g. CS08 firmware version);
    `each:1` for a SEQUENCE OF whose every item holds a status at element 1 (CS02f),
    `0.each:1` for such a SEQUENCE OF at element 0 (GCS59 restore outcomes).
    """
    if t is None:
        return Outcome(success=True, known=False)
    elements = t.get("elements")
    if isinstance(status_at, str) and isinstance(elements, list):
        # `0.each:1`: first down element 0 (a SEQUENCE OF inside the response), then each item
        *down, each = status_at.split(".")
        for step in down:
            inner = elements[int(step)] if int(step) < len(elements) else None
            elements = inner.get("elements") if isinstance(inner, dict) else None
            if not isinstance(elements, list):
                return Outcome(success=True, known=False)
        at = int(each.removeprefix("each:"))
        items = [e.get("elements") for e in elements if isinstance(e, dict)]
        codes = [i[at].get("value") for i in items if isinstance(i, list) and len(i) > at
                 and isinstance(i[at], dict)]
        if codes and all(isinstance(c, int) for c in codes):
            return Outcome(success=all(c == 0 for c in codes), known=True)
        return Outcome(success=True, known=False)
    if isinstance(status_at, int) and isinstance(elements, list) and status_at < len(elements):
        status = elements[status_at]
        value = status.get("value") if isinstance(status, dict) else None
        if isinstance(value, int):
            return Outcome(success=value == 0, known=True)
    if t.get("@type") == "INTEGER" and isinstance(t.get("value"), int):
        # ASN.1 responses that are a bare response code (join, unjoin, certificates): 0 = success
        return Outcome(success=t["value"] == 0, known=True)
    results = _results(t)
    # A GBZ response answers every command with a response command or a status: a component
    # without a status is a success (GBCS §7.3).
    known = bool(results) or (t.get("@type") == "gbz-payload" and bool(t.get("components")))
    return Outcome(success=all(r == 0 for r in results), known=known)


def alert_code_of(data: bytes) -> int | None:
    """GBCS §9.2 alert header: the 16-bit alert code from the payload's leading octets."""
    header = _dlms_alert(data) or _gbz_alert(data) or _asn1_alert(data)
    return header[0] if header else None


def alert_timestamp_of(data: bytes) -> datetime | None:
    """GBCS §9.2 alert header: when the device raised the alert."""
    header = _dlms_alert(data) or _gbz_alert(data) or _asn1_alert(data)
    return header[1] if header else None


def _dlms_alert(data: bytes) -> tuple[int, datetime | None] | None:
    # data-notification 0F | invoke-id 4 | date-time 00 | structure 02 n | long-unsigned 12 code
    # | octet-string 09 0C date-time
    if len(data) < 11 or data[0] != 0x0F or data[5] != 0x00 or data[6] != 0x02 or data[8] != 0x12:
        return None
    code = int.from_bytes(data[9:11], "big")
    when = None
    if data[11:13] == b"\x09\x0c" and len(data) >= 25:
        when = DateTime.from_bytes(data[13:25]).to_datetime()
    return code, when


def _gbz_alert(data: bytes) -> tuple[int, datetime | None] | None:
    # GBZ profile 01 09 | control 1 | alert code 2 | time 4 (UTC seconds since 2000-01-01)
    if len(data) < 9 or data[:2] != b"\x01\x09":
        return None
    code = int.from_bytes(data[3:5], "big")
    seconds = int.from_bytes(data[5:9], "big")
    return code, _GBZ_EPOCH + timedelta(seconds=seconds)


def _asn1_alert(data: bytes) -> tuple[int, datetime | None] | None:
    # SEQUENCE { INTEGER alert code (3 octets), GeneralizedTime "YYYYMMDDhhmmssZ", ... }
    at = 2 if len(data) > 1 and data[1] < 0x80 else 2 + (data[1] & 0x7F) if len(data) > 1 else 0
    if len(data) < at + 5 or data[0] != 0x30 or data[at] != 0x02 or data[at + 1] != 0x03:
        return None
    code = int.from_bytes(data[at + 2 : at + 5], "big")
    when = None
    t = at + 5
    if data[t : t + 2] == b"\x18\x0f":
        try:
            when = datetime.strptime(data[t + 2 : t + 17].decode("ascii"), "%Y%m%d%H%M%SZ").replace(tzinfo=UTC)
        except (UnicodeDecodeError, ValueError):
            when = None
    return code, when
