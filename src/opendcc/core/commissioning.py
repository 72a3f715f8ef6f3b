"""Installation and commissioning: the SRVs that move devices along the SMI lifecycle.

Non-device SRVs (Command Variant 8, answered by the DCC from the inventory):

| SRV | body | effect on the Smart Metering Inventory |
| --- | --- | --- |
| 12.2 Device Pre-notification | DevicePrenotification | a new device, Pending |
| 8.14.1 CH Status Update - Install Success | CHFInstallSuccessSMWAN | CHF Commissioned, its GPF InstalledNotCommissioned |
| 8.14.2 CH Status Update - Install No SM WAN | CHFInstallSuccessNoSMWAN | CHF (and GPF) InstalledNotCommissioned |
| 8.14.3 / 8.14.4 CH Fault / No Fault Return | CHFFaultReturn, CHFNoFaultReturn | CHF and GPF Withdrawn (never installed) or Decommissioned |
| 8.3 Decommission Device | DecommissionDevice | Decommissioned |
| 8.4 Update Inventory | UpdateInventory | status (Pending / InstalledNotCommissioned; a CHF: Commissioned / Withdrawn / InstalledNotCommissioned), details, MPxNs, delete a Pending device |

Device SRVs change the inventory when the device has carried them out (`DEVICE_EFFECTS`,
applied by `apply_device_success`): 8.11 (CCS01, a device added to the CHF Device Log)
whitelists it; the device joining the HAN makes it InstalledNotCommissioned
(`record_han_join`); 8.1.1 (ECS70 / GCS28) commissions a meter (a GSME's GPF with it); 8.7
joins a PPMID, IHD or CAD to a meter and commissions it. `check_device_srv` refuses such an SRV
up front when the target's status could not make the move.

Every refusal is a DUIS error naming the device and its status, and changes nothing: E19 the
device is not in the inventory, E11 the SRV does not fit the device type, E4 the user is not a
registered party of the device's meter points, E5 the lifecycle table (`inventory.lifecycle`)
does not allow the move.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final

from lxml import etree
from sqlalchemy.engine import Connection

from opendcc.core.access_control import registered_roles
from opendcc.duis.request import SR, DuisRequest
from opendcc.duis.response import success
from opendcc.duis.response_codes import (
    DeviceStatusInvalid,
    DeviceTypeInvalid,
    DeviceUnknown,
    NotRegisteredParty,
)
from opendcc.ids import EUI64, InvalidIdentifier, MPxN
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType, can_move
from opendcc.inventory.model import Device
from opendcc.store import inventory as inventory_repo

S = DeviceStatus
T = DeviceType

NonDeviceHandler = Callable[[Connection, DuisRequest, datetime], etree._Element]


class IllegalStatusChange(DeviceStatusInvalid):
    """E5: the SMI lifecycle does not allow this device's status to change this way."""


def _text(element: etree._Element, name: str) -> str | None:
    value = element.findtext(f"{{{SR}}}{name}")
    return None if value is None else value.strip()


def _device_id(text: str | None) -> EUI64:
    try:
        return EUI64.parse(text or "")
    except InvalidIdentifier:
        raise DeviceUnknown(f"{text!r} is not a Device ID in the Smart Metering Inventory") from None


def require_device(conn: Connection, device_id: EUI64) -> Device:
    """The device's inventory record, or E19."""
    device = inventory_repo.get_device(conn, device_id)
    if device is None:
        raise DeviceUnknown(f"device {device_id} is not in the Smart Metering Inventory")
    return device


def require_type(device: Device, srv: str, *allowed: DeviceType) -> None:
    """E11 unless the device is one of `allowed`."""
    if device.device_type not in allowed:
        raise DeviceTypeInvalid(
            f"SRV {srv} is for {'/'.join(sorted(allowed))}, not the {device.device_type} "
            f"{device.device_id}"
        )


