"""The simulated Home Area Network of one premises: who the Communications Hub can reach.

GBCS/CHTS: the CHF talks only to devices in its Device Log that have joined (the GPF is part
of the hub and always reachable). A command for the battery-powered GSME waits in the GPF until
the GSME next wakes, while reads of GSME data are answered from the GPF's mirror at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from opendcc.devices.chf import CHF
from opendcc.devices.device import Device
from opendcc.devices.errors import UnknownDevice
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME


class DeviceLookup(Protocol):
    """Devices present on a HAN, by ID."""

    def get(self, key: str, default: Device | None = None) -> Device | None:
        """The device with ID `key`."""
        ...


def reach(chf: CHF, target: str, devices: DeviceLookup) -> Device:
    """The device `target` if the hub may talk to it; else NotOnWhitelist/NotJoined/UnknownDevice."""
    if target == chf.id:
        return chf
    chf.check_reachable(target)
    device = devices.get(target)
    if device is None:
        raise UnknownDevice(f"{target} is whitelisted on {chf.id} but not present on the HAN")
    return device


def execution_delay(device: Device, gpf: GPF | None, now: datetime,
                    answered_by_mirror: bool = False) -> float:
    """Seconds between the hub receiving a command and the device executing it."""
    if isinstance(device, GSME) and gpf is not None and not answered_by_mirror:
        return (device.next_contact(now) - now).total_seconds()
    return 0.0
