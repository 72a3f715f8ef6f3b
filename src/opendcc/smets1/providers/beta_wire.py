"""Provider "beta" wire format: length-prefixed binary frames with correlation ids; pure codec.

Frame: u32 length of what follows | u32 correlation id | u8 opcode | payload (big-endian).
An answer carries the request's correlation id and opcode | 0x80; ERROR (0xFF) carries UTF-8 text.
Device ids and credential holders are 8-octet EUI-64s.

    QUERY   u16 n, n x id                      -> u16 n, n x (id, status, [meter record])
    REKEY   caller, u16 n, n x (id, expected)  -> u16 n, n x (id, status)
    RESTORE caller, u16 n, n x (id, holder)    -> u16 n, n x (id, status)
    COMMAND caller, u16 n, n x (id, op u8, arg i64) -> u16 n, n x (id, status, value i64)
    ALERTS  caller, u32 after                  -> u16 n, n x (u32 seq, id, kind u8, i64 epoch ms,
                                                  text detail, text utrn)
    FAULTS  JSON object of fault knobs         -> empty
    RAISE   id, kind u8, text detail, text utrn -> u32 seq (an alert, for tests and demos)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Final

HEADER: Final = struct.Struct(">IIB")
MAX_FRAME: Final = 16 * 1024 * 1024


class Opcode(IntEnum):
    """Beta frame types."""

    QUERY = 0x01
    REKEY = 0x02
    RESTORE = 0x03
    COMMAND = 0x04
    ALERTS = 0x05
    FAULTS = 0x70
    RAISE = 0x71
    ERROR = 0xFF


ANSWER: Final = 0x80


class FrameError(ValueError):
    """A frame that does not follow the beta wire format."""


@dataclass(frozen=True, slots=True)
class MeterRecord:
    """A QUERY answer for one meter."""

    device_id: str
    status: int
    model: str = ""
    firmware: str = ""
    fuel: str = ""
    mpxn: str = ""
    owner: str = ""
    dormant: bool = False


def frame(correlation: int, opcode: int, payload: bytes) -> bytes:
    """One frame on the wire."""
    return HEADER.pack(len(payload) + 5, correlation, opcode) + payload


def split_header(head: bytes) -> tuple[int, int, int]:
    """(payload length, correlation id, opcode) from the first 9 octets."""
    length, correlation, opcode = HEADER.unpack(head)
    if not 5 <= length <= MAX_FRAME:
        raise FrameError(f"beta frame length {length} out of range")
    return length - 5, correlation, opcode


def eui(text: str) -> bytes:
    """8 octets from 16 hex digits."""
    return bytes.fromhex(text)


def _text(value: str) -> bytes:
    raw = value.encode()
    return bytes([len(raw)]) + raw


class Reader:
    """Reads fields from a payload, raising FrameError when it runs short."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, n: int) -> bytes:
        """The next n octets."""
        if self.at + n > len(self.data):
            raise FrameError(f"beta payload ends at octet {len(self.data)}, needed {self.at + n}")
        chunk = self.data[self.at:self.at + n]
        self.at += n
        return chunk

    def u8(self) -> int:
        """One octet."""
        return self.take(1)[0]

    def u16(self) -> int:
        """Two octets, big-endian."""
        return int.from_bytes(self.take(2), "big")

    def i64(self) -> int:
        """Eight octets, signed big-endian."""
        return int.from_bytes(self.take(8), "big", signed=True)

    def eui(self) -> str:
        """An EUI-64 as 16 upper-case hex digits."""
        return self.take(8).hex().upper()

    def text(self) -> str:
        """A u8-length-prefixed UTF-8 string."""
        return self.take(self.u8()).decode()


def encode_query(ids: list[str]) -> bytes:
    """QUERY payload."""
    return len(ids).to_bytes(2, "big") + b"".join(eui(i) for i in ids)


def encode_query_answer(records: list[MeterRecord]) -> bytes:
    """QUERY answer payload."""
    out = [len(records).to_bytes(2, "big")]
    for r in records:
        out.append(eui(r.device_id) + bytes([r.status]))
        if r.status == 0:
            out.append(_text(r.model) + _text(r.firmware) + r.fuel.encode()[:1] + _text(r.mpxn)
                       + eui(r.owner) + bytes([r.dormant]))
    return b"".join(out)