def require_party(conn: Connection, user_id: EUI64, device: Device, now: datetime) -> None:
    """E4 unless `user_id` is a registered party of the device's meter points now.

    A device no meter point is tied to yet (pre-notified, not yet on a hub) has no registered
    party, so any eligible user may act on it.
    """
    registrations = [
        reg for m in inventory_repo.responsible_mpxns(conn, device)
        if (reg := inventory_repo.registration_at(conn, m, now)) is not None
    ]
    if registrations and not registered_roles(user_id, registrations):
        points = ", ".join(str(r.mpxn) for r in registrations)
        raise NotRegisteredParty(
            f"user {user_id} is not a registered party of device {device.device_id} ({points})"
        )


def require_move(device: Device, new: DeviceStatus, srv: str) -> None:
    """E5 unless the lifecycle allows the device's status to become `new`."""
    if not can_move(device.status, new):
        raise IllegalStatusChange(
            f"SRV {srv}: device {device.device_id} is {device.status}; the SMI lifecycle does "
            f"not allow {device.status} -> {new}"
        )


def move(conn: Connection, device: Device, new: DeviceStatus, srv: str,
         now: datetime | None = None) -> Device:
    """Check and apply one lifecycle move (a Commissioned device gets its commissioning date)."""
    require_move(device, new, srv)
    moved = inventory_repo.set_status(conn, device.device_id, new)
    if new is S.COMMISSIONED and now is not None and moved.date_commissioned is None:
        moved = replace(moved, date_commissioned=now.date())
        inventory_repo.put_device(conn, moved)
    return moved


def move_along(conn: Connection, device: Device, path: tuple[DeviceStatus, ...], srv: str,
               now: datetime) -> Device:
    """Move through `path` from wherever the device is on it; E5 if it cannot get onto it.

    Checked before anything is written, so a refusal changes nothing.
    """
    steps = list(path[path.index(device.status) + 1:]) if device.status in path else list(path)
    status = device.status
    for step in steps:
        require_move(replace(device, status=status), step, srv)
        status = step
    for step in steps:
        device = move(conn, device, step, srv, now)
    return device


# --- non-device SRVs ----------------------------------------------------------------------------

