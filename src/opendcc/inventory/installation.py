"""Installing and commissioning a premises, end to end, on the inventory and the emulated devices.

The installer's visit, as the SEC orders it: the devices are pre-notified (SRV 12.2, Pending);
the comms hub is installed and reports SM WAN (SRV 8.14.1: CHF Commissioned, GPF
InstalledNotCommissioned); the supplier adds the meters and the PPMID to the hub's whitelist
(SRV 8.11, CCS01: Whitelisted); they join the HAN with their install codes
(InstalledNotCommissioned; the GSME through the GPF); their trust anchors name the installing
supplier, the network operator and the DCC's parties (including the Transitional CoS party);
the meters are commissioned (SRV 8.1.1, ECS70 / GCS28: Commissioned) and the PPMID joined to
them (SRV 8.7.1: Commissioned).

`EmulatedCredentials` is the Transitional CoS party's reach into emulated devices for
`core.change_of_supplier`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from opendcc.core import commissioning
from opendcc.core.change_of_supplier import TRANSITIONAL_COS
from opendcc.devices.chf import CHF
from opendcc.devices.device import Device as EmulatedDevice
from opendcc.devices.esme import ESME
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.devices.ppmid import PPMID
from opendcc.devices.security import CommandHeader, RemotePartyRole, TrustAnchor, TrustAnchors
from opendcc.duis.response_codes import NotRegisteredParty
from opendcc.ids import EUI64
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.smki.anchors import ZAZ1_DCC_PARTIES
from opendcc.smki.profile import RemotePartyRole as SmkiRole
from opendcc.store import inventory as inventory_repo

_DCC_ROLES = {
    RemotePartyRole.RECOVERY: SmkiRole.RECOVERY,
    RemotePartyRole.ACCESS_CONTROL_BROKER: SmkiRole.ACCESS_CONTROL_BROKER,
    RemotePartyRole.WAN_PROVIDER: SmkiRole.WAN_PROVIDER,
    RemotePartyRole.TRANSITIONAL_COS: SmkiRole.TRANSITIONAL_COS,
}


def installation_anchors(supplier: EUI64, network_operator: EUI64) -> TrustAnchors:
    """GBCS §4.3.2: the anchors a newly installed device holds (installing supplier, network
    operator and the DCC's parties, the Transitional CoS party among them)."""
    anchors = TrustAnchors()
    for role, smki_role in _DCC_ROLES.items():
        anchors = anchors.with_anchor(role, TrustAnchor(ZAZ1_DCC_PARTIES[smki_role].hyphenated))
    anchors = anchors.with_anchor(RemotePartyRole.SUPPLIER, TrustAnchor(supplier.hyphenated))
    return anchors.with_anchor(RemotePartyRole.NETWORK_OPERATOR,
                               TrustAnchor(network_operator.hyphenated))


def install_code(device_id: EUI64) -> bytes:
    """A deterministic 16-octet install code plus 2-octet CRC for an emulated device."""
    return hashlib.sha256(device_id.hex.encode()).digest()[:18]


@dataclass
class Visit:
    """What the installer carries into a premises: a comms hub and the devices to join it."""

    chf: CHF
    gpf: GPF
    esme: ESME
    gsme: GSME | None = None
    ppmid: PPMID | None = None
    uprn: str | None = None

    def devices(self) -> list[EmulatedDevice]:
        """Hub first, then meters, then the PPMID."""
        out: list[EmulatedDevice] = [self.chf, self.gpf, self.esme]
        out += [d for d in (self.gsme, self.ppmid) if d is not None]
        return out


_KINDS = {CHF: DeviceType.CHF, GPF: DeviceType.GPF, ESME: DeviceType.ESME, GSME: DeviceType.GSME,
          PPMID: DeviceType.PPMID}


def pre_notify(conn: Connection, visit: Visit) -> None:
    """SRV 12.2 for every device of the visit: Pending in the inventory (hub-side GPF on its CHF)."""
    for device in visit.devices():
        kind = _KINDS[type(device)]
        mpxn = getattr(device, "mpxn", None)
        existing = inventory_repo.get_device(conn, device.eui)
        if existing is not None:
            raise commissioning.IllegalStatusChange(
                f"SRV 12.2: device {device.id} is already in the inventory ({existing.status})")
        inventory_repo.put_device(conn, Device(
            device.eui, kind, DeviceStatus.PENDING, "opendcc", f"OPENDCC-{kind}",
            firmware="00010000", chf_id=visit.chf.eui if kind is DeviceType.GPF else None,
            mpxn=mpxn, uprn=visit.uprn))


def install_and_commission(conn: Connection, visit: Visit, supplier: EUI64,
                           network_operator: EUI64, now: datetime) -> None:
    """The whole visit (module docstring), in the caller's transaction.

    The supplier must be registered for the premises' meter points (E4); a device in the
    wrong status is E5; nothing is written to the inventory if either is refused (the caller's
    transaction rolls back on the exception).
    """
    for mpxn in (m for m in (visit.esme.mpxn, visit.gsme.mpxn if visit.gsme else None) if m):
        reg = inventory_repo.registration_at(conn, mpxn, now)
        if reg is None or reg.supplier_id != supplier:
            raise NotRegisteredParty(
                f"{supplier} is not the registered supplier of {mpxn}; it cannot install there")
    pre_notify(conn, visit)
    chf = inventory_repo.get_device(conn, visit.chf.eui)
    assert chf is not None
    # SRV 8.14.1: the hub is installed and on the SM WAN.
    commissioning.move_along(conn, chf, (DeviceStatus.INSTALLED_NOT_COMMISSIONED,
                                         DeviceStatus.COMMISSIONED), "8.14.1", now)
    gpf = inventory_repo.get_device(conn, visit.gpf.eui)
    assert gpf is not None
    gpf = commissioning.move(conn, gpf, DeviceStatus.INSTALLED_NOT_COMMISSIONED, "8.14.1", now)
    anchors = installation_anchors(supplier, network_operator)
    for device in visit.devices():
        device.anchors = anchors
    joining = [d for d in (visit.esme, visit.gsme, visit.ppmid) if d is not None]
    for device in joining:
        # SRV 8.11 (CCS01): whitelisted on the hub; then it joins the HAN with its install code.
        kind = device.kind
        visit.chf.add_device_to_device_log(device.id, kind, install_code(device.eui), now)
        commissioning.apply_device_success(conn, "8.11", visit.chf.eui, now, device.eui)
        visit.chf.join(device.id, install_code(device.eui), now)
        commissioning.record_han_join(conn, device.eui, now)
    for meter in (visit.esme, visit.gsme):
        if meter is not None:  # SRV 8.1.1: ECS70 / GCS28 set the meter's clock: commissioned
            meter.set_clock(now, now)  # (the GSME's GPF is commissioned with it)
            commissioning.apply_device_success(conn, "8.1.1", meter.eui, now)
    if visit.ppmid is not None:  # SRV 8.7.1: the PPMID joined to the ESME
        visit.esme.han_devices = (*visit.esme.han_devices, visit.ppmid.id)
        commissioning.apply_device_success(conn, "8.7.1", visit.esme.eui, now, visit.ppmid.eui)


class EmulatedCredentials:
    """The Transitional CoS party's reach into emulated devices (`CredentialTarget`)."""

    def __init__(self, lookup: Callable[[EUI64], EmulatedDevice | None]) -> None:
        self.lookup = lookup
        self.commands_sent = 0

    @classmethod
    def of(cls, devices: Iterable[EmulatedDevice]) -> EmulatedCredentials:
        """Over a fixed set of emulated devices."""
        by_id = {d.eui: d for d in devices}
        return cls(by_id.get)

    def supplier_anchor(self, device_id: EUI64) -> EUI64 | None:
        """The supplier the device trusts now."""
        device = self.lookup(device_id)
        anchor = None if device is None else device.anchors.get(RemotePartyRole.SUPPLIER)
        return None if anchor is None else EUI64.parse(anchor.entity)

    def replace_supplier(self, device_id: EUI64, new_supplier: EUI64, now: datetime) -> None:
        """GBCS CS02b signed by the Transitional CoS party: the device authenticates it under
        its TCoS anchor (a replayed or foreign command is refused), then swaps the anchor."""
        device = self.lookup(device_id)
        if device is None:
            raise LookupError(f"device {device_id} is not reachable by the Transitional CoS party")
        counter = (device.counters.highest(TRANSITIONAL_COS.hyphenated) if device.counters else -1) + 1
        device.accept(CommandHeader(TRANSITIONAL_COS.hyphenated, RemotePartyRole.TRANSITIONAL_COS,
                                    counter), now)
        device.anchors = device.anchors.with_anchor(RemotePartyRole.SUPPLIER,
                                                    TrustAnchor(new_supplier.hyphenated))
        self.commands_sent += 1
