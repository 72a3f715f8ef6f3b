"""DCC schedules outlive a restart of the DCC: a schedule created with SRV 5.1 is read back
(5.2) and keeps running on a new DCC over the same database; the run that fell due while the
DCC was down is sent once on start, no run twice; a 5.3 deletion stays deleted. In process
(a new gateway, Data Service and device side on a new simulated clock: the old one's timers
die with it) over an SQLite file and over PostgreSQL; and as `opendcc serve` restarted."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from e2e_support import Server
from lxml import etree
from psycopg import sql
from test_device_srvs_support import ESME, SR, SUPPLIER, T0, Dcc, code_of, make_dcc

import dcctool
from opendcc.client import DccClient
from opendcc.client.builder import build_request
from opendcc.client.counter import Counter
from opendcc.client.response import Response
from opendcc.duis.catalogue import load_catalogue
from opendcc.ids import EUI64, RequestID

pytestmark = pytest.mark.java

_COUNTER = itertools.count(5_000_000)
DCC_ID = EUI64.parse("90-B3-D5-1F-30-00-00-02")
DAY = 86400
_LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


def _create_body(start: datetime) -> dict[str, object]:
    return {"CreateSchedule": {
        "ScheduleFrequency": "Daily",
        "ScheduleStartDate": start.date().isoformat(),
        "ScheduleExecutionStartTime": start.strftime("%H:%M:%SZ"),
        "DSPScheduledServiceReference": "4.8",
        "DSPScheduledServiceReferenceVariant": "4.8.1",
        "DeviceID": ESME,
        "DSPReadActiveImportProfileData": {"StartDateOffset": "-1", "StartTime": "00:00:00Z",
                                           "EndDateOffset": "0", "EndTime": "00:00:00Z"},
    }}


def _srv(dcc: Dcc, variant: str, body: dict[str, object]) -> etree._Element:
    rid = RequestID(SUPPLIER, DCC_ID, next(_COUNTER))
    return dcc.post(dcc.sign(build_request(rid, load_catalogue().get(variant), 8, body)))


def _runs(dcc: Dcc) -> list[etree._Element]:
    """The DSPScheduledMessages this DCC delivered, in order."""
    out = []
    for bodies in dcc.delivered.values():
        for body in bodies:
            root = etree.fromstring(body)
            if root.find(f".//{SR}DSPScheduledMessage") is not None:
                out.append(root)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database the DCC is restarted over: an SQLite file, or a fresh PostgreSQL database
    (`OPENDCC_PG_URL`, else the server on 127.0.0.1:5432), dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'dcc.sqlite3'}"
        return
    admin = (os.environ.get("OPENDCC_PG_URL") or _LOCAL_PG).replace(
        "postgresql+psycopg://", "postgresql://")
    name = f"opendcc_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        pytest.fail(f"no PostgreSQL (set OPENDCC_PG_URL or run one on 127.0.0.1:5432): {exc}")
    base = admin.rpartition("/")[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_a_schedule_keeps_running_after_a_restart_and_a_missed_run_is_sent_once(
        store_url: str) -> None:
    first = make_dcc(store_url=store_url)
    try:
        created = _srv(first, "5.1", _create_body(T0 + timedelta(hours=1)))  # daily at 13:00
        assert code_of(created) == "I0", etree.tostring(created)[:400]
        schedule_id = created.findtext(f"{SR}Body/{SR}ResponseMessage/{SR}DSPScheduleID")
        first.settle(DAY)  # day 0, 13:00: the first run
        assert len(_runs(first)) == 1
    finally:
        first.services.close()

    # Down from day 1, 12:00 to day 2, 12:00: the run of day 1, 13:00 falls due meanwhile.
    second = make_dcc(start=T0 + timedelta(days=2), store_url=store_url)
    try:
        read = _srv(second, "5.2", {"ReadSchedule": {"DSPScheduleID": schedule_id}})
        assert code_of(read) == "I0"
        entry = read.find(f".//{SR}DSPSchedulesRead/{SR}DSPSchedules")
        assert entry is not None and entry.findtext(f"{SR}DSPScheduleID") == schedule_id
        assert entry.findtext(f"{SR}DSPScheduleDetails/{SR}DeviceID") == ESME
        second.settle(1800)  # 13:00 not yet: only the missed run, sent on start
        assert len(_runs(second)) == 1
        second.settle(3600)  # day 2, 13:00
        runs = _runs(second)
        assert len(runs) == 2
        for run in runs:
            assert code_of(run) == "I0"
            assert run.findtext(f".//{SR}DSPScheduledMessage/{SR}DSPScheduleID") == schedule_id
        ok, diagnostics = dcctool.validate(etree.tostring(runs[0], xml_declaration=True,
                                                          encoding="UTF-8"))
        assert ok, diagnostics
        deleted = _srv(second, "5.3", {"DeleteSchedule": {"DSPScheduleID": schedule_id}})
        assert code_of(deleted) == "I0"
    finally:
        second.services.close()

    third = make_dcc(start=T0 + timedelta(days=4), store_url=store_url)
    try:
        third.settle(2 * DAY)
        assert _runs(third) == []
        gone = _srv(third, "5.2", {"ReadSchedule": {"DeviceID": ESME}})
        assert code_of(gone) == "E050201"
    finally:
        third.services.close()


def test_opendcc_serve_restarted_sends_the_run_missed_while_it_was_down_once(
        tmp_path: Path) -> None:
    server = Server(tmp_path)
    server.start()
    messages: list[Response] = []
    sdk = DccClient.from_reference(SUPPLIER, server.url, counter=Counter(tmp_path / "sup.counter"),
                                   on_message=messages.append)
    try:
        sdk.receiver()  # registers where the supplier's async answers go (kept in the store)
        run_at = (datetime.now(UTC) + timedelta(seconds=12)).replace(microsecond=0)
        created = sdk.request("5.1", _create_body(run_at))
        assert created.response_code == "I0"
        assert created.body is not None
        schedule_id = created.body.findtext(f"{SR}DSPScheduleID")
        assert schedule_id
        server.stop()
        assert datetime.now(UTC) < run_at, "the server took too long to stop for this test"
        time.sleep(max(0.0, (run_at - datetime.now(UTC)).total_seconds()) + 1)

        server.start()  # the run was due while it was down: sent once, on start
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not _scheduled(messages):
            time.sleep(0.2)
        time.sleep(2)  # and not a second time
        runs = _scheduled(messages)
        assert len(runs) == 1, [m.response_code for m in messages]
        assert runs[0].response_code == "I0"
        ok, diagnostics = dcctool.validate(runs[0].xml)
        assert ok, diagnostics

        read = sdk.request("5.2", {"ReadSchedule": {"DSPScheduleID": schedule_id}})
        assert read.response_code == "I0"
        assert sdk.request("5.3", {"DeleteSchedule": {"DSPScheduleID": schedule_id}}
                           ).response_code == "I0"
        server.restart()
        assert sdk.request("5.2", {"ReadSchedule": {"DeviceID": ESME}}).response_code == "E050201"
    finally:
        sdk.close()
        server.stop()


def _scheduled(messages: list[Response]) -> list[Response]:
    return [m for m in messages
            if etree.fromstring(m.xml).find(f".//{SR}DSPScheduledMessage") is not None]
