"""Why a device refuses a command: one short hierarchy, each refusal leaves the device unchanged.

GBCS §7 has a device answer a command it will not execute with an error response; the GBCS
layer maps each class below to the response it builds, and the DCC maps delivery failures to
DUIS response codes. Nothing here is raised after state has been changed.
"""

from __future__ import annotations


class DeviceError(Exception):
    """Base of every refusal by an emulated device or the simulated WAN/HAN."""


class CommandRefused(DeviceError):
    """The device authenticated the command but will not execute it."""


class InvalidArgument(CommandRefused):
    """A command parameter is outside the range the device accepts."""


class NotAuthorised(DeviceError):
    """GBCS §6: the originator is not the remote party the device trusts for that role."""


class ReplayedCounter(DeviceError):
    """GBCS §6.2: originator counter not above the highest seen from that remote party."""

    def __init__(self, originator: str, counter: int, highest: int) -> None:
        super().__init__(f"counter {counter} from {originator} is not above {highest}")
        self.originator = originator
        self.counter = counter
        self.highest = highest


class UtrnRejected(CommandRefused):
    """GBCS §14.3: a top-up UTRN the meter will not apply (replayed, too old or over the cap)."""


class SupplyStateError(CommandRefused):
    """The supply (load switch or valve) cannot make the requested transition."""


class FutureDateExpired(CommandRefused):
    """A future-dated command whose execution time is not in the future."""


class PendingCommandNotFound(CommandRefused):
    """Cancellation of a future-dated command the device does not hold."""


class WrongDevice(CommandRefused):
    """A command sent to a device of a type that does not support it."""


class NotOnWhitelist(DeviceError):
    """CCS01: a device not in the CHF (or GPF) Device Log cannot communicate on the HAN."""


class NotJoined(DeviceError):
    """The device is in the Device Log but has not completed HAN joining."""


class UnknownDevice(DeviceError):
    """No device with that identifier in the estate."""


class DeliveryTimeout(DeviceError):
    """The WAN gave no response before the response deadline, after every retry."""
