"""Smart Metering Inventory and registration data in the store: devices, their status
changes (checked against the SMI lifecycle table), and who is registered for each meter point."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.engine import Connection, RowMapping

from opendcc.ids import EUI64, MPxN
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType, check_move
from opendcc.inventory.model import Device, Registration
from opendcc.store._sql import Prepared, as_utc, insert_for, require_utc
from opendcc.store.tables import inventory, registration

_d = inventory
_r = registration
# The per-request lookups of access control, built once: executing them skips statement
# construction and cache-key generation.
_DEVICE_BY_ID = Prepared(select(_d).where(_d.c.device_id == bindparam("id")))
_TYPE_BY_ID = Prepared(select(_d.c.device_type).where(_d.c.device_id == bindparam("id")))
_REGISTRATION_AT = (
    select(_r)
    .where(_r.c.mpxn == bindparam("mpxn"), _r.c.effective_from <= bindparam("when"))
    .order_by(_r.c.effective_from.desc())
    .limit(1)
)
_latest = registration.alias("latest")
# For each meter point asked for, the record with the latest start at or before `when`
# ((mpxn, effective_from) is unique, so one row per meter point at most).
# One statement per number of meter points (binds m0, m1, ...), built on first use.
_REGISTRATIONS_AT: dict[int, Prepared] = {}


def _registrations_at(count: int) -> Prepared:
    stmt = _REGISTRATIONS_AT.get(count)
    if stmt is None:
        stmt = _REGISTRATIONS_AT[count] = Prepared(select(_r).where(
            _r.c.mpxn.in_([bindparam(f"m{i}") for i in range(count)]),
            _r.c.effective_from == (
                select(func.max(_latest.c.effective_from))
                .where(_latest.c.mpxn == _r.c.mpxn, _latest.c.effective_from <= bindparam("when"))
                .scalar_subquery()
            ),
        ))
    return stmt


class DeviceNotInInventory(LookupError):
    """No device with this ID is in the Smart Metering Inventory."""


def _eui(value: str | None) -> EUI64 | None:
    return None if value is None else EUI64.parse(value)


def _mpxn(value: str | None) -> MPxN | None:
    return None if value is None else MPxN.parse(value)


def _device(row: RowMapping | dict[str, Any]) -> Device:
    commissioned = as_utc(row["date_commissioned"])
    return Device(
        device_id=EUI64.parse(row["device_id"]),
        device_type=DeviceType(row["device_type"]),
        status=DeviceStatus(row["status"]),
        manufacturer=row["manufacturer"],
        model=row["model"],
        firmware=row["firmware"],
        chf_id=_eui(row["chf_id"]),
        mpxn=_mpxn(row["mpxn"]),
        secondary_import_mpan=_mpxn(row["secondary_import_mpan"]),
        export_mpan=_mpxn(row["export_mpan"]),
        smets=row["smets"],
        s1sp=row["s1sp"],
        csp_region=row["csp_region"],
        uprn=row["uprn"],
        postcode=row["postcode"],
        address_identifier=row["address_identifier"],
        date_commissioned=None if commissioned is None else commissioned.date(),
    )


def _row(device: Device) -> dict[str, object]:
    def s(value: object | None) -> str | None:
        return None if value is None else str(value)

    return {
        "device_id": device.device_id.hyphenated,
        "device_type": device.device_type.value,
        "status": device.status.value,
        "manufacturer": device.manufacturer,
        "model": device.model,
        "firmware": device.firmware,
        "chf_id": s(device.chf_id),
        "mpxn": s(device.mpxn),
        "secondary_import_mpan": s(device.secondary_import_mpan),
        "export_mpan": s(device.export_mpan),
        "smets": device.smets,
        "s1sp": device.s1sp,
        "csp_region": device.csp_region,
        "uprn": device.uprn,
        "postcode": device.postcode,
        "address_identifier": device.address_identifier,
        "date_commissioned": None
        if device.date_commissioned is None
        else datetime.combine(device.date_commissioned, time(0), tzinfo=UTC),
    }


def put_device(conn: Connection, device: Device) -> None:
    """Add a device, or replace its record wholesale (loading an estate; no lifecycle check)."""
    values = _row(device)
    stmt = insert_for(conn, _d).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_d.c.device_id],
            set_={k: stmt.excluded[k] for k in values if k != "device_id"},
        )
    )



def put_devices(conn: Connection, devices: Sequence[Device]) -> None:
    """`put_device` for many devices in one statement (an executemany upsert), e.g. a cohort."""
    if not devices:
        return
    rows = [_row(d) for d in devices]
    stmt = insert_for(conn, _d)
    conn.execute(stmt.on_conflict_do_update(index_elements=[_d.c.device_id],
                                            set_={k: stmt.excluded[k] for k in rows[0] if k != "device_id"}),
                 rows)

def delete_device(conn: Connection, device_id: EUI64) -> bool:
    """Remove a device record (DUIS 8.4 DeleteDevice; the caller checks it is Pending)."""
    return conn.execute(delete(_d).where(_d.c.device_id == device_id.hyphenated)).rowcount == 1


def get_device(conn: Connection, device_id: EUI64) -> Device | None:
    """The inventory record of one device, or None."""
    row = _DEVICE_BY_ID.execute(conn, {"id": device_id.hyphenated}).first()
    return None if row is None else _device(row)


def device_type_of(conn: Connection, device_id: EUI64) -> DeviceType | None:
    """The inventory's device type of one device, or None if it is not in the inventory."""
    rows = _TYPE_BY_ID.execute(conn, {"id": device_id.hyphenated}).rows
    return DeviceType(rows[0][0]) if rows else None