def decode_query_answer(payload: bytes) -> list[MeterRecord]:
    """Meter records from a QUERY answer."""
    reader = Reader(payload)
    records = []
    for _ in range(reader.u16()):
        device_id, status = reader.eui(), reader.u8()
        if status != 0:
            records.append(MeterRecord(device_id, status))
            continue
        records.append(MeterRecord(device_id, status, reader.text(), reader.text(),
                                   reader.take(1).decode(), reader.text(), reader.eui(),
                                   bool(reader.u8())))
    return records


def encode_pairs(caller: str, pairs: list[tuple[str, str]]) -> bytes:
    """REKEY / RESTORE payload: caller and (device, holder) pairs."""
    return eui(caller) + len(pairs).to_bytes(2, "big") + b"".join(eui(a) + eui(b) for a, b in pairs)


def decode_pairs(payload: bytes) -> tuple[str, list[tuple[str, str]]]:
    """Caller and (device, holder) pairs from a REKEY / RESTORE payload."""
    reader = Reader(payload)
    caller = reader.eui()
    return caller, [(reader.eui(), reader.eui()) for _ in range(reader.u16())]


def encode_commands(caller: str, commands: list[tuple[str, int, int]]) -> bytes:
    """COMMAND payload: caller and (device, op, argument)."""
    return eui(caller) + len(commands).to_bytes(2, "big") + b"".join(
        eui(d) + bytes([op]) + arg.to_bytes(8, "big", signed=True) for d, op, arg in commands)


def decode_commands(payload: bytes) -> tuple[str, list[tuple[str, int, int]]]:
    """Caller and (device, op, argument) triples from a COMMAND payload."""
    reader = Reader(payload)
    caller = reader.eui()
    return caller, [(reader.eui(), reader.u8(), reader.i64()) for _ in range(reader.u16())]


def encode_results(results: list[tuple[str, int, int]]) -> bytes:
    """REKEY / RESTORE / COMMAND answer: (device, status, value) per device."""
    return len(results).to_bytes(2, "big") + b"".join(
        eui(d) + bytes([s]) + v.to_bytes(8, "big", signed=True) for d, s, v in results)


def decode_results(payload: bytes) -> list[tuple[str, int, int]]:
    """(device, status, value) per device from an answer."""
    reader = Reader(payload)
    return [(reader.eui(), reader.u8(), reader.i64()) for _ in range(reader.u16())]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """An ALERTS answer entry."""

    sequence: int
    device_id: str
    kind: int
    at: datetime
    detail: str = ""
    utrn: str = ""


def encode_alerts_request(caller: str, after: int) -> bytes:
    """ALERTS payload: whose meters, after which sequence."""
    return eui(caller) + after.to_bytes(4, "big")


def decode_alerts_request(payload: bytes) -> tuple[str, int]:
    """Caller and sequence from an ALERTS payload."""
    reader = Reader(payload)
    return reader.eui(), int.from_bytes(reader.take(4), "big")


def encode_alerts(alerts: list[AlertRecord]) -> bytes:
    """ALERTS answer payload."""
    return len(alerts).to_bytes(2, "big") + b"".join(
        a.sequence.to_bytes(4, "big") + eui(a.device_id) + bytes([a.kind])
        + int(a.at.timestamp() * 1000).to_bytes(8, "big", signed=True) + _text(a.detail) + _text(a.utrn)
        for a in alerts)


def decode_alerts(payload: bytes) -> list[AlertRecord]:
    """Alert records from an ALERTS answer."""
    reader = Reader(payload)
    out = []
    for _ in range(reader.u16()):
        sequence = int.from_bytes(reader.take(4), "big")
        device_id, kind = reader.eui(), reader.u8()
        at = datetime.fromtimestamp(reader.i64() / 1000, UTC)
        out.append(AlertRecord(sequence, device_id, kind, at, reader.text(), reader.text()))
    return out


def encode_raise(device_id: str, kind: int, detail: str = "", utrn: str = "") -> bytes:
    """RAISE payload."""
    return eui(device_id) + bytes([kind]) + _text(detail) + _text(utrn)


def decode_raise(payload: bytes) -> tuple[str, int, str, str]:
    """Device, kind, detail and UTRN from a RAISE payload."""
    reader = Reader(payload)
    return reader.eui(), reader.u8(), reader.text(), reader.text()
