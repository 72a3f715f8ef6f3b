"""Helpers for the device-side GBCS tests: keys, a fresh boxed estate, re-signed commands."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime

from opendcc.clock import SimulatedClock
from opendcc.devices.estate import Estate
from opendcc.devices.gbcs import DeviceGbcsEndpoint
from opendcc.gbcs import codec
from opendcc.gbcs.codec import GbcsMessage
from opendcc.gbcs.general_ciphering import GeneralCiphering
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
        frame = dataclasses.replace(msg.frame, apdu=apdu) if isinstance(msg.frame, GeneralCiphering) \
            else apdu
        return codec.encode(frame, self.keys.device_side)


def make_site(keys: Keys) -> Site:
    clock = SimulatedClock(T0)
    estate = Estate.demo(0, seed=1, clock=clock)
    clock.advance(3600)
    return Site(clock, estate, DeviceGbcsEndpoint(estate, keys.device_side, clock), keys,
                itertools.count(10**12 + 1))
