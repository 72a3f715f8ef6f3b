"""A CoS worker process killed between two steps (os._exit: no cleanup, no exception handler)
resumes to completion when a new process starts, on an SQLite file store and on PostgreSQL.

Each worker process runs the real flow: for each meter, the new supplier's SRV 6.23, CS02b
signed by the Transitional CoS party, over the simulated SM WAN to the emulated meter, which
verifies it and replaces its supplier anchor. The meters outlive the DCC's worker: what each
one trusts (and the highest Transitional CoS counter it has accepted) is kept in a file, written
as the meter takes its CS02b. The first worker is killed right after a meter took its CS02b
and before the DCC recorded it; the second starts later (its counters are higher) and finishes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opendcc.clock import SimulatedClock
from opendcc.core.change_of_supplier import check_switched
from opendcc.core.device_layer import serve_device_side
from opendcc.ids import EUI64
from opendcc.inventory import switches
from opendcc.inventory.registration_feed import apply_feed
from opendcc.inventory.switches import Step
from opendcc.smki.keystore import KeyStore
from opendcc.store.engine import open_store
from store.conftest import pg_databases, pg_server  # noqa: F401  (PostgreSQL fixtures)

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = "90-B3-D5-1F-30-02-00-00"
PREMISES = 10  # 20 meters, each its own meter point
AT = NOW + timedelta(hours=1)
TESTS = Path(__file__).resolve().parent

WORKER = r'''
import json, os, sys
from datetime import datetime
from pathlib import Path

sys.path[:0] = [sys.argv[7], str(Path(sys.argv[7]).parent)]
from cos_support import tcos
from opendcc.clock import SimulatedClock
from opendcc.core.change_of_supplier import TRANSITIONAL_COS, run_switches
from opendcc.core.device_layer import serve_device_side
from opendcc.devices.security import CounterGuard, RemotePartyRole, TrustAnchor
from opendcc.smki.keystore import KeyStore
from opendcc.store.engine import open_store

url, state_path, at, started = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4]
kill_after, premises = int(sys.argv[5]), int(sys.argv[6])
store = open_store(url)
clock = SimulatedClock(datetime.fromisoformat(started))
_, side = serve_device_side(store, KeyStore.from_reference(), premises=premises, clock=clock)
TCOS = TRANSITIONAL_COS.hyphenated
state = json.loads(state_path.read_text()) if state_path.exists() else {"devices": {}}
for device_id, saved in state["devices"].items():  # the meters as they were left
    device = side.estate.device(device_id)
    device.anchors = device.anchors.with_anchor(RemotePartyRole.SUPPLIER,
                                                TrustAnchor(saved["supplier"]))
    guard = device.counters or CounterGuard()
    guard.record(TCOS, saved["tcos_counter"])
    device.counters = guard


class LastingMeters:
    """The Transitional CoS party's reach, with each meter's state kept as it changes."""

    def __init__(self, inner):
        self.inner = inner

    def supplier_anchor(self, device_id):
        return self.inner.supplier_anchor(device_id)

    def replace_supplier(self, device_id, new_supplier, now):
        self.inner.replace_supplier(device_id, new_supplier, now)
        device = side.estate.device(device_id.hyphenated)
        state["devices"][device_id.hyphenated] = {
            "supplier": device.anchors.get(RemotePartyRole.SUPPLIER).entity,
            "tcos_counter": device.counters.highest(TCOS)}
        state["cs02b_sent"] = state.get("cs02b_sent", 0) + 1
        tmp = state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(state_path)


replaced = 0


def hook(label, switch):
    global replaced
    if label == "device replaced":
        replaced += 1
        if replaced == kill_after:
            os._exit(9)  # killed: the meter has B's anchor, the DCC has not recorded it


run_switches(store, LastingMeters(tcos(side)), datetime.fromisoformat(at), hook)
'''


class FileMeters:
    """The meters' kept state, read from the test."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def supplier_anchor(self, device_id: EUI64) -> EUI64 | None:
        saved = json.loads(self.path.read_text())["devices"].get(device_id.hyphenated)
        return A if saved is None else EUI64.parse(saved["supplier"])

    def replace_supplier(self, device_id: EUI64, new_supplier: EUI64, now: datetime) -> None:
        raise AssertionError("the test only reads the anchors")


@pytest.fixture(params=["sqlite", "postgresql"])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store URL on each backend: an SQLite file, a new PostgreSQL database."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("pg_databases").create())
    return f"sqlite:///{tmp_path / 'store.sqlite3'}"


def _worker(script: Path, url: str, state: Path, started: datetime, kill_after: int) -> int:
    return subprocess.run([sys.executable, str(script), url, str(state), AT.isoformat(),
                           started.isoformat(), str(kill_after), str(PREMISES), str(TESTS)],
                          check=False, timeout=300).returncode


def test_a_killed_worker_process_resumes_to_completion_in_a_new_one(
        backend_url: str, tmp_path: Path) -> None:
    store = open_store(backend_url)
    # The estate's meters in the inventory, registered to A; the customer moves to B at AT.
    _, side = serve_device_side(store, KeyStore.from_reference(), premises=PREMISES,
                                clock=SimulatedClock(NOW))
    meters = [m for p in side.estate.premises if p.index >= 0 for m in (p.esme, p.gsme)
              if m is not None]
    header = "mpxn,supplier_id,network_operator_id,effective_from\n"
    with store.begin() as conn:
        apply_feed(conn, header + "".join(f"{m.mpxn},{B},{DNO},{AT.isoformat()}\n"
                                          for m in meters), NOW)
    state = tmp_path / "meters.json"
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    assert _worker(script, backend_url, state, AT, kill_after=len(meters) // 2) == 9
    with store.begin() as conn:
        steps = [s.step for s in switches.all_switches(conn)]
    assert steps.count(Step.COMPLETED) == len(meters) // 2 - 1  # the last one taken: unrecorded
    # The restarted worker, a minute later.
    assert _worker(script, backend_url, state, AT + timedelta(minutes=1), kill_after=0) == 0

    with store.begin() as conn:
        assert {s.step for s in switches.all_switches(conn)} == {Step.COMPLETED}
    kept = FileMeters(state)
    assert check_switched(store, kept, AT) == []
    assert all(kept.supplier_anchor(m.eui) == B for m in meters)
    assert json.loads(state.read_text())["cs02b_sent"] == len(meters)  # each meter's CS02b once
    store.close()
