"""Smart Metering Inventory records: devices (DUIS 5.4 `sr:Device`) and registration data
(which supplier and network operator serve a meter point, from when)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from opendcc.ids import EUI64, MPxN
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType


@dataclass(frozen=True, slots=True)
class Device:
    """One device in the inventory, with the fields DSPInventory reports."""

    device_id: EUI64
    device_type: DeviceType
    status: DeviceStatus
    manufacturer: str
    model: str
    firmware: str | None = None
    chf_id: EUI64 | None = None  # the comms hub whose HAN the device is on (the CHF: itself)
    mpxn: MPxN | None = None  # ImportMPxN (ESME: MPAN, GSME: MPRN)
    secondary_import_mpan: MPxN | None = None
    export_mpan: MPxN | None = None
    smets: str = "SMETS2"
    s1sp: str | None = None  # SMETS1 devices: the SMETS1 service provider that serves them
    csp_region: str | None = None
    uprn: str | None = None
    postcode: str | None = None
    address_identifier: str | None = None
    date_commissioned: date | None = None

    @property
    def mpxns(self) -> tuple[MPxN, ...]:
        """Every meter point this device itself measures."""
        return tuple(m for m in (self.mpxn, self.secondary_import_mpan, self.export_mpan) if m)


@dataclass(frozen=True, slots=True)
class Registration:
    """Registration data for one meter point from `effective_from` on."""

    mpxn: MPxN
    supplier_id: EUI64
    network_operator_id: EUI64
    effective_from: datetime
