"""The same signed request submitted many times at once is accepted exactly once, on SQLite
and on PostgreSQL, and every submission is audited."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from opendcc.clock import SimulatedClock
from opendcc.core.service import DataService
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.duis.response_codes import CounterReplayed
from opendcc.ids import EUI64
from opendcc.inventory.demo import seed_demo
from opendcc.store import audit
from opendcc.store.engine import Store

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
READ_INVENTORY = f"""<sr:Request xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway"
 schemaVersion="5.4"><sr:Header><sr:RequestID>{SUPPLIER}:90-B3-D5-1F-30-00-00-02:777</sr:RequestID>
<sr:CommandVariant>8</sr:CommandVariant><sr:ServiceReference>8.2</sr:ServiceReference>
<sr:ServiceReferenceVariant>8.2</sr:ServiceReferenceVariant></sr:Header><sr:Body><sr:ReadInventory>
<sr:DeviceID>00-DB-12-34-56-78-90-A0</sr:DeviceID></sr:ReadInventory></sr:Body></sr:Request>"""


def test_concurrent_replays_of_one_request_are_accepted_once(any_store: Store) -> None:
    seed_demo(any_store)
    service = DataService(any_store, load_catalogue(), SimulatedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    request = read_request(parse_xml(READ_INVENTORY.encode()))
    copies = 8
    barrier = threading.Barrier(copies)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(_: int) -> None:
        barrier.wait()
        try:
            code = service.handle(request, EUI64.parse(SUPPLIER), "serviceD").code
        except CounterReplayed:
            code = "replayed"
        with lock:
            outcomes.append(code)

    with ThreadPoolExecutor(max_workers=copies) as pool:
        list(pool.map(submit, range(copies)))
    assert sorted(outcomes) == ["I0"] + ["replayed"] * (copies - 1)
    with any_store.begin() as conn:
        codes = sorted(r.response_code for r in audit.recent(conn, originator=SUPPLIER))
    assert codes == ["HTTP 409"] * (copies - 1) + ["I0"]
