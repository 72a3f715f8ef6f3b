"""The demo estate: the DCC Boxed / RTDS test devices, so every published DUIS template
(`<reference>/duis/templates`) finds its target in the inventory.

Device IDs, MPxNs and users are those the templates use: one premises on comms hub
00-DB-12-34-56-78-90-A2 with ESME -A0 (import 1312345678111, twin 1312345678222, export
1312345678333), GSME -A1 and GPF -A3 (MPRN 1000999888), PPMID -A4, two more ESMEs -A5 and -A6
(MPANs 1312345678444 and 1312345678555, chosen here: the templates give none), the HAN devices
the join/unjoin templates name, and the replaced hub -95 and GPF -B3 the restore-log templates
name. Supplier 90-B3-D5-1F-30-01-00-00 and network operator 90-B3-D5-1F-30-02-00-00 are
registered for every meter point.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.engine import Connection

from opendcc.ids import EUI64, MPxN
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device, Registration
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store
from opendcc.store.users import seed_reference_users

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
NETWORK_OPERATOR = EUI64.parse("90-B3-D5-1F-30-02-00-00")
CHF = EUI64.parse("00-DB-12-34-56-78-90-A2")
REGISTERED_FROM = datetime(2020, 1, 1, tzinfo=UTC)
COMMISSIONED_ON = date(2020, 1, 6)

_S, _T = DeviceStatus, DeviceType

# (device ID, type, status, ImportMPxN, secondary import MPAN, export MPAN, on the hub)
_ESTATE: tuple[tuple[str, DeviceType, DeviceStatus, str | None, str | None, str | None, bool], ...] = (
    ("00-DB-12-34-56-78-90-A2", _T.CHF, _S.COMMISSIONED, None, None, None, True),
    ("00-DB-12-34-56-78-90-A0", _T.ESME, _S.COMMISSIONED, "1312345678111", "1312345678222",
     "1312345678333", True),
    ("00-DB-12-34-56-78-90-A1", _T.GSME, _S.COMMISSIONED, "1000999888", None, None, True),
    ("00-DB-12-34-56-78-90-A3", _T.GPF, _S.COMMISSIONED, None, None, None, True),
    ("00-DB-12-34-56-78-90-A4", _T.PPMID, _S.COMMISSIONED, None, None, None, True),
    ("00-DB-12-34-56-78-90-A5", _T.ESME, _S.COMMISSIONED, "1312345678444", None, None, True),
    ("00-DB-12-34-56-78-90-A6", _T.ESME, _S.COMMISSIONED, "1312345678555", None, None, True),
    # HAN devices named by the join / unjoin / ALCS templates.
    ("00-DB-12-34-56-78-90-93", _T.HCALCS, _S.WHITELISTED, None, None, None, True),
    ("00-DB-12-34-56-78-90-94", _T.IHD, _S.WHITELISTED, None, None, None, True),
    ("00-DB-12-34-56-78-90-97", _T.HCALCS, _S.COMMISSIONED, None, None, None, True),
    ("00-DB-12-34-56-78-90-98", _T.PPMID, _S.WHITELISTED, None, None, None, True),
    ("00-DB-12-34-56-78-90-99", _T.PPMID, _S.COMMISSIONED, None, None, None, True),
    ("00-DB-12-34-56-78-90-9A", _T.PPMID, _S.WHITELISTED, None, None, None, True),
    ("01-02-03-04-05-06-07-08", _T.CAD, _S.COMMISSIONED, None, None, None, True),
    # The comms hub and GPF the restore-device-log templates replace.
    ("00-DB-12-34-56-78-90-95", _T.CHF, _S.DECOMMISSIONED, None, None, None, False),
    ("00-DB-12-34-56-78-90-B3", _T.GPF, _S.DECOMMISSIONED, None, None, None, False),
)

_MODELS = {
    _T.CHF: "OPENDCC-CHF",
    _T.ESME: "OPENDCC-ESME",
    _T.GSME: "OPENDCC-GSME",
    _T.GPF: "OPENDCC-GPF",
    _T.PPMID: "OPENDCC-PPMID",
    _T.HCALCS: "OPENDCC-HCALCS",
    _T.IHD: "OPENDCC-IHD",
    _T.CAD: "OPENDCC-CAD",
}


def _m(value: str | None) -> MPxN | None:
    return None if value is None else MPxN.parse(value)


def demo_devices() -> list[Device]:
    """Every device of the demo estate."""
    out = []
    for device_id, kind, status, mpxn, secondary, export, on_hub in _ESTATE:
        eui = EUI64.parse(device_id)
        out.append(
            Device(
                device_id=eui,
                device_type=kind,
                status=status,
                manufacturer="opendcc",
                model=_MODELS[kind],
                firmware=None if kind is _T.CAD else "00010000",
                chf_id=CHF if on_hub and eui != CHF else None,
                mpxn=_m(mpxn),
                secondary_import_mpan=_m(secondary),
                export_mpan=_m(export),
                csp_region="Central",
                uprn="100000000001" if on_hub else None,
                postcode="AB1 2CD" if on_hub else None,
                address_identifier="1" if on_hub else None,
                date_commissioned=COMMISSIONED_ON if status is _S.COMMISSIONED else None,
            )
        )
    return out


def demo_registrations() -> list[Registration]:
    """Registration data: the template supplier and network operator for every meter point."""
    points = sorted({m.value for d in demo_devices() for m in d.mpxns})
    return [
        Registration(MPxN.parse(p), SUPPLIER, NETWORK_OPERATOR, REGISTERED_FROM) for p in points
    ]


def seed_demo_estate(conn: Connection) -> None:
    """Load the ZAZ1 users, the demo devices and their registration data (idempotent)."""
    seed_reference_users(conn)
    for device in demo_devices():
        inventory_repo.put_device(conn, device)
    for record in demo_registrations():
        inventory_repo.register(conn, record)


def seed_demo(store: Store) -> None:
    """`seed_demo_estate` in one transaction of `store`."""
    with store.begin() as conn:
        seed_demo_estate(conn)
