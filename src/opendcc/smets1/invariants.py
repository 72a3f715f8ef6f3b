"""The adoption invariant: every authorised meter has exactly one controller.

At rest (no migration running), for each device in `smets1_devices`:
- MIGRATED: the provider says the DCC holds the credentials, and the inventory has it
  Commissioned as SMETS1;
- any other state: the provider says its previous holder still holds them, and the inventory
  has no commissioned record of it;
- nothing is left in doubt (REPLACING, ROLLING_BACK) or half-done (REPLACED).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from opendcc.ids import EUI64
from opendcc.inventory.lifecycle import DeviceStatus
from opendcc.smets1 import tables as t
from opendcc.smets1.adapters.base import MeterInfo, ProviderAdapter
from opendcc.smets1.states import IN_DOUBT, State
from opendcc.store import inventory
from opendcc.store.engine import Store


def violations(store: Store, adapters: Mapping[str, ProviderAdapter], dcc_id: str) -> list[str]:
    """Every breach of the adoption invariant, one line per device (empty: all is well)."""
    problems: list[str] = []
    with store.connect() as conn:
        rows = conn.execute(select(t.devices)).mappings().all()
        by_provider: dict[str, list[str]] = {}
        for row in rows:
            by_provider.setdefault(row["provider"], []).append(row["device_id"])
        held: dict[str, MeterInfo | object] = {}
        for provider, ids in by_provider.items():
            held.update(adapters[provider].query(ids))
        for row in rows:
            device_id, state = row["device_id"], State(row["state"])
            info = held.get(device_id)
            if not isinstance(info, MeterInfo):
                problems.append(f"{device_id}: provider {row['provider']} does not know it ({info})")
                continue
            record = inventory.get_device(conn, EUI64.parse(device_id))
            commissioned = (record is not None and record.smets == "SMETS1"
                            and record.status is DeviceStatus.COMMISSIONED)
            if state in IN_DOUBT or state is State.REPLACED:
                problems.append(f"{device_id}: left {state} (in doubt)")
            elif state is State.MIGRATED:
                if info.owner != dcc_id:
                    problems.append(f"{device_id}: migrated but credentials held by {info.owner}")
                if not commissioned:
                    problems.append(f"{device_id}: migrated but not commissioned in the inventory")
            else:
                if info.owner != row["previous_owner"]:
                    problems.append(f"{device_id}: {state} but credentials held by {info.owner}, "
                                    f"not {row['previous_owner']}")
                if commissioned:
                    problems.append(f"{device_id}: {state} but commissioned in the inventory")
    return problems
