"""A supplier's scripting helpers: install a premises, switch meter points to a new supplier.

```python
from opendcc.inventory.scripting import install_premises, switch_supplier
visit = install_premises(store, supplier, network_operator, mpan="1400000000001",
                         mprn="700000001", now=now)          # registered, installed, commissioned
credentials = EmulatedCredentials.of(visit.devices())
switches = switch_supplier(store, [visit.esme.mpxn], new_supplier, at, credentials, now=at)
```
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime

from opendcc.core.change_of_supplier import CredentialTarget, request_switch, run_switches
from opendcc.devices.chf import CHF
from opendcc.devices.esme import ESME
from opendcc.devices.gpf import GPF
from opendcc.devices.gsme import GSME
from opendcc.devices.ppmid import PPMID
from opendcc.duis.response_codes import NotRegisteredParty
from opendcc.ids import EUI64, MPxN
from opendcc.inventory import switches
from opendcc.inventory.installation import Visit, install_and_commission
from opendcc.inventory.registration_feed import HEADER, apply_feed
from opendcc.inventory.switches import Switch
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import Store


def device_ids_for(mpan: str) -> list[EUI64]:
    """Five stable device IDs (CHF, GPF, ESME, GSME, PPMID) for a premises, from its MPAN."""
    digest = hashlib.sha256(mpan.encode()).digest()
    return [EUI64.from_bytes(b"\x00\xdb" + digest[:5] + bytes([slot])) for slot in range(5)]


def _feed(rows: Iterable[tuple[MPxN, EUI64, EUI64, datetime]]) -> str:
    lines = [",".join(HEADER)]
    lines += [f"{m},{s.hyphenated},{n.hyphenated},{w.isoformat()}" for m, s, n, w in rows]
    return "\n".join(lines) + "\n"


def install_premises(store: Store, supplier: EUI64, network_operator: EUI64, *, mpan: str,
                     now: datetime, mprn: str | None = None, ppmid: bool = True,
                     uprn: str | None = None) -> Visit:
    """Register the meter points to `supplier` (if they have no registration yet), then
    install and commission a hub, an ESME, a GSME (with `mprn`) and a PPMID, in one
    transaction; the emulated devices, now trusting `supplier`."""
    ids = device_ids_for(mpan)
    visit = Visit(CHF(ids[0]), GPF(ids[1]), ESME(ids[2], mpxn=MPxN.parse(mpan)),
                  GSME(ids[3], mpxn=MPxN.parse(mprn)) if mprn else None,
                  PPMID(ids[4]) if ppmid else None, uprn=uprn)
    points = [MPxN.parse(p) for p in (mpan, mprn) if p]
    with store.begin() as conn:
        fresh = [m for m in points if inventory_repo.registration_at(conn, m, now) is None]
        if fresh:
            apply_feed(conn, _feed((m, supplier, network_operator, now) for m in fresh), now)
        install_and_commission(conn, visit, supplier, network_operator, now)
    return visit


def switch_supplier(store: Store, mpxns: Sequence[MPxN], new_supplier: EUI64, at: datetime,
                    devices: CredentialTarget, *, now: datetime) -> list[Switch]:
    """Register `new_supplier` for the meter points from `at` (the registration feed's rules:
    not in the past, no racing supplier), and, once `at` has come, carry out the change of
    supplier on the devices; the switches of those meter points. E4 for a meter point
    without registration (nothing is registered then)."""
    with store.begin() as conn:
        rows = []
        for m in mpxns:
            reg = inventory_repo.registration_at(conn, m, now)
            if reg is None:
                raise NotRegisteredParty(f"{m} has no registration data; no change of supplier")
            rows.append((m, new_supplier, reg.network_operator_id, at))
        apply_feed(conn, _feed(rows), now)
    if at <= now:
        with store.begin() as conn:
            for m in mpxns:
                request_switch(conn, new_supplier, m, now)
        run_switches(store, devices, now)
    with store.begin() as conn:
        return [s for m in mpxns for s in switches.of_mpxn(conn, m)]
