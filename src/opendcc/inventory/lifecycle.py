"""Smart Metering Inventory device statuses (DUIS 5.4 `DeviceStatus`) and the legal moves
between them, as a table.

SEC Appendix (SMI status): a device enters as Pending; Whitelisted once in a comms hub's device
log; InstalledNotCommissioned once installed (comms hub, GPF) or joined; Commissioned when in
service. Decommissioned and Withdrawn are final. Suspended is for a device whose firmware
left the Certified Products List; Recovery/Recovered follow a compromise of the device's
security credentials.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class DeviceStatus(StrEnum):
    """DUIS 5.4 `sr:DeviceStatus`."""

    PENDING = "Pending"
    WHITELISTED = "Whitelisted"
    INSTALLED_NOT_COMMISSIONED = "InstalledNotCommissioned"
    COMMISSIONED = "Commissioned"
    DECOMMISSIONED = "Decommissioned"
    WITHDRAWN = "Withdrawn"
    SUSPENDED = "Suspended"
    RECOVERY = "Recovery"
    RECOVERED = "Recovered"


class DeviceType(StrEnum):
    """DUIS 5.4 `sr:DeviceType`."""

    ESME = "ESME"
    GSME = "GSME"
    GPF = "GPF"
    CHF = "CHF"
    HCALCS = "HCALCS"
    PPMID = "PPMID"
    IHD = "IHD"
    CAD = "CAD"


S = DeviceStatus

TRANSITIONS: Final[dict[DeviceStatus, frozenset[DeviceStatus]]] = {
    S.PENDING: frozenset({S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.WITHDRAWN}),
    S.WHITELISTED: frozenset(
        {S.PENDING, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED, S.DECOMMISSIONED, S.WITHDRAWN}
    ),
    S.INSTALLED_NOT_COMMISSIONED: frozenset(
        {S.COMMISSIONED, S.DECOMMISSIONED, S.SUSPENDED, S.RECOVERY}
    ),
    S.COMMISSIONED: frozenset({S.DECOMMISSIONED, S.SUSPENDED, S.RECOVERY}),
    S.SUSPENDED: frozenset({S.COMMISSIONED, S.INSTALLED_NOT_COMMISSIONED, S.DECOMMISSIONED}),
    S.RECOVERY: frozenset({S.RECOVERED, S.DECOMMISSIONED}),
    S.RECOVERED: frozenset({S.COMMISSIONED, S.DECOMMISSIONED}),
    S.DECOMMISSIONED: frozenset(),
    S.WITHDRAWN: frozenset(),
}

# Which device SRVs the DCC sends to a device in each status: `inventory.smi_status`.


class IllegalTransition(ValueError):
    """A status change the SMI lifecycle does not allow."""


def can_move(old: DeviceStatus, new: DeviceStatus) -> bool:
    """True if the SMI lifecycle allows `old` -> `new`."""
    return new in TRANSITIONS[old]


def check_move(device_id: str, old: DeviceStatus, new: DeviceStatus) -> None:
    """Raise IllegalTransition naming the device and the allowed next statuses."""
    if not can_move(old, new):
        allowed = ", ".join(sorted(TRANSITIONS[old])) or "none (final status)"
        raise IllegalTransition(
            f"device {device_id}: {old} -> {new} is not a legal SMI status change "
            f"(allowed from {old}: {allowed})"
        )
