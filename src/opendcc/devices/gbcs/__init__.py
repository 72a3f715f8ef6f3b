"""The device side of GBCS: emulated devices that read GBCS Commands and answer GBCS Responses.

    from opendcc.devices.gbcs import DeviceGbcsEndpoint, issue_device_credentials, layered
    endpoint = DeviceGbcsEndpoint(estate, keys, clock)
    [response] = endpoint.handle(command_octets)
"""

from opendcc.devices.gbcs.endpoint import Answer, DeviceGbcsEndpoint, addressee
from opendcc.devices.gbcs.errors import (
    CommandDiscarded,
    MalformedCommand,
    NotACommand,
    UnsupportedUseCase,
)
from opendcc.devices.gbcs.keys import device_private_key, issue_device_credentials, layered

__all__ = [
    "Answer",
    "CommandDiscarded",
    "DeviceGbcsEndpoint",
    "MalformedCommand",
    "NotACommand",
    "UnsupportedUseCase",
    "addressee",
    "device_private_key",
    "issue_device_credentials",
    "layered",
]
