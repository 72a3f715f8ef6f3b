"""TEST-ONLY: the payload octets of each RTDS vector, found by stepping over the GBCS framing.

Just enough of GBCS §6 (General Ciphering / General Signing headers) to reach the payload,
so the payload codecs can be tested on every vector independently of the framing codec.
"""

from __future__ import annotations

from pathlib import Path

from opendcc.config import reference_dir

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
    i += other_length
    content_length, i = _length(message, i)
    return message[i : i + content_length]


def read_payload(path: Path) -> bytes:
    return payload_of(bytes.fromhex("".join(path.read_text().split())))