def devices_on_hub(conn: Connection, chf_id: EUI64) -> list[Device]:
    """The comms hub and every device recorded on its HAN."""
    key = chf_id.hyphenated
    rows = conn.execute(
        select(_d).where(or_(_d.c.chf_id == key, _d.c.device_id == key)).order_by(_d.c.device_id)
    ).mappings()
    return [_device(r) for r in rows]


def devices_for_device(conn: Connection, device: Device) -> list[Device]:
    """A device with every device on the same comms hub (DUIS 8.2 by DeviceID)."""
    return _with_hubs(conn, [device])


def devices_for_mpxn(conn: Connection, mpxn: MPxN) -> list[Device]:
    """Devices measuring `mpxn`, with every device on the same comms hub (DUIS 8.2 by MPxN)."""
    v = str(mpxn)
    meters = conn.execute(
        select(_d).where(
            or_(_d.c.mpxn == v, _d.c.secondary_import_mpan == v, _d.c.export_mpan == v)
        )
    ).mappings()
    return _with_hubs(conn, [_device(r) for r in meters])


def devices_for_uprn(conn: Connection, uprn: str) -> list[Device]:
    """Devices at a property by UPRN, with every device on the same comms hubs."""
    rows = conn.execute(select(_d).where(_d.c.uprn == uprn)).mappings()
    return _with_hubs(conn, [_device(r) for r in rows])


def devices_for_address(conn: Connection, postcode: str, address_identifier: str) -> list[Device]:
    """Devices at a property by post code and address identifier (DUIS PropertyFilter)."""
    rows = conn.execute(
        select(_d).where(_d.c.postcode == postcode, _d.c.address_identifier == address_identifier)
    ).mappings()
    return _with_hubs(conn, [_device(r) for r in rows])


def _with_hubs(conn: Connection, found: list[Device]) -> list[Device]:
    out: dict[str, Device] = {}
    for device in found:
        out[device.device_id.hex] = device
        hub = device.chf_id or (device.device_id if device.device_type is DeviceType.CHF else None)
        if hub is not None:
            for other in devices_on_hub(conn, hub):
                out[other.device_id.hex] = other
    return [out[k] for k in sorted(out)]


