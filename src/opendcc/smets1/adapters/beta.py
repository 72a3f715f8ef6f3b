"""Adapter for provider "beta" (binary length-prefixed frames over TCP)."""

from __future__ import annotations

import itertools
import json
import socket
import threading
from typing import Final

from opendcc.smets1.adapters.base import (
    FROM_STATUS,
    ConnectionDropped,
    DeviceResult,
    MeterInfo,
    ProtocolViolation,
    ProviderTimeout,
    ProviderUnavailable,
    Result,
)
from opendcc.smets1.providers import beta_wire as wire
from opendcc.smets1.providers.beta_wire import Opcode
from opendcc.smets1.providers.estate import AlertKind, Op, ProviderAlert, Status

BATCH: Final = 1000


class BetaAdapter:
    """Talks to a beta head-end at host:port over one TCP connection (reopened when lost)."""

    name = "beta"

    def __init__(self, host: str, port: int, *, timeout: float = 10.0) -> None:
        self.address = (host, port)
        self.timeout = timeout
        self.sock: socket.socket | None = None
        self.lock = threading.Lock()
        self.correlation = itertools.count(1)

    def _connect(self) -> socket.socket:
        if self.sock is None:
            try:
                self.sock = socket.create_connection(self.address, timeout=self.timeout)
            except OSError as exc:
                raise ProviderUnavailable(self.name, f"cannot connect to {self.address}: {exc}") from exc
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return self.sock

    def _read(self, sock: socket.socket, n: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < n:
            chunk = sock.recv(n - len(chunks))
            if not chunk:
                raise ConnectionDropped(self.name, "connection closed mid-call")
            chunks += chunk
        return bytes(chunks)

    def _call(self, opcode: Opcode, payload: bytes) -> bytes:
        with self.lock:
            sock = self._connect()
            correlation = next(self.correlation) & 0xFFFFFFFF
            try:
                sock.sendall(wire.frame(correlation, opcode, payload))
                while True:
                    length, answered, answer_code = wire.split_header(self._read(sock, wire.HEADER.size))
                    body = self._read(sock, length)
                    if answered == correlation:
                        break  # answers to abandoned calls are skipped
            except TimeoutError as exc:
                self._drop()
                raise ProviderTimeout(self.name, f"no answer to 0x{opcode:02X}") from exc
            except ConnectionDropped:
                self._drop()
                raise
            except OSError as exc:
                self._drop()
                raise ConnectionDropped(self.name, f"connection lost: {exc}") from exc
            except wire.FrameError as exc:
                self._drop()
                raise ProtocolViolation(self.name, str(exc)) from exc
        if answer_code == Opcode.ERROR:
            text = body.decode(errors="replace")
            if "out of service" in text:
                raise ProviderUnavailable(self.name, text)
            raise ProtocolViolation(self.name, text)
        if answer_code != opcode | wire.ANSWER:
            raise ProtocolViolation(self.name, f"answer 0x{answer_code:02X} to request 0x{opcode:02X}")
        return body

    def _drop(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def query(self, ids: list[str]) -> dict[str, MeterInfo | Result]:
        """QUERY frames, in batches."""
        found: dict[str, MeterInfo | Result] = {}
        for start in range(0, len(ids), BATCH):
            try:
                records = wire.decode_query_answer(self._call(Opcode.QUERY, wire.encode_query(ids[start:start + BATCH])))
            except wire.FrameError as exc:
                raise ProtocolViolation(self.name, str(exc)) from exc
            for r in records:
                if r.status != 0:
                    found[r.device_id] = _from_code(r.status)
                else:
                    found[r.device_id] = MeterInfo(r.device_id, r.model, r.firmware, r.fuel, r.mpxn,
                                                   r.owner, r.dormant)
        return found

    def _results(self, opcode: Opcode, payloads: list[bytes]) -> dict[str, DeviceResult]:
        results: dict[str, DeviceResult] = {}
        for payload in payloads:
            try:
                answer = wire.decode_results(self._call(opcode, payload))
            except wire.FrameError as exc:
                raise ProtocolViolation(self.name, str(exc)) from exc
            for device_id, code, value in answer:
                result = _from_code(code)
                results[device_id] = DeviceResult(device_id, result, value if result is Result.OK else 0)
        return results

    def replace_credentials(self, new_owner: str,
                            expected: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        """REKEY frames."""
        return self._results(Opcode.REKEY, [wire.encode_pairs(new_owner, expected[s:s + BATCH])
                                            for s in range(0, len(expected), BATCH)])

    def restore_credentials(self, from_owner: str,
                            owners: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        """RESTORE frames."""
        return self._results(Opcode.RESTORE, [wire.encode_pairs(from_owner, owners[s:s + BATCH])
                                              for s in range(0, len(owners), BATCH)])

    def commands(self, caller: str, commands: list[tuple[str, Op, int]]) -> dict[str, DeviceResult]:
        """COMMAND frames."""
        triples = [(d, int(op), a) for d, op, a in commands]
        return self._results(Opcode.COMMAND, [wire.encode_commands(caller, triples[s:s + BATCH])
                                              for s in range(0, len(triples), BATCH)])

    def settle(self) -> None:
        """Nothing to wait for: a beta head-end finishes a frame before it reads the next."""

    def alerts(self, caller: str, after: int) -> list[ProviderAlert]:
        """An ALERTS frame for the meters `caller` holds."""
        try:
            records = wire.decode_alerts(self._call(Opcode.ALERTS, wire.encode_alerts_request(caller, after)))
            return [ProviderAlert(r.sequence, r.device_id, AlertKind(r.kind), r.at, r.detail, r.utrn)
                    for r in records]
        except (wire.FrameError, ValueError) as exc:
            raise ProtocolViolation(self.name, f"malformed ALERTS answer: {exc}") from exc

    def raise_alert(self, device_id: str, kind: AlertKind, detail: str = "", utrn: str = "") -> int:
        """A RAISE frame."""
        return int.from_bytes(self._call(Opcode.RAISE, wire.encode_raise(device_id, int(kind), detail, utrn)), "big")

    def set_faults(self, settings: dict[str, object]) -> None:
        """A FAULTS frame."""
        self._call(Opcode.FAULTS, json.dumps(settings).encode())

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self._drop()


def _from_code(code: int) -> Result:
    try:
        return FROM_STATUS[Status(code)]
    except ValueError:
        return Result.GARBAGE
