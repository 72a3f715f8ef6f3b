"""DCC-scheduled Service Requests: SRV 5.1 creates a schedule, 5.2 reads it back, the DCC sends
the scheduled read to the device at each run and delivers the answer as DSPScheduledMessage;
SRV 5.3 stops it."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator

import pytest
from lxml import etree
from test_device_srvs_support import ESME, SR, SUPPLIER, TEMPLATES, Dcc, code_of, make_dcc, prepared

import dcctool
from opendcc.client.builder import build_request
from opendcc.client.parse import parse
from opendcc.duis.catalogue import load_catalogue
from opendcc.ids import EUI64, RequestID

pytestmark = pytest.mark.java

_COUNTER = itertools.count(4_000_000)
DCC_ID = EUI64.parse("90-B3-D5-1F-30-00-00-02")
DAY = 86400


@pytest.fixture
def dcc() -> Iterator[Dcc]:
    dcc = make_dcc()
    yield dcc
    dcc.services.close()


def _scheduled(dcc: Dcc) -> list[etree._Element]:
    out = []
    for bodies in dcc.delivered.values():
        for body in bodies:
            root = etree.fromstring(body)
            if root.find(f".//{SR}DSPScheduledMessage") is not None:
                out.append(root)
    return out


def _schedule_id(answer: etree._Element) -> str:
    value = answer.findtext(f"{SR}Body/{SR}ResponseMessage/{SR}DSPScheduleID")
    assert value, etree.tostring(answer)[:400]
    return value


def test_the_create_schedule_template_is_answered_with_a_schedule_id(dcc: Dcc) -> None:
    [path] = [p for p in TEMPLATES if p.name.startswith("ECS21a_5.1.")]
    reply = dcc.http.post("/api/v1/serviceD",
                          content=dcc.sign(prepared(path, next(_COUNTER), dcc.clock.now())),
                          headers={"Content-Type": "application/xml"})
    assert reply.status_code == 200, reply.text[:300]
    ok, diagnostics = dcctool.validate(reply.content)
    assert ok, diagnostics
    answer = etree.fromstring(reply.content)
    assert code_of(answer) == "I0"
    assert int(_schedule_id(answer)) > 0


def test_scheduled_profile_reads_run_daily_until_the_schedule_is_deleted(dcc: Dcc) -> None:
    catalogue = load_catalogue()
    create = {"CreateSchedule": {
        "ScheduleFrequency": "Daily",
        "ScheduleStartDate": dcc.clock.now().date().isoformat(),
        "ScheduleExecutionStartTime": "13:00:00Z",
        "DSPScheduledServiceReference": "4.8",
        "DSPScheduledServiceReferenceVariant": "4.8.1",
        "DeviceID": ESME,
        "DSPReadActiveImportProfileData": {"StartDateOffset": "-1", "StartTime": "00:00:00Z",
                                           "EndDateOffset": "0", "EndTime": "00:00:00Z"},
    }}
    rid = RequestID(SUPPLIER, DCC_ID, next(_COUNTER))
    answer = dcc.post(dcc.sign(build_request(rid, catalogue.get("5.1"), 8, create)))
    assert code_of(answer) == "I0", etree.tostring(answer)[:400]
    schedule_id = _schedule_id(answer)

    for selector in ({"DSPScheduleID": schedule_id}, {"DeviceID": ESME}):
        rid = RequestID(SUPPLIER, DCC_ID, next(_COUNTER))
        body = dcc.sign(build_request(rid, catalogue.get("5.2"), 8, {"ReadSchedule": selector}))
        reply = dcc.http.post("/api/v1/serviceD", content=body,
                              headers={"Content-Type": "application/xml"})
        ok, diagnostics = dcctool.validate(reply.content)
        assert ok, diagnostics
        read = etree.fromstring(reply.content)
        assert code_of(read) == "I0"
        entry = read.find(f".//{SR}DSPSchedulesRead/{SR}DSPSchedules")
        assert entry is not None and entry.findtext(f"{SR}DSPScheduleID") == schedule_id
        assert entry.findtext(f"{SR}DSPScheduleDetails/{SR}DSPScheduledServiceReferenceVariant") \
            == "4.8.1"

    dcc.settle(2 * DAY)  # runs at 13:00 on both days
    runs = _scheduled(dcc)
    assert len(runs) == 2
    for run in runs:
        assert code_of(run) == "I0"
        message = run.find(f".//{SR}DSPScheduledMessage")
        assert message is not None and message.findtext(f"{SR}DSPScheduleID") == schedule_id
        assert run.findtext(f".//{SR}ServiceReferenceVariant") == "4.8.1"
        gbcs = base64.b64decode(message.findtext(f"{SR}GBCSPayload") or "")
        assert parse(gbcs, keys=dcc.keys).use_case == "ECS22b"
    ok, diagnostics = dcctool.validate(etree.tostring(runs[0], xml_declaration=True,
                                                      encoding="UTF-8"))
    assert ok, diagnostics

    delete = {"DeleteSchedule": {"DSPScheduleID": schedule_id}}
    rid = RequestID(SUPPLIER, DCC_ID, next(_COUNTER))
    assert code_of(dcc.post(dcc.sign(build_request(rid, catalogue.get("5.3"), 8, delete)))) == "I0"
    dcc.settle(2 * DAY)
    assert len(_scheduled(dcc)) == 2
    # Deleting it again: the schedule is gone.
    rid = RequestID(SUPPLIER, DCC_ID, next(_COUNTER))
    again = dcc.post(dcc.sign(build_request(rid, catalogue.get("5.3"), 8, delete)))
    assert code_of(again) == "E050301"
