"""The SMETS1 route of the DCC Data Service: a `core.service.DeviceLayer` that sends SRVs for
adopted SMETS1 devices to their provider adapter and everything else to the SMETS2 layer.

DUIS 5.4 §3.5 for Command Variants sent over the WAN (1, 3, 5, 7): I99 now, then the
`SMETS1ResponseMessage` (or the E-code) as the asynchronous response. Other Command Variants
(local delivery, Pre-Commands) are not provided for SMETS1 devices here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from opendcc.core.service import DeviceLayer, Outcome, UnreachableDevices
from opendcc.duis.catalogue import CommandVariant, ServiceRequestVariant
from opendcc.duis.request import DuisRequest
from opendcc.duis.response import acknowledgement
from opendcc.duis.response_codes import DeviceNotReachable, WrongCommandVariant
from opendcc.inventory.lifecycle import DeviceType
from opendcc.inventory.model import Device
from opendcc.smets1.service import Smets1Service, argument_of

WAN_VARIANTS: Final = frozenset(
    {CommandVariant.SEND, CommandVariant.SEND_AND_LOCAL, CommandVariant.SIGNED_SEND,
     CommandVariant.SIGNED_SEND_AND_LOCAL})


class Smets1DeviceLayer:
    """Routes device SRVs: SMETS1 devices to `Smets1Service`, others to `smets2`."""

    def __init__(self, service: Smets1Service, smets2: DeviceLayer | None = None) -> None:
        self.service = service
        self.smets2: DeviceLayer = smets2 or UnreachableDevices()

    @property
    def non_device_handlers(self) -> dict[str, Any]:
        """The non-device SRVs the SMETS2 layer serves (e.g. DCC-scheduled SRVs), passed on."""
        handlers: dict[str, Any] = getattr(self.smets2, "non_device_handlers", {})
        return handlers

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        """I99 now and the device's answer deferred, for SMETS1; otherwise the SMETS2 layer's answer."""
        if device.smets != "SMETS1":
            return self.smets2.submit(request, srv, device, now)
        if request.command_variant not in WAN_VARIANTS:
            raise WrongCommandVariant(
                f"SRV {srv.variant} to SMETS1 device {device.device_id}: Command Variant "
                f"{request.command_variant} is not provided for SMETS1 devices (use 1, 3, 5 or 7)")
        if device.s1sp is None:
            raise DeviceNotReachable(f"SMETS1 device {device.device_id} has no S1SP in the inventory")
        answer = self.service.dispatch(
            request.request_id, srv.variant, argument_of(request), provider=device.s1sp,
            model_name=device.model, fuel="G" if device.device_type is DeviceType.GSME else "E")
        return Outcome(acknowledgement(request, now), [answer.response])
