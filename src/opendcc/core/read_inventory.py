"""SRV 8.2 Read Inventory: the request's selector and the `sr:DSPInventory` answer.

DUIS 5.4 `sr:ReadInventory` selects by exactly one of UPRN, DeviceID, MPxN or PropertyFilter
(post code + address identifier); the answer lists up to 17 `sr:Device` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from lxml import etree

from opendcc.duis.request import SR
from opendcc.inventory.lifecycle import DeviceType
from opendcc.inventory.model import Device

MAX_DEVICES: Final = 17  # sr:DSPInventory/sr:Device maxOccurs

Selector = Literal["UPRN", "DeviceID", "MPxN", "PropertyFilter"]


def _sr(name: str) -> str:
    return f"{{{SR}}}{name}"


@dataclass(frozen=True, slots=True)
class InventoryQuery:
    """What a Read Inventory request asks for."""

    by: Selector
    value: str  # PropertyFilter: "postcode|address identifier"
    address_identifier: str | None = None


def read_query(body: etree._Element) -> InventoryQuery:
    """The selector of a schema-valid `sr:ReadInventory` body."""
    child = next(c for c in body if isinstance(c.tag, str))
    name = etree.QName(child).localname
    if name == "PropertyFilter":
        return InventoryQuery(
            "PropertyFilter",
            (child.findtext(_sr("PostCode")) or "").strip(),
            (child.findtext(_sr("AddressIdentifier")) or "").strip(),
        )
    if name not in ("UPRN", "DeviceID", "MPxN"):
        raise ValueError(f"ReadInventory selector {name!r} is not in DUIS 5.4")
    return InventoryQuery(name, (child.text or "").strip())  # type: ignore[arg-type]


def _add(parent: etree._Element, name: str, text: str | None) -> None:
    if text is not None:
        etree.SubElement(parent, _sr(name)).text = text


def device_element(device: Device) -> etree._Element:
    """One `sr:Device`, its children in schema order."""
    el = etree.Element(_sr("Device"), nsmap={"sr": SR})
    _add(el, "DeviceID", device.device_id.hyphenated)
    _add(el, "DeviceType", device.device_type.value)
    # Type 2 devices (CAD) carry no SMI status in DCC answers.
    _add(el, "DeviceStatus", None if device.device_type is DeviceType.CAD else device.status.value)
    _add(el, "DeviceManufacturer", device.manufacturer)
    _add(el, "DeviceModel", device.model)
    _add(el, "DeviceFirmwareVersion", device.firmware)
    if device.firmware is not None:
        _add(el, "DeviceFirmwareVersionStatus", "Active")
    _add(el, "DateCommissioned",
         None if device.date_commissioned is None else device.date_commissioned.isoformat())
    _add(el, "ImportMPxN", None if device.mpxn is None else str(device.mpxn))
    _add(el, "SecondaryImportMPAN",
         None if device.secondary_import_mpan is None else str(device.secondary_import_mpan))
    _add(el, "ExportMPAN", None if device.export_mpan is None else str(device.export_mpan))
    _add(el, "UPRN", device.uprn)
    if device.postcode is not None and device.address_identifier is not None:
        prop = etree.SubElement(el, _sr("PropertyFilter"))
        _add(prop, "PostCode", device.postcode)
        _add(prop, "AddressIdentifier", device.address_identifier)
    _add(el, "CSPRegion", "SMETS1" if device.smets == "SMETS1" else device.csp_region)
    _add(el, "S1SP", device.s1sp)
    return el


def dsp_inventory(devices: Sequence[Device]) -> etree._Element:
    """`sr:DSPInventory` for up to `MAX_DEVICES` devices (callers pass at least one)."""
    el = etree.Element(_sr("DSPInventory"), nsmap={"sr": SR})
    for device in devices[:MAX_DEVICES]:
        el.append(device_element(device))
    return el
