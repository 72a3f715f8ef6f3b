"""`store.inventory.put_devices` (the bulk form the cohort commit uses) writes what
`put_device` writes, and replaces existing records wholesale."""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

from opendcc.ids import EUI64, MPxN
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.store import inventory
from opendcc.store.engine import open_store


def _meter(i: int) -> Device:
    return Device(device_id=EUI64.parse(f"{0x00A1_5100_0000_0000 + i:016X}"), device_type=DeviceType.ESME,
                  status=DeviceStatus.COMMISSIONED, manufacturer="alpha", model="AX-E100",
                  firmware="1.2", mpxn=MPxN.parse(str(1_100_000_000_000 + i)), smets="SMETS1",
                  csp_region="SMETS1", s1sp="alpha", date_commissioned=date(2026, 3, 1))


def test_put_devices_writes_what_put_device_writes_and_replaces_records(tmp_path: Path) -> None:
    bulk = open_store(f"sqlite:///{tmp_path / 'bulk.sqlite3'}")
    one = open_store(f"sqlite:///{tmp_path / 'one.sqlite3'}")
    devices = [_meter(i) for i in range(5)]
    with bulk.begin() as conn:
        inventory.put_devices(conn, devices)
        inventory.put_devices(conn, [])
        inventory.put_devices(conn, [dataclasses.replace(devices[0], firmware="1.3")])
    with one.begin() as conn:
        for d in [*devices, dataclasses.replace(devices[0], firmware="1.3")]:
            inventory.put_device(conn, d)
    with bulk.connect() as a, one.connect() as b:
        for d in devices:
            assert inventory.get_device(a, d.device_id) == inventory.get_device(b, d.device_id)
        first = inventory.get_device(a, devices[0].device_id)
        assert first is not None and first.firmware == "1.3"
