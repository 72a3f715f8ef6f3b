"""Store and Data Service throughput, on an SQLite file and on PostgreSQL.

For each backend, in the same run: the baseline, one single-row INSERT committed in its own
transaction (the least any durable request can cost); the RequestID counter advance
(conditional UPDATE) in its own transaction; and the whole Data Service for SRV 8.2 Read
Inventory (user lookup, counter, access control, inventory query, DSPInventory XML, audit
record, one transaction), all sequential from one thread. PostgreSQL is `OPENDCC_PG_URL` or
127.0.0.1:5432 (a scratch database is created and dropped).
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy import insert

from benchmarks.report import Section
from opendcc.clock import SimulatedClock
from opendcc.core.service import DataService
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.store.counters import advance_counter
from opendcc.store.engine import Store, open_store
from opendcc.store.tables import audit

N = 400
SUPPLIER = "90-B3-D5-1F-30-01-00-00"


def _rate(n: int, op: Callable[[int], None]) -> float:
    start = time.perf_counter()
    for i in range(1, n + 1):
        op(i)
    return n / (time.perf_counter() - start)


def _read_inventory(counter: int) -> bytes:
    return f"""<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"
 schemaVersion="5.4"><sr:Header><sr:RequestID>{SUPPLIER}:90-B3-D5-1F-30-00-00-02:{counter}</sr:RequestID>
<sr:CommandVariant>8</sr:CommandVariant><sr:ServiceReference>8.2</sr:ServiceReference>
<sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant></sr:Header><sr:Body><sr:ReadInventory>
<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID></sr:ReadInventory></sr:Body></sr:Request>""".encode()


def _measure(store: Store) -> tuple[float, float, float]:
    seed_demo(store)
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def raw_insert(i: int) -> None:
        with store.begin() as conn:
            conn.execute(insert(audit).values(at=now, response_code="I0", detail=f"bench {i}"))

    originator = EUI64.parse("90-B3-D5-1F-30-03-00-00")

    def counter(i: int) -> None:
        with store.begin() as conn:
            advance_counter(conn, originator, i)

    service = DataService(store, load_catalogue(), SimulatedClock(now))
    requests = [read_request(parse_xml(_read_inventory(i))) for i in range(1, N + 1)]
    signer = EUI64.parse(SUPPLIER)

    def handle(i: int) -> None:
        service.handle(requests[i - 1], signer, "serviceD")

    return _rate(N, raw_insert), _rate(N, counter), _rate(N, handle)


def _pg_admin() -> str:
    url = os.environ.get("OPENDCC_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    return url.replace("postgresql+psycopg://", "postgresql://")


def run() -> list[Section]:
    """Measure both backends."""
    section = Section(
        "Store: durable operations per second (one thread, each its own transaction)",
        ["backend", "baseline: INSERT + commit /s", "counter advance /s", "8.2 Read Inventory via DataService /s",
         "DataService / baseline"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}")
        base, counter, handle = _measure(store)
        store.close()
    section.add("SQLite file (WAL)", base, counter, handle, handle / base)

    admin = _pg_admin()
    name = f"opendcc_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        base_url, _, _ = admin.rpartition("/")
        store = open_store(f"{base_url}/{name}".replace("postgresql://", "postgresql+psycopg://", 1))
        base, counter, handle = _measure(store)
        store.close()
        section.add("PostgreSQL (local)", base, counter, handle, handle / base)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    section.notes.append(
        f"{N} operations each. The Data Service figure includes building the DSPInventory XML "
        "(unsigned: signing and HTTP are in the gateway benchmark)."
    )
    return [section]