def set_status(conn: Connection, device_id: EUI64, new: DeviceStatus) -> Device:
    """Move a device to `new`, if the SMI lifecycle allows it from its current status.

    The status is compared in the UPDATE itself, so two racing changes cannot both apply.
    """
    device = get_device(conn, device_id)
    if device is None:
        raise DeviceNotInInventory(f"device {device_id} is not in the inventory")
    check_move(device_id.hyphenated, device.status, new)
    changed = conn.execute(
        update(_d)
        .where(_d.c.device_id == device_id.hyphenated, _d.c.status == device.status.value)
        .values(status=new.value)
    ).rowcount
    if changed != 1:
        current = get_device(conn, device_id)
        assert current is not None
        check_move(device_id.hyphenated, current.status, new)
        return set_status(conn, device_id, new)
    return get_device(conn, device_id)  # type: ignore[return-value]


def register(conn: Connection, record: Registration) -> None:
    """Record (or restate) who serves a meter point from `effective_from`."""
    values = {
        "mpxn": str(record.mpxn),
        "supplier_id": record.supplier_id.hyphenated,
        "network_operator_id": record.network_operator_id.hyphenated,
        "effective_from": require_utc(record.effective_from),
    }
    stmt = insert_for(conn, _r).values(**values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[_r.c.mpxn, _r.c.effective_from],
            set_={
                "supplier_id": stmt.excluded.supplier_id,
                "network_operator_id": stmt.excluded.network_operator_id,
            },
        )
    )


def registration_at(conn: Connection, mpxn: MPxN, when: datetime) -> Registration | None:
    """The registration in force for `mpxn` at `when`, or None if the meter point has none."""
    row = conn.execute(
        _REGISTRATION_AT, {"mpxn": str(mpxn), "when": require_utc(when)}
    ).mappings().first()
    return None if row is None else _registration(row)


def registrations_at(conn: Connection, mpxns: Sequence[MPxN], when: datetime) -> list[Registration]:
    """The registrations in force at `when` for several meter points, in the order asked,
    leaving out those with none (one query instead of one `registration_at` each)."""
    if not mpxns:
        return []
    keys = [str(m) for m in mpxns]
    params: dict[str, Any] = {f"m{i}": k for i, k in enumerate(keys)}
    params["when"] = require_utc(when)
    rows = _registrations_at(len(keys)).execute(conn, params).mappings()
    found = {r["mpxn"]: _registration(r) for r in rows}
    return [found[str(m)] for m in mpxns if str(m) in found]


def registration_exactly_at(conn: Connection, mpxn: MPxN, effective_from: datetime) -> Registration | None:
    """The registration record for `mpxn` starting exactly at `effective_from`, if any."""
    row = conn.execute(
        select(_r).where(_r.c.mpxn == str(mpxn), _r.c.effective_from == require_utc(effective_from))
    ).mappings().first()
    return None if row is None else _registration(row)


def registrations_of(conn: Connection, mpxn: MPxN) -> list[Registration]:
    """Every registration record of a meter point, oldest first (its history)."""
    rows = conn.execute(
        select(_r).where(_r.c.mpxn == str(mpxn)).order_by(_r.c.effective_from)
    ).mappings()
    return [_registration(r) for r in rows]


def _registration(row: RowMapping | dict[str, Any]) -> Registration:
    return Registration(
        mpxn=MPxN.parse(row["mpxn"]),
        supplier_id=EUI64.parse(row["supplier_id"]),
        network_operator_id=EUI64.parse(row["network_operator_id"]),
        effective_from=as_utc(row["effective_from"]),  # type: ignore[arg-type]
    )


def responsible_mpxns(conn: Connection, device: Device) -> tuple[MPxN, ...]:
    """The meter points whose registered parties may address `device`.

    A meter's own MPxNs; for a device without one (comms hub, GPF, PPMID, HCALCS, IHD) those
    of the meters on the same comms hub.
    """
    if device.mpxns:
        return device.mpxns
    hub = device.chf_id or (device.device_id if device.device_type is DeviceType.CHF else None)
    if hub is None:
        return ()
    seen: dict[str, MPxN] = {}
    for other in devices_on_hub(conn, hub):
        for m in other.mpxns:
            seen[m.value] = m
    return tuple(seen[k] for k in sorted(seen))
