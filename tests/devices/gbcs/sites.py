"""Helpers for the device-side GBCS tests: keys, a fresh boxed estate, re-signed commands."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from opendcc.clock import SimulatedClock
from opendcc.config import reference_dir
from opendcc.core.transform.dcc_originated import with_seq_number
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import DeviceGbcsEndpoint
from opendcc.devices.tariff import Tariff
from opendcc.gbcs import codec
from opendcc.gbcs.codec import GbcsMessage, Verification
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.payloads import payload_from_json, payload_json
from opendcc.smki.keystore import KeyStore

T0 = datetime(2026, 1, 5, tzinfo=UTC)


@dataclasses.dataclass
class Keys:
    """The device side's keys and the supplier side's view (certificates from the repository)."""

    device_side: KeyStore
    supplier_side: KeyStore


@dataclasses.dataclass
class Site:
    """A fresh boxed estate on a simulated clock, with its GBCS endpoint."""

    clock: SimulatedClock
    estate: Estate
    endpoint: DeviceGbcsEndpoint
    keys: Keys
    counters: Iterator[int]

    def command(self, msg: GbcsMessage, *, counter: int | None = None) -> bytes:
        """The command with a fresh Originator Counter, re-signed and re-MACed."""
        apdu = dataclasses.replace(msg.apdu, originator_counter=counter or next(self.counters))
        if msg.use_case.code == "CS02b":  # GBCS 13.3: the payload repeats the counter
            apdu = dataclasses.replace(apdu, content=with_seq_number(apdu.content,
                                                                     apdu.originator_counter))
        frame = dataclasses.replace(msg.frame, apdu=apdu) if isinstance(msg.frame, GeneralCiphering) \
            else apdu
        return codec.encode(frame, self.keys.device_side)


def make_site(keys: Keys) -> Site:
    clock = SimulatedClock(T0)
    estate = Estate.demo(0, seed=1, clock=clock)
    # The RTDS ESME is a twin-element meter (ECS01c/d, ECS24b address its secondary element).
    esme: Any = estate.device("00-DB-12-34-56-78-90-A0")
    esme.secondary_tariff = Tariff(tou_prices=(1500,), standing_charge=0)
    clock.advance(3600)
    return Site(clock, estate, DeviceGbcsEndpoint(estate, keys.device_side, clock), keys,
                itertools.count(10**12 + 1))


def rtds(name: str) -> GbcsMessage:
    """An RTDS vector by file name (e.g. "ECS43_7.2_SUCCESS_COMMAND_GBCS.HEX")."""
    [path] = (reference_dir() / "gbcs" / "rtds").glob(f"*/{name}")
    return codec.decode(bytes.fromhex(path.read_text().strip()))


def edited(msg: GbcsMessage, change: Callable[[Any], None]) -> GbcsMessage:
    """The message with its payload JSON view changed in place by `change`."""
    view = payload_json(msg.payload)
    change(view)
    return codec.with_payload(msg, payload_from_json(view))


def payload_view(octets: bytes, keys: KeyStore) -> Any:
    """The verified payload JSON view of a device's response."""
    msg = codec.decode(octets, keys)
    assert msg.verification is Verification.VERIFIED
    return payload_json(msg.payload)
