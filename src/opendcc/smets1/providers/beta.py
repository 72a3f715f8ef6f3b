"""Provider "beta": a SMETS1 head-end speaking binary length-prefixed frames over TCP.

Frames are in `beta_wire`. Several requests may be in flight on one connection; answers carry
the correlation id of their request. Run as its own process:
`python -m opendcc.smets1.providers.beta --port N --size 5000`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random

from opendcc.smets1.providers import beta_wire as wire
from opendcc.smets1.providers.beta_wire import AlertRecord, MeterRecord, Opcode
from opendcc.smets1.providers.estate import AlertKind, Estate, Op, Status, chance


class BetaServer:
    """Answers beta frames against one estate."""

    def __init__(self, estate: Estate) -> None:
        self.estate = estate
        self.rng = random.Random(estate.seed)
        self.calls = 0

    def _status(self, device_id: str, kind: str, status: Status) -> int:
        if self.estate.garbled(device_id, kind):
            return self.rng.randrange(0xA0, 0xFF)  # not a status the protocol defines
        return int(status)

    def answer(self, opcode: int, payload: bytes, *, limit: int | None = None) -> bytes:
        """The answer payload for one request (`limit`: act on only the first n devices)."""
        estate = self.estate
        if opcode == Opcode.QUERY:
            records = []
            for device_id in wire_ids(payload):
                meter = estate.meters.get(device_id)
                if meter is None:
                    records.append(MeterRecord(device_id, int(Status.UNKNOWN_DEVICE)))
                else:
                    records.append(MeterRecord(device_id, 0, meter.model, meter.firmware, meter.fuel,
                                               meter.mpxn, meter.owner, meter.dormant))
            return wire.encode_query_answer(records)
        if opcode in (Opcode.REKEY, Opcode.RESTORE):
            caller, pairs = wire.decode_pairs(payload)
            results = []
            for device_id, holder in pairs[:limit]:
                if opcode == Opcode.REKEY:
                    status = estate.replace_credentials(device_id, holder, caller)
                else:
                    status = estate.restore_credentials(device_id, caller, holder)
                results.append((device_id, self._status(device_id, "key", status), 0))
            return wire.encode_results(results)
        if opcode == Opcode.COMMAND:
            caller, commands = wire.decode_commands(payload)
            results = []
            for device_id, op, argument in commands[:limit]:
                status, value = estate.command(caller, device_id, Op(op), argument)
                results.append((device_id, self._status(device_id, "command", status), value))
            return wire.encode_results(results)
        if opcode == Opcode.ALERTS:
            caller, after = wire.decode_alerts_request(payload)
            return wire.encode_alerts([AlertRecord(a.sequence, a.device_id, int(a.kind), a.at, a.detail, a.utrn)
                                       for a in estate.alerts_for(caller, after)])
        if opcode == Opcode.FAULTS:
            estate.faults.update(json.loads(payload))
            return b""
        if opcode == Opcode.RAISE:
            device_id, kind, detail, utrn = wire.decode_raise(payload)
            alert = estate.raise_alert(device_id, AlertKind(kind), detail, utrn)
            if alert is None:
                raise KeyError(f"unknown meter {device_id}")
            return alert.sequence.to_bytes(4, "big")
        raise wire.FrameError(f"unknown beta opcode 0x{opcode:02X}")

    async def serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Read frames until the peer closes; answer each in order."""
        try:
            while True:
                try:
                    head = await reader.readexactly(wire.HEADER.size)
                except asyncio.IncompleteReadError:
                    return
                length, correlation, opcode = wire.split_header(head)
                payload = await reader.readexactly(length)
                if opcode not in (Opcode.FAULTS, Opcode.RAISE) and self.estate.faults.in_outage():
                    writer.write(wire.frame(correlation, Opcode.ERROR, b"head-end out of service"))
                    await writer.drain()
                    continue
                self.calls += 1
                dropped = (opcode in (Opcode.REKEY, Opcode.RESTORE, Opcode.COMMAND)
                           and self.estate.faults.drop_rate > 0
                           and chance(self.estate.seed, "drop", str(self.calls), 0)
                           < self.estate.faults.drop_rate)
                if dropped:
                    count = int.from_bytes(payload[8:10], "big")
                    self.answer(opcode, payload, limit=count // 2)
                    return  # the connection drops with half the work done and no answer
                try:
                    body = self.answer(opcode, payload)
                    writer.write(wire.frame(correlation, opcode | wire.ANSWER, body))
                except (wire.FrameError, ValueError, KeyError) as exc:
                    writer.write(wire.frame(correlation, Opcode.ERROR, str(exc).encode()))
                await writer.drain()
        except (ConnectionError, wire.FrameError):
            return
        finally:
            writer.close()


def wire_ids(payload: bytes) -> list[str]:
    """Device ids from a QUERY payload."""
    reader = wire.Reader(payload)
    return [reader.eui() for _ in range(reader.u16())]


async def serve(estate: Estate, host: str, port: int) -> None:
    """Serve beta frames until cancelled."""
    server = BetaServer(estate)
    listener = await asyncio.start_server(server.serve_connection, host, port)
    async with listener:
        await listener.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Serve a beta estate: `python -m opendcc.smets1.providers.beta --port N`."""
    parser = argparse.ArgumentParser(description="SMETS1 provider beta (binary frames over TCP)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dormant-ratio", type=float, default=0.05)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--garbage-rate", type=float, default=0.0)
    parser.add_argument("--drop-rate", type=float, default=0.0)
    parser.add_argument("--model", default=None, help="only meters of this model")
    args = parser.parse_args(argv)
    estate = Estate.generate("beta", args.size, args.seed, args.dormant_ratio, args.model)
    estate.faults.update({"failure_rate": args.failure_rate, "garbage_rate": args.garbage_rate,
                          "drop_rate": args.drop_rate})
    asyncio.run(serve(estate, args.host, args.port))


if __name__ == "__main__":
    main()
