"""A CoS worker process killed between two steps (os._exit: no cleanup, no exception handler)
resumes to completion when a new process starts, on an SQLite file store.

The meters' trust anchors live in a file here (the devices outlive the DCC's worker), each
CS02b a write to it; the worker is killed right after a meter took its CS02b and before the
DCC recorded it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opendcc.core.change_of_supplier import check_switched
from opendcc.ids import EUI64, MPxN
from opendcc.inventory import switches
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.inventory.registration_feed import apply_feed
from opendcc.inventory.switches import Step
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import open_store

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = "90-B3-D5-1F-30-02-00-00"
METERS = 20
AT = NOW + timedelta(hours=1)

WORKER = r'''
import json, os, sys
from datetime import datetime
from pathlib import Path
from opendcc.core.change_of_supplier import run_switches
from opendcc.ids import EUI64
from opendcc.store.engine import open_store

store_url, anchors_path, at, kill_after = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])


class FileCredentials:
    def supplier_anchor(self, device_id):
        return EUI64.parse(json.loads(anchors_path.read_text())[device_id.hyphenated])

    def replace_supplier(self, device_id, new_supplier, now):
        data = json.loads(anchors_path.read_text())
        data[device_id.hyphenated] = new_supplier.hyphenated
        data["cs02b_sent"] = data.get("cs02b_sent", 0) + 1
        tmp = anchors_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(anchors_path)


replaced = 0


def hook(label, switch):
    global replaced
    if label == "device replaced":
        replaced += 1
        if replaced == kill_after:
            os._exit(9)  # killed: the meter has B's anchor, the DCC has not recorded it


run_switches(open_store(store_url), FileCredentials(), datetime.fromisoformat(at), hook)
'''


class FileCredentials:
    """The same device-side view, for checking from the test."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def supplier_anchor(self, device_id: EUI64) -> EUI64 | None:
        value = json.loads(self.path.read_text()).get(device_id.hyphenated)
        return None if value is None else EUI64.parse(value)

    def replace_supplier(self, device_id: EUI64, new_supplier: EUI64, now: datetime) -> None:
        raise AssertionError("the test only reads the anchors")


def _meter(n: int) -> Device:
    return Device(EUI64.parse(f"00-DB-12-36-00-{n:02X}-00-02"), DeviceType.ESME,
                  DeviceStatus.COMMISSIONED, "opendcc", "OPENDCC", mpxn=MPxN.parse(f"15{n:011d}"))


def _worker(script: Path, url: str, anchors: Path, kill_after: int) -> int:
    return subprocess.run([sys.executable, str(script), url, str(anchors), AT.isoformat(),
                           str(kill_after)], check=False, timeout=120).returncode


def test_a_killed_worker_process_resumes_to_completion_in_a_new_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = open_store(url)
    seed_demo(store)
    meters = [_meter(n) for n in range(METERS)]
    header = "mpxn,supplier_id,network_operator_id,effective_from\n"
    with store.begin() as conn:
        apply_feed(conn, header + "".join(f"{m.mpxn},{A},{DNO},2026-01-01\n" for m in meters), NOW)
        for m in meters:
            inventory_repo.put_device(conn, m)
        apply_feed(conn, header + "".join(f"{m.mpxn},{B},{DNO},{AT.isoformat()}\n"
                                          for m in meters), NOW)
    anchors = tmp_path / "anchors.json"
    anchors.write_text(json.dumps({m.device_id.hyphenated: A.hyphenated for m in meters}))
    script = tmp_path / "worker.py"
    script.write_text(WORKER)

    assert _worker(script, url, anchors, kill_after=METERS // 2) == 9
    with store.begin() as conn:
        steps = [s.step for s in switches.all_switches(conn)]
    assert steps.count(Step.COMPLETED) == METERS // 2 - 1  # the last one taken was not recorded
    assert _worker(script, url, anchors, kill_after=0) == 0  # the restarted worker

    with store.begin() as conn:
        assert {s.step for s in switches.all_switches(conn)} == {Step.COMPLETED}
    credentials = FileCredentials(anchors)
    assert check_switched(store, credentials, AT) == []
    assert all(credentials.supplier_anchor(m.device_id) == B for m in meters)
    assert json.loads(anchors.read_text())["cs02b_sent"] == METERS  # each meter's CS02b once
    store.close()
