"""DUIS access control: may this user send this Service Request, this way, to this device?

Pure decisions over data the caller has fetched (the user, the SRV catalogue row, the device's
inventory record, the registration data in force). Each failure raises the `DuisError` that
carries the response code DUIS 5.4 §3.5 assigns:

| check | code |
| --- | --- |
| signer is a DUIS user | E1 `UserUnknown` |
| signer is the RequestID originator | E1 `SignerNotOriginator` |
| Command Variant fits the SRV (critical 4-7, non-device 8, others 1-3) | E12 `WrongCommandVariant` |
| the Command Variant is sent to its URL (serviceD / serviceS / serviceT) | E13 `WrongEndpoint` |
| one of the user's roles is eligible for the SRV | E2 `RoleNotEligible` |
| the target device is in the inventory | E19 `DeviceUnknown` |
| the user is the registered party for the device in an eligible role | E4 `NotRegisteredParty` |
| the device's SMI status lets the DCC address it | E5 `DeviceStatusInvalid` |
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from opendcc.core.users import User
from opendcc.duis.catalogue import CommandVariant, ServiceRequestVariant
from opendcc.duis.response_codes import (
    DeviceStatusInvalid,
    DeviceUnknown,
    NotRegisteredParty,
    RoleNotEligible,
    SignerNotOriginator,
    UserUnknown,
    WrongEndpoint,
)
from opendcc.ids import EUI64, RequestID
from opendcc.inventory.model import Device, Registration
from opendcc.inventory.smi_status import admits, statuses_for

# Registered-party roles by kind of meter point: an MPAN (13 digits) is electricity, an MPRN gas.
_SUPPLIER_ROLES: Final = {True: frozenset({"IS", "ES"}), False: frozenset({"GS"})}
_NETWORK_OPERATOR_ROLES: Final = {True: frozenset({"ED"}), False: frozenset({"GT"})}
# Other Users are not registered parties; their right to a device comes from the consumer
# (outside the DCC's registration data), so DUIS access control does not tie them to an MPxN.
_UNREGISTERED_ROLES: Final = frozenset({"OU"})


@dataclass(frozen=True, slots=True)
class DeviceAccess:
    """What access control needs to know about a target device."""

    device: Device | None  # None: not in the Smart Metering Inventory
    registrations: tuple[Registration, ...]  # in force now, for the device's meter points


def check_user(user: User | None, signer: EUI64, request_id: RequestID) -> User:
    """DUIS 5.4 §3.4: the signer must be a DUIS user and the RequestID's originator (E1)."""
    if signer != request_id.originator:
        raise SignerNotOriginator(
            f"RequestID originator {request_id.originator} is not the signer {signer}"
        )
    if user is None:
        raise UserUnknown(f"{signer} is not a DUIS user of this DCC")
    return user


def check_command_variant(srv: ServiceRequestVariant, command_variant: int, endpoint: str) -> None:
    """DUIS 5.4 §3.4: the Command Variant fits the SRV (E12) and the URL it came to (E13)."""
    srv.check_command_variant(command_variant)
    expected = CommandVariant(command_variant).endpoint
    if endpoint != expected:
        raise WrongEndpoint(
            f"Command Variant {command_variant} of SRV {srv.variant} goes to {expected}, "
            f"not {endpoint}"
        )


def check_role(user: User, srv: ServiceRequestVariant) -> frozenset[str]:
    """DUIS 5.4 §3.4: one of the user's roles is eligible for the SRV (E2); those roles."""
    roles = user.roles & srv.eligible_roles
    if not roles:
        eligible = " ".join(sorted(srv.eligible_roles)) or "none (DCC only)"
        raise RoleNotEligible(
            f"user {user.user_id} holds {' '.join(sorted(user.roles))}; SRV {srv.variant} "
            f"({srv.name}) is for {eligible}"
        )
    return roles


def registered_roles(user_id: EUI64, registrations: Iterable[Registration]) -> frozenset[str]:
    """The roles in which the registration data make `user_id` a party for these meter points."""
    roles: frozenset[str] = frozenset()
    for reg in registrations:
        electricity = reg.mpxn.is_mpan
        if reg.supplier_id == user_id:
            roles |= _SUPPLIER_ROLES[electricity]
        if reg.network_operator_id == user_id:
            roles |= _NETWORK_OPERATOR_ROLES[electricity]
    return roles


def check_device(
    user: User, srv: ServiceRequestVariant, eligible: frozenset[str], target: EUI64,
    access: DeviceAccess,
) -> Device:
    """DUIS 5.4 §3.4: the target exists (E19), the user is its registered party in a role
    eligible for the SRV (E4), and its SMI status lets the DCC address it (E5)."""
    device = access.device
    if device is None:
        raise DeviceUnknown(f"device {target} is not in the Smart Metering Inventory")
    allowed = eligible & (registered_roles(user.user_id, access.registrations) | _UNREGISTERED_ROLES)
    if not allowed:
        points = ", ".join(str(r.mpxn) for r in access.registrations) or "no registered meter point"
        raise NotRegisteredParty(
            f"user {user.user_id} is not the registered {'/'.join(sorted(eligible))} for "
            f"device {target} ({points})"
        )
    if not admits(device.status, srv.variant):  # the SMI Status table (inventory.smi_status)
        raise DeviceStatusInvalid(
            f"device {target} is {device.status}; SRV {srv.variant} needs one of "
            f"{', '.join(sorted(statuses_for(srv.variant))) or 'none'}"
        )
    return device
