"""TEST-ONLY: the payload octets of each RTDS vector, found by stepping over the GBCS framing.

Just enough of GBCS framing (General Ciphering / General Signing headers) to reach the payload,
so the payload codecs can be tested on every vector independently of the framing codec.
"""

from __future__ import annotations

from pathlib import Path

from opendcc.config import reference_dir
from opendcc.gbcs.message_codes import ALERT_BY_CODE, USE_CASE_BY_CODE

GENERAL_CIPHERING = 0xDD
GENERAL_SIGNING = 0xDF


def vector_paths() -> list[Path]:
    """All vectors, sorted; globbed, never listed by hand."""
    return sorted((reference_dir() / "gbcs" / "rtds").glob("*/*_GBCS.HEX"))


def _length(b: bytes, i: int) -> tuple[int, int]:
    first = b[i]
    if first < 0x80:
        return first, i + 1
    n = first & 0x7F
    return int.from_bytes(b[i + 1 : i + 1 + n], "big"), i + 1 + n


def payload_of(message: bytes) -> bytes:
    """The Content of the General Signing APDU inside a GBCS message."""
    return _split(message)[1]


def message_code_of(message: bytes) -> int:
    """The Message Code at the start of Other Information."""
    return _split(message)[0]


def _split(message: bytes) -> tuple[int, bytes]:
    i = 0
    if message[0] == GENERAL_CIPHERING:
        i = 7  # tag, transaction-id length and the start of the transaction id
        _, i = _length(message, i)
        i += 5  # security header
    assert message[i] == GENERAL_SIGNING, f"no General Signing at offset {i}"
    i += 3  # tag, transaction-id length, CRA flag
    i += 8 + 9 + 9  # originator counter, originator and recipient system titles
    date_time_length, i = _length(message, i)
    i += date_time_length
    other_length, i = _length(message, i)
    message_code = int.from_bytes(message[i : i + 2], "big")
    i += other_length
    content_length, i = _length(message, i)
    return message_code, message[i : i + content_length]


def read_message(path: Path) -> bytes:
    return bytes.fromhex("".join(path.read_text().split()))


def read_payload(path: Path) -> bytes:
    return payload_of(read_message(path))


def use_case_of(path: Path) -> str | None:
    """The use case (or alert label) the vector's message code names, as the framing passes it."""
    code = message_code_of(read_message(path))
    alert = ALERT_BY_CODE.get(code)
    return USE_CASE_BY_CODE.get(code) or (alert[0] if alert else None)