def pre_notify_device(conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
    """DUIS 5.4 SRV 12.2 Device Pre-notification: the device enters the inventory as Pending."""
    body = request.body
    device_id = _device_id(_text(body, "DeviceID"))
    existing = inventory_repo.get_device(conn, device_id)
    if existing is not None:
        raise IllegalStatusChange(
            f"SRV 12.2: device {device_id} is already in the inventory ({existing.status})"
        )
    inventory_repo.put_device(conn, Device(
        device_id=device_id,
        device_type=DeviceType(_text(body, "DeviceType") or ""),
        status=S.PENDING,
        manufacturer=_text(body, "DeviceManufacturer") or "",
        model=_text(body, "DeviceModel") or "",
        firmware=_text(body, "FirmwareVersion"),
    ))
    return success(request, now)


# CHF status updates: the path the CHF (and the GPF on its hub) takes, by SRV.
_CH_STATUS: Final[dict[str, tuple[tuple[DeviceStatus, ...], tuple[DeviceStatus, ...]]]] = {
    "8.14.1": ((S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED), (S.INSTALLED_NOT_COMMISSIONED,)),
    "8.14.2": ((S.INSTALLED_NOT_COMMISSIONED,), (S.INSTALLED_NOT_COMMISSIONED,)),
}


def _returned(device: Device) -> tuple[DeviceStatus, ...]:
    # A hub never installed goes back as Withdrawn; one that was installed is Decommissioned.
    return (S.WITHDRAWN,) if device.status in (S.PENDING, S.WHITELISTED) else (S.DECOMMISSIONED,)


def _hub_gpfs(conn: Connection, chf: Device) -> list[Device]:
    return _hub_gpfs_of(conn, chf.device_id)


def ch_status_update(conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
    """DUIS 5.4 SRV 8.14.1-8.14.4 Communications Hub Status Update: the CHF and its GPF move
    to installed (commissioned when the SM WAN is there) or back out of the estate."""
    srv = request.service_reference_variant
    body = request.body
    chf = require_device(conn, _device_id(_text(body, "DeviceID")))
    require_type(chf, srv, T.CHF)
    user = request.request_id.originator
    mpxn_text = _text(body, "MPxN")
    if mpxn_text is not None:
        # The installing supplier names the premises' meter point and must be registered for it.
        try:
            mpxn = MPxN.parse(mpxn_text)
        except InvalidIdentifier:
            raise NotRegisteredParty(f"SRV {srv}: {mpxn_text!r} is not an MPxN") from None
        reg = inventory_repo.registration_at(conn, mpxn, now)
        if reg is None or not registered_roles(user, [reg]):
            raise NotRegisteredParty(
                f"SRV {srv}: user {user} is not the registered supplier of {mpxn} "
                f"({'no registration' if reg is None else reg.supplier_id})"
            )
    else:
        require_party(conn, user, chf, now)
    gpfs = _hub_gpfs(conn, chf)
    if srv in _CH_STATUS:
        chf_path, gpf_path = _CH_STATUS[srv]
        pending_gpfs = [g for g in gpfs if g.status in (S.PENDING, S.WHITELISTED)]
        for gpf in pending_gpfs:  # check all before writing any
            move_along_check(gpf, gpf_path, srv)
        move_along(conn, chf, chf_path, srv, now)
        for gpf in pending_gpfs:
            move_along(conn, gpf, gpf_path, srv, now)
    else:
        for device in (chf, *gpfs):
            move_along_check(device, _returned(device), srv)
        for device in (chf, *gpfs):
            move_along(conn, device, _returned(device), srv, now)
    return success(request, now)


def move_along_check(device: Device, path: tuple[DeviceStatus, ...], srv: str) -> None:
    """`move_along`'s checks alone (E5), writing nothing."""
    steps = list(path[path.index(device.status) + 1:]) if device.status in path else list(path)
    status = device.status
    for step in steps:
        require_move(replace(device, status=status), step, srv)
        status = step


def decommission_device(conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
    """DUIS 5.4 SRV 8.3 Decommission Device: the device leaves service for good."""
    device = require_device(conn, _device_id(_text(request.body, "DeviceID")))
    require_party(conn, request.request_id.originator, device, now)
    move(conn, device, S.DECOMMISSIONED, "8.3", now)
    return success(request, now)


_DETAIL_FIELDS: Final = {"DeviceManufacturer": "manufacturer", "DeviceModel": "model",
                         "FirmwareVersion": "firmware"}
_MPXN_FIELDS: Final = {"ImportMPxN": "mpxn", "SecondaryImportMPAN": "secondary_import_mpan",
                       "ExportMPAN": "export_mpan"}


def update_inventory(conn: Connection, request: DuisRequest, now: datetime) -> etree._Element:
    """DUIS 5.4 SRV 8.4 Update Inventory: a status the user may set, device details, MPxNs,
    or deleting a device still Pending."""
    body = request.body
    device = require_device(conn, _device_id(_text(body, "DeviceID")))
    require_party(conn, request.request_id.originator, device, now)
    change = next(c for c in body if isinstance(c.tag, str) and etree.QName(c).localname != "DeviceID")
    kind = etree.QName(change).localname
    if kind == "UpdateDeviceStatusExceptCH":
        if device.device_type is T.CHF:
            raise DeviceTypeInvalid(f"SRV 8.4: {device.device_id} is a CHF; use UpdateDeviceStatusCH")
        move(conn, device, DeviceStatus((change.text or "").strip()), "8.4", now)
    elif kind == "UpdateDeviceStatusCH":
        require_type(device, "8.4 UpdateDeviceStatusCH", T.CHF)
        move(conn, device, DeviceStatus((change.text or "").strip()), "8.4", now)
    elif kind == "UpdateDeviceDetails":
        values = {attr: _text(change, name) for name, attr in _DETAIL_FIELDS.items()
                  if _text(change, name) is not None}
        inventory_repo.put_device(conn, replace(device, **values))  # type: ignore[arg-type]
    elif kind == "UpdateMPxN":
        [(name, value)] = [(etree.QName(c).localname, (c.text or "").strip())
                           for c in change if isinstance(c.tag, str)]
        changes: dict[str, object] = {_MPXN_FIELDS[name]: MPxN.parse(value)}
        inventory_repo.put_device(conn, replace(device, **changes))  # type: ignore[arg-type]
    else:  # DeleteDevice
        if device.status is not S.PENDING:
            raise IllegalStatusChange(
                f"SRV 8.4: only a Pending device can be deleted; {device.device_id} is {device.status}"
            )
        inventory_repo.delete_device(conn, device.device_id)
    return success(request, now)


# The non-device SRVs of this module, by Service Reference Variant (the DataService's table).
NON_DEVICE_HANDLERS: Final[dict[str, NonDeviceHandler]] = {
    "12.2": pre_notify_device,
    "8.3": decommission_device,
    "8.4": update_inventory,
    "8.14.1": ch_status_update,
    "8.14.2": ch_status_update,
    "8.14.3": ch_status_update,
    "8.14.4": ch_status_update,
}


# --- device SRVs: the inventory follows the device -----------------------------------------------

# SRV -> (which device moves: the request's target or the OtherDeviceID it names, the path).
DEVICE_EFFECTS: Final[dict[str, tuple[str, tuple[DeviceStatus, ...]]]] = {
    "8.11": ("other", (S.WHITELISTED,)),  # CCS01: added to the CHF Device Log
    "8.1.1": ("target", (S.COMMISSIONED,)),  # ECS70 / GCS28: the meter's clock set, commissioned
    "8.7.1": ("other", (S.COMMISSIONED,)),  # a PPMID / IHD / CAD joined to a meter
    "8.7.2": ("other", (S.COMMISSIONED,)),
}

# Statuses in which a device already has what the SRV gives it: the SRV is accepted and the
# status stays (8.11 for a device joined or in service: re-adding it to a hub's device log).
_ALREADY: Final[dict[str, frozenset[DeviceStatus]]] = {
    "8.11": frozenset({S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED}),
}


def _path(srv: str, device: Device) -> tuple[DeviceStatus, ...]:
    return (device.status,) if device.status in _ALREADY.get(srv, ()) else DEVICE_EFFECTS[srv][1]


@dataclass(frozen=True, slots=True)
class DeviceEffect:
    """The inventory change a device SRV makes once the device has carried it out."""

    srv: str
    target: EUI64
    other: EUI64 | None = None


def device_effect(request: DuisRequest) -> DeviceEffect | None:
    """The `DEVICE_EFFECTS` change `request` makes on success, or None: 8.11 names the device
    added to the CHF Device Log in `UpdateHANDeviceLog/DeviceID` (only RequestType Add adds
    it), 8.7 the device joined in `OtherDeviceID`."""
    srv = request.service_reference_variant
    if srv not in DEVICE_EFFECTS:
        return None
    body = request.body
    other: str | None = None
    if srv == "8.11":  # the body is the UpdateHANDeviceLog
        if _text(body, "RequestType") != "Add":
            return None
        other = _text(body, "DeviceID")
    elif DEVICE_EFFECTS[srv][0] == "other":
        found = body.find(f".//{{{SR}}}OtherDeviceID")
        other = None if found is None else (found.text or "").strip()
    target = request.request_id.target
    return DeviceEffect(srv, target, None if other is None else _device_id(other))


def _effect_subject(conn: Connection, srv: str, target: EUI64, other: EUI64 | None) -> Device:
    which, _ = DEVICE_EFFECTS[srv]
    if which == "other":
        if other is None:
            raise DeviceUnknown(f"SRV {srv} names no OtherDeviceID")
        return require_device(conn, other)
    return require_device(conn, target)


def check_device_srv(conn: Connection, srv: str, target: EUI64, other: EUI64 | None = None) -> None:
    """Before sending an inventory-changing device SRV: E19 / E5 if it could not take effect.

    A signed Pre-Command (CV 5-7) names the other device of an 8.7 only inside its GBCS
    (`other` None): that was checked when the DCC made the Pre-Command (CV 4).
    """
    if srv in DEVICE_EFFECTS and not (DEVICE_EFFECTS[srv][0] == "other" and other is None):
        subject = _effect_subject(conn, srv, target, other)
        move_along_check(subject, _path(srv, subject), srv)


def apply_device_success(conn: Connection, srv: str, target: EUI64, now: datetime,
                         other: EUI64 | None = None) -> Device | None:
    """After the device carried out `srv` successfully: the inventory change it implies."""
    if srv not in DEVICE_EFFECTS:
        return None
    subject = _effect_subject(conn, srv, target, other)
    moved = move_along(conn, subject, _path(srv, subject), srv, now)
    if srv == "8.11" and moved.chf_id is None and moved.device_type is not T.CHF:
        moved = replace(moved, chf_id=target)  # whitelisted on this hub: it is on its HAN now
        inventory_repo.put_device(conn, moved)
    if srv == "8.1.1" and moved.device_type is T.GSME and moved.chf_id is not None:
        # The GPF serves the gas meter's data (reads of gas data go to it): it enters service
        # with the first GSME commissioned on its hub.
        for gpf in _hub_gpfs_of(conn, moved.chf_id):
            if gpf.status is S.INSTALLED_NOT_COMMISSIONED:
                move(conn, gpf, S.COMMISSIONED, srv, now)
    return moved


def _hub_gpfs_of(conn: Connection, chf_id: EUI64) -> list[Device]:
    return [d for d in inventory_repo.devices_on_hub(conn, chf_id)
            if d.device_type is T.GPF and d.device_id != chf_id]


# Statuses a device keeps when it joins a HAN again (a power cycle, a hub exchange): it has
# been installed already.
_JOINED_ALREADY: Final = frozenset({S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED, S.RECOVERED,
                                    S.SUSPENDED})


def record_han_join(conn: Connection, device_id: EUI64, now: datetime) -> Device:
    """The CHF reports a whitelisted device joined its HAN: InstalledNotCommissioned.

    A device already installed keeps its status; E19 for a device not in the inventory, E5
    for one the lifecycle does not let become InstalledNotCommissioned (Decommissioned,
    Withdrawn, Recovery).
    """
    device = require_device(conn, device_id)
    if device.status in _JOINED_ALREADY:
        return device
    return move(conn, device, S.INSTALLED_NOT_COMMISSIONED, "HAN join", now)


# --- suspension and recovery ---------------------------------------------------------------------

def suspend_device(conn: Connection, device_id: EUI64, now: datetime) -> Device:
    """SEC Appendix (CPL): the device's firmware left the Certified Products List: Suspended
    (the DCC then sends it only what can bring it back, such as a firmware update)."""
    return move(conn, require_device(conn, device_id), S.SUSPENDED, "CPL removal", now)


def reinstate_device(conn: Connection, device_id: EUI64, now: datetime,
                     to: DeviceStatus = S.COMMISSIONED) -> Device:
    """A Suspended device runs certified firmware again: back to `to` (Commissioned, or
    InstalledNotCommissioned if it was suspended before commissioning)."""
    device = require_device(conn, device_id)
    if device.status is not S.SUSPENDED:
        raise IllegalStatusChange(f"device {device_id} is {device.status}, not Suspended")
    return move(conn, device, to, "CPL reinstatement", now)


def start_recovery(conn: Connection, device_id: EUI64, now: datetime) -> Device:
    """SEC Appendix (recovery): the device's security credentials may be compromised: Recovery
    (the DCC stops addressing it: E5 to users)."""
    return move(conn, require_device(conn, device_id), S.RECOVERY, "recovery", now)


def complete_recovery(conn: Connection, device_id: EUI64, now: datetime,
                      recommission: bool = True) -> Device:
    """The DCC's Recovery party replaced the compromised anchors: Recovered, then (by default)
    Commissioned again."""
    device = move(conn, require_device(conn, device_id), S.RECOVERED, "recovery", now)
    return move(conn, device, S.COMMISSIONED, "recovery", now) if recommission else device
