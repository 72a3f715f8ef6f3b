"""Change of supplier: switches per second, each meter's CS02b step committed on its own.

1,000 meter points (500 dual-fuel premises, one meter each) registered to supplier A move to
supplier B: `run_switches` detects the 1,000 switches and carries each out (detected ->
credentials -> one committed step per meter -> completed) on emulated meters, on SQLite in
memory. Beside it, in the same run: applying the registration feed that records the same 1,000
changes (one transaction, checks and upserts), the floor any switch has to stand on.

The same worker through GBCS (`core.transitional_cos`): for 200 meter points of an emulated
estate on a simulated clock, each meter's SRV 6.23 transformed into CS02b, signed by the
Transitional CoS party, MACed, carried over the SM WAN, verified and executed by the meter,
its signed Response checked.
"""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from lxml import etree

from benchmarks.report import Section
from opendcc.clock import SimulatedClock
from opendcc.config import reference_dir
from opendcc.core.change_of_supplier import check_switched, run_switches
from opendcc.core.device_layer import serve_device_side
from opendcc.core.transitional_cos import TransitionalCoS
from opendcc.devices.esme import ESME
from opendcc.devices.gsme import GSME
from opendcc.ids import EUI64, MPxN
from opendcc.inventory.demo import seed_demo
from opendcc.inventory.installation import EmulatedCredentials, installation_anchors
from opendcc.inventory.lifecycle import DeviceStatus, DeviceType
from opendcc.inventory.model import Device
from opendcc.inventory.registration_feed import apply_feed
from opendcc.smki.keystore import KeyStore
from opendcc.store import inventory as inventory_repo
from opendcc.store.engine import open_store

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)
A = EUI64.parse("90-B3-D5-1F-30-01-00-00")
B = EUI64.parse("90-B3-D5-1F-30-03-00-00")
DNO = EUI64.parse("90-B3-D5-1F-30-02-00-00")
PREMISES = 500
GBCS_PREMISES = 100


def _feed(points: list[str], supplier: EUI64, at: datetime) -> str:
    return "mpxn,supplier_id,network_operator_id,effective_from\n" + "".join(
        f"{p},{supplier},{DNO},{at.isoformat()}\n" for p in points)


def _round() -> tuple[float, float, int]:
    store = open_store("sqlite://")
    seed_demo(store)
    meters: list[ESME | GSME] = []
    for n in range(PREMISES):
        meters.append(ESME(EUI64.parse(f"00-DB-12-35-{n // 256:02X}-{n % 256:02X}-00-02"),
                           mpxn=MPxN.parse(f"14{n:011d}")))
        meters.append(GSME(EUI64.parse(f"00-DB-12-35-{n // 256:02X}-{n % 256:02X}-00-03"),
                           mpxn=MPxN.parse(f"7{n:08d}")))
    points = [str(m.mpxn) for m in meters]
    with store.begin() as conn:
        apply_feed(conn, _feed(points, A, NOW - timedelta(days=30)), NOW)
        for m in meters:
            kind = DeviceType.ESME if isinstance(m, ESME) else DeviceType.GSME
            inventory_repo.put_device(conn, Device(m.eui, kind, DeviceStatus.COMMISSIONED,
                                                   "opendcc", "OPENDCC", mpxn=m.mpxn))
            m.anchors = installation_anchors(A, DNO)
    at = NOW + timedelta(hours=1)
    start = time.perf_counter()
    with store.begin() as conn:
        apply_feed(conn, _feed(points, B, at), NOW)
    feed_s = time.perf_counter() - start
    credentials = EmulatedCredentials.of(meters)
    start = time.perf_counter()
    done = run_switches(store, credentials, at)
    switch_s = time.perf_counter() - start
    assert check_switched(store, credentials, at) == []
    store.close()
    return feed_s, switch_s, done


def _zaz1_path(_supplier: EUI64) -> list[Any]:
    """The ZAZ1 suppliers' certification path, as the RTDS 6.23 template gives it."""
    template = reference_dir() / "duis" / "templates" / \
        "CS02bSupplierByTransCoS_6.23_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML"
    return [x509.load_der_x509_certificate(base64.b64decode("".join((t.text or "").split())))
            for t in etree.parse(str(template)).findall(
                ".//{*}CertificationPathCertificates/{*}Certificate")]


def _gbcs_round() -> tuple[float, int]:
    clock = SimulatedClock(NOW)
    store = open_store("sqlite://")
    _, side = serve_device_side(store, KeyStore.from_reference(), premises=GBCS_PREMISES,
                                clock=clock)
    points = [str(m.mpxn) for p in side.estate.premises if p.index >= 0
              for m in (p.esme, p.gsme) if m is not None and m.mpxn is not None]
    at = NOW + timedelta(hours=1)
    with store.begin() as conn:
        apply_feed(conn, _feed(points, B, at), NOW)
    clock.set(at)
    credentials = TransitionalCoS.over(side.router.endpoint, side.keys, side.layer.counter,
                                       _zaz1_path)
    start = time.perf_counter()
    done = run_switches(store, credentials, at)
    elapsed = time.perf_counter() - start
    assert check_switched(store, credentials, at) == []
    store.close()
    return elapsed, done


def run() -> list[Section]:
    """Best of three rounds (the machine is shared)."""
    rounds = [_round() for _ in range(3)]
    feed_s = min(r[0] for r in rounds)
    switch_s = min(r[1] for r in rounds)
    done = rounds[0][2]
    section = Section("Change of supplier (CS02b via the Transitional CoS party)",
                      ["what", "meter points", "seconds", "per second"])
    section.add("baseline: registration feed recording the changes", done, feed_s, done / feed_s)
    section.add("switches carried out (a transaction per step)", done, switch_s, done / switch_s)
    gbcs_s, gbcs_done = min(_gbcs_round() for _ in range(2))
    section.add("switches through GBCS (6.23, TCoS-signed CS02b over the SM WAN)", gbcs_done,
                gbcs_s, gbcs_done / gbcs_s)
    section.notes.append("SQLite in memory, one worker; every meter checked afterwards "
                         "(`check_switched`): none half-switched. The GBCS rows include each "
                         "device's first SMKI certificate, issued when it first answers.")
    return [section]


if __name__ == "__main__":
    for s in run():
        print(s.markdown())
