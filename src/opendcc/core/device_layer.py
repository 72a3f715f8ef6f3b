"""Device layers for the Data Service: what a DCC with the Transform but no reachable devices
answers to device SRVs (DUIS 5.4 §3.2 Command Variants, §3.5 response codes).

`TransformOnly` runs the DCC Transform (`core.transform`) on every authorised device SRV, so
the user gets what does not need the device: the Pre-Command of a critical SRV (CV 4,
serviceT) and the command for local delivery (CV 2, 3, 6, 7). Whatever must cross the SM WAN
(CV 1, 3, 5, 7) is acknowledged (I99) and then answered asynchronously with E20, "unable to
communicate with the device", until an emulated estate is plugged in behind the WAN.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Final

from lxml import etree

from opendcc.clock import Clock
from opendcc.core.service import Outcome
from opendcc.core.transform import TransformResult, finish_signed_precommand, transform
from opendcc.duis.catalogue import ServiceRequestVariant
from opendcc.duis.request import DuisRequest
from opendcc.duis.response import acknowledgement, build_response, payload_element, success
from opendcc.duis.response_codes import ResponseCode
from opendcc.gbcs.security import KeyLookup
from opendcc.inventory.model import Device

#: `sr:PreCommand/sr:GBCSVersion`: the GBCS version the RTDS 4.5 vectors are written to.
GBCS_VERSION: Final = "4.0"
_SIGNED: Final = frozenset({5, 6, 7})


class MillisecondCounter:
    """Originator counters for commands the DCC originates: strictly rising, at least the
    current time in milliseconds (so they keep rising across restarts, as the DCC tool's do)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, int(self._clock.now().timestamp() * 1000))
            return self._last


def _b64(octets: bytes) -> str:
    return base64.b64encode(octets).decode("ascii")


def _message(name: str, gbcs: bytes, version: str | None = None) -> etree._Element:
    element = payload_element(name)
    if version is not None:
        element.append(payload_element("GBCSVersion", version))
    element.append(payload_element("GBCSPayload", _b64(gbcs)))
    return element


class TransformOnly:
    """A `DeviceLayer`: the DCC Transform in front of devices the DCC cannot reach."""

    def __init__(self, keys: KeyLookup, counter: Callable[[], int]) -> None:
        self.keys = keys
        self.counter = counter

    def submit(self, request: DuisRequest, srv: ServiceRequestVariant, device: Device,
               now: datetime) -> Outcome:
        """DUIS 5.4 §3.2: transform the request, return what needs no device, E20 for the rest."""
        result = self._transform(request, device, now)
        if result.pre_command:
            return Outcome(success(request, now, _message("PreCommand", result.gbcs, GBCS_VERSION)))
        if result.deliver_locally:
            sync = success(request, now, _message("LocalCommand", result.gbcs))
        else:
            sync = acknowledgement(request, now)
        deferred = []
        if result.send_over_wan:
            deferred.append(build_response(
                str(request.request_id), ResponseCode.E20, now=now,
                service_reference=request.service_reference,
                variant=request.service_reference_variant,
            ))
        return Outcome(sync, deferred)

    def _transform(self, request: DuisRequest, device: Device, now: datetime) -> TransformResult:
        if request.command_variant in _SIGNED:
            return finish_signed_precommand(request, keys=self.keys)
        return transform(request, now=now, counter=self.counter(), keys=self.keys,
                         device_type=device.device_type.value)
