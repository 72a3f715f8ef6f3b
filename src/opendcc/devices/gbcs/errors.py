"""Why a device discards a GBCS command without executing it (no Response is sent).

GBCS §6.2 / §7: a device that cannot read a command, or to which it is not addressed as a
Command, discards it. Authentication failures (`NotAuthorised`, `ReplayedCounter`) and HAN
failures (`NotOnWhitelist`, `NotJoined`, `UnknownDevice`) are the device package's own errors
and are raised unchanged. A command the device reads, authenticates and then refuses gets a
Response with the failure result instead (`DeviceGbcsEndpoint.handle`).
"""

from __future__ import annotations

from opendcc.devices.errors import DeviceError


class CommandDiscarded(DeviceError):
    """Base of the GBCS-level reasons a command is discarded."""


class MalformedCommand(CommandDiscarded):
    """The octets are not a GBCS message the codec can read (field and offset in the text)."""


class NotACommand(CommandDiscarded):
    """A Response, Alert or unsigned Pre-Command was sent to a device as a Command."""


class UnsupportedUseCase(CommandDiscarded):
    """The message code names a use case the emulated device does not serve."""


class ResponseFormsUnavailable(UnsupportedUseCase):
    """The Response structure of the use case is learned from the RTDS vectors, and the
    reference folder (`OPENDCC_REFERENCE`) holding them is not there."""
