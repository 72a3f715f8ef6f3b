"""Device replacement and removal on the inventory and the emulated devices.

- `replace_meter`: a meter exchange. The old meter leaves the hub's whitelist (CCS02) and is
  decommissioned (SRV 8.3); the new one, measuring the same meter point, is pre-notified
  (12.2), whitelisted (8.11), joins the HAN, gets the supplier's anchors and is commissioned
  (8.1.1).
- `replace_hub`: a comms hub exchange. The new hub is pre-notified and installed (8.14.1), takes
  over the old hub's device log (SRV 8.12.1, CCS03), the devices move to its HAN in the
  inventory, and the old CHF and GPF are returned (8.14.3: Decommissioned).
- `remove_device`: a device taken away for good (CCS02, then 8.3).

Everything is checked before anything changes: a device not in the inventory is E19, one
whose status cannot move is E5, a supplier not registered for the meter point E4.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy.engine import Connection

from opendcc.core import commissioning
from opendcc.devices.chf import CHF
from opendcc.devices.esme import ESME
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.duis.response_codes import NotRegisteredParty
from opendcc.ids import EUI64
from opendcc.inventory.installation import install_code, installation_anchors
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.store import inventory as inventory_repo

S = DeviceStatus


def remove_device(conn: Connection, chf: CHF, device_id: EUI64, now: datetime) -> Device:
    """CCS02 (the hub forgets the device) and SRV 8.3 (Decommissioned)."""
    device = commissioning.require_device(conn, device_id)
    commissioning.require_move(device, S.DECOMMISSIONED, "8.3")
    if chf.entry(device_id.hyphenated) is not None:
        chf.remove_device_from_device_log(device_id.hyphenated, now)
    return commissioning.move(conn, device, S.DECOMMISSIONED, "8.3", now)


def replace_meter(conn: Connection, chf: CHF, old: EUI64, new: ESME | GSME, supplier: EUI64,
                  network_operator: EUI64, now: datetime) -> Device:
    """A meter exchange at the same meter point (module docstring); the new meter's record."""
    retired = commissioning.require_device(conn, old)
    commissioning.require_move(retired, S.DECOMMISSIONED, "8.3")
    if inventory_repo.get_device(conn, new.eui) is not None:
        raise commissioning.IllegalStatusChange(f"SRV 12.2: device {new.id} is already in the inventory")
    if new.mpxn is None or new.mpxn not in retired.mpxns:
        raise commissioning.IllegalStatusChange(
            f"the new meter {new.id} must measure the old meter's meter point ({retired.mpxn})")
    reg = inventory_repo.registration_at(conn, new.mpxn, now)
    if reg is None or reg.supplier_id != supplier:
        raise NotRegisteredParty(f"{supplier} is not the registered supplier of {new.mpxn}")
    remove_device(conn, chf, old, now)
    kind = DeviceType.ESME if isinstance(new, ESME) else DeviceType.GSME
    inventory_repo.put_device(conn, Device(
        new.eui, kind, S.PENDING, "opendcc", f"OPENDCC-{kind}", firmware="00010000",
        mpxn=new.mpxn, secondary_import_mpan=retired.secondary_import_mpan,
        export_mpan=retired.export_mpan, uprn=retired.uprn, postcode=retired.postcode,
        address_identifier=retired.address_identifier))
    chf.add_device_to_device_log(new.id, new.kind, install_code(new.eui), now)
    commissioning.apply_device_success(conn, "8.11", chf.eui, now, new.eui)
    chf.join(new.id, install_code(new.eui), now)
    commissioning.record_han_join(conn, new.eui, now)
    new.anchors = installation_anchors(supplier, network_operator)
    new.set_clock(now, now)
    done = commissioning.apply_device_success(conn, "8.1.1", new.eui, now)
    assert done is not None
    return done


def replace_hub(conn: Connection, old_chf: CHF, old_gpf: EUI64 | None, new_chf: CHF,
                new_gpf: GPF, now: datetime) -> Device:
    """A comms hub exchange (module docstring); the new CHF's record."""
    old = commissioning.require_device(conn, old_chf.eui)
    commissioning.require_type(old, "8.12.1", DeviceType.CHF)
    retiring = [old] + ([commissioning.require_device(conn, old_gpf)] if old_gpf else [])
    for device in retiring:
        commissioning.require_move(device, S.DECOMMISSIONED, "8.14.3")
    for fresh in (new_chf, new_gpf):
        if inventory_repo.get_device(conn, fresh.eui) is not None:
            raise commissioning.IllegalStatusChange(
                f"SRV 12.2: device {fresh.id} is already in the inventory")
    peers = [d for d in inventory_repo.devices_on_hub(conn, old_chf.eui)
             if d.device_id not in {r.device_id for r in retiring}]
    for kind, emulated in ((DeviceType.CHF, new_chf), (DeviceType.GPF, new_gpf)):
        inventory_repo.put_device(conn, Device(
            emulated.eui, kind, S.PENDING, "opendcc", f"OPENDCC-{kind}", firmware="00010000",
            chf_id=new_chf.eui if kind is DeviceType.GPF else None, uprn=old.uprn,
            postcode=old.postcode, address_identifier=old.address_identifier))
    chf = commissioning.require_device(conn, new_chf.eui)
    commissioning.move_along(conn, chf, (S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED), "8.14.1", now)
    gpf = commissioning.require_device(conn, new_gpf.eui)
    commissioning.move_along(conn, gpf, (S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED), "8.14.1", now)
    new_chf.anchors, new_gpf.anchors = old_chf.anchors, old_chf.anchors
    # SRV 8.12.1 (CCS03): the new hub takes over the old hub's device log.
    new_chf.restore_device_log(tuple(e for e in old_chf.device_log
                                     if e.device != (old_gpf.hyphenated if old_gpf else None)), now)
    for peer in peers:
        inventory_repo.put_device(conn, replace(peer, chf_id=new_chf.eui))
    for device in retiring:
        commissioning.move(conn, device, S.DECOMMISSIONED, "8.14.3", now)
    old_chf.powered = False
    return commissioning.require_device(conn, new_chf.eui)
