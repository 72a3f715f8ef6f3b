"""Configuration the device models do not keep: recorded on the device as GBCS carried it.

Some commands set configuration the emulated devices have no model of yet (supplier contact
details, event behaviours, auxiliary controller descriptions, billing calendars, the CHF
sub-GHz settings, ...) or reset counters they do not keep (RMS voltage, block counters). A
device still authenticates such a command, answers it with the Response GBCS specifies and
records what it was sent, per use case, so that the change is observable
(`RecordedSettings.of`). Nothing else on the device changes, and reads of these settings are
not answered from the record yet.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import WrongDevice
from opendcc.devices.gbcs.authored_more import RECORDED as AUTHORED_RECORDED
from opendcc.devices.gbcs.authored_variants import RECORDED as VARIANTS_RECORDED
from opendcc.devices.use_cases import USE_CASES

_E, _G, _C, _P = DeviceType.ESME, DeviceType.GSME, DeviceType.CHF, DeviceType.GPF

#: GBCS use case -> the device type that records the configuration it sets (GBCS use-case
#: table: ECS for the ESME, GCS for the GSME or its GPF, DBCH for the CHF).
RECORDED: dict[str, DeviceType] = {
    "ECS05": _E,    # Reset Tariff Block Counter Matrix
    "ECS10": _E,    # Send Message to Meter
    "ECS15c": _E,   # Clear Auxiliary Controller Event Log
    "ECS16": _E,    # Write Supplier Contact Details
    "ECS25a1": _E,  # Set Event Behaviours (supplier)
    **VARIANTS_RECORDED,  # ECS25a2/a3: no RTDS vector (authored_variants.py)
    "ECS25b": _E,   # Set Event Behaviours (network operator)
    "ECS25r1": _E,  # Set Event Behaviours (alerts)
    "ECS25r2": _E,
    "ECS29e": _E,   # Reset RMS Voltage Counters
    "ECS30": _E,    # Set Billing Calendar
    "ECS34": _E,    # Set Instantaneous Power Threshold Configuration
    "ECS46a": _E,   # Set Auxiliary Controller Descriptions
    "ECS46c": _E,   # Update Auxiliary Controller Configuration
    "ECS47": _E,    # Set Auxiliary Controller State
    "ECS62": _E,    # Set ALCS/APC and Boost Function Association
    **AUTHORED_RECORDED,  # ECS12, ECS50: no RTDS vector (authored_more.py)
    "GCS09": _P,    # Set Change of Tenancy date (held by the GPF)
    "GCS11": _G,    # Disable Privacy PIN Protection
    "GCS25": _G,    # Set Billing Calendar
    "GCS31": _G,    # Start Network Data Log
    "GCS36": _G,    # Send CIN to meter
    "DBCH04": _C,   # Set CHF Sub GHz Configuration
}

#: Use cases any device type takes: GBCS 6.15.2 Update Device Certificates on Device. The
#: device checks the certificate before recording it (`endpoint._check_certificate`).
CERTIFICATE_UPDATES = frozenset({"CS02d"})

#: Reads any device answers from its own credentials, whatever its type (GBCS 6.24).
DEVICE_READS = frozenset({"CS02e"})  # Provide Device Certificates from Device


#: Trust anchor replacement, GBCS 13.3 Update Security Credentials (`credentials.py`).
SECURITY_CREDENTIALS = frozenset({"CS02b"})


def served(use_case: str) -> bool:
    """Whether the emulated devices answer this GBCS use case (executed, recorded or read)."""
    return use_case in USE_CASES or use_case in RECORDED or use_case in DEVICE_READS \
        or use_case in CERTIFICATE_UPDATES or use_case in SECURITY_CREDENTIALS


@dataclass(frozen=True, slots=True)
class Recorded:
    """The payload a device was last sent for a use case, and when it took it."""

    use_case: str
    payload: Any
    at: datetime


@dataclass(slots=True)
class RecordedSettings:
    """Per device ID, the last command payload taken for each recorded use case."""

    by_device: dict[str, dict[str, Recorded]] = field(default_factory=dict)

    def record(self, use_case: str, device: Device, payload: Any, now: datetime) -> Recorded:
        """Take the command's configuration; `WrongDevice` if it is not for this device type."""
        kind = RECORDED.get(use_case, device.kind)
        if device.kind is not kind:
            raise WrongDevice(f"{use_case} is for a {kind.value}, not the "
                              f"{device.kind.value} {device.id}")
        entry = Recorded(use_case, copy.deepcopy(payload), now)
        self.by_device.setdefault(device.id, {})[use_case] = entry
        return entry

    def of(self, device_id: str) -> dict[str, Recorded]:
        """What the device recorded, by use case."""
        return dict(self.by_device.get(device_id, {}))
