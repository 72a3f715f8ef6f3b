"""Bad device SRVs and bad conditions get the DUIS outcome specified for them, and the device
shows no partial change; power outage and restoration reach the network operator as alerts."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from lxml import etree
from test_device_srvs_support import (
    ESME,
    NETWORK_OPERATOR,
    SR,
    SUPPLIER,
    TEMPLATES,
    Dcc,
    code_of,
    make_dcc,
    prepared,
)

import dcctool
from opendcc.client.builder import build_request
from opendcc.client.correlate import correlate
from opendcc.devices.supply import SupplyState
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import read_request
from opendcc.gbcs import codec, security
from opendcc.ids import EUI64, RequestID
from opendcc.smki.keystore import KeyStore

pytestmark = pytest.mark.java

_COUNTER = itertools.count(3_000_000)
CHF = "00-DB-12-34-56-78-90-A2"
SECOND_ESME = "00-DB-12-34-56-78-90-A5"
OTHER_SUPPLIER = EUI64.parse("90-B3-D5-1F-30-03-00-00")


@pytest.fixture
def dcc() -> Iterator[Dcc]:
    dcc = make_dcc()
    yield dcc
    dcc.services.close()


def _template(name: str, dcc: Dcc, *, target: str | None = None, cv: int | None = None,
              execution: str | None = None) -> etree._Element:
    [path] = [p for p in TEMPLATES if p.name == name]
    root = prepared(path, next(_COUNTER), dcc.clock.now())
    header = root.find(f"{SR}Header")
    assert header is not None
    node = header.find(f"{SR}RequestID")
    assert node is not None and node.text
    if target is not None:
        node.text = re.sub(r":[^:]+:", f":{target}:", node.text)
    if cv is not None:
        variant = header.find(f"{SR}CommandVariant")
        assert variant is not None
        variant.text = str(cv)
    if execution is not None:
        when = root.find(f".//{SR}ExecutionDateTime")
        assert when is not None
        when.text = execution
    return root


def _state(esme: Any) -> tuple[Any, ...]:
    return (esme.tariff, esme.supply_state, esme.payment_mode)


def _only_answer(dcc: Dcc, body: bytes) -> etree._Element:
    request_id = parse_xml(body).findtext(f"{SR}Header/{SR}RequestID")
    assert request_id
    [answer] = dcc.answers(request_id)
    ok, diagnostics = dcctool.validate(dcc.delivered[request_id][0])
    assert ok, diagnostics
    return answer


def test_command_for_a_device_not_on_the_hub_whitelist_is_e20_and_changes_nothing(
        dcc: Dcc) -> None:
    chf: Any = dcc.side.estate.device(CHF)
    chf.remove_device_from_device_log(SECOND_ESME, dcc.clock.now())
    esme: Any = dcc.side.estate.device(SECOND_ESME)
    before = _state(esme)
    body = dcc.sign(_template("ECS43_7.2_SUCCESS_REQUEST_DUIS.XML", dcc, target=SECOND_ESME))
    body = dcc.critical(body, next(_COUNTER))
    assert code_of(dcc.post(body)) == "I99"
    dcc.settle()
    assert code_of(_only_answer(dcc, body)) == "E20"  # the hub cannot reach it on the HAN
    assert _state(esme) == before


def test_non_critical_srv_sent_as_critical_is_e12_and_reaches_no_device(dcc: Dcc) -> None:
    body = dcc.sign(_template("ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML", dcc,
                              cv=CommandVariant.TRANSFORM))
    answer = dcc.post(body, "serviceT")
    assert code_of(answer) == "E12"
    dcc.settle()
    assert dcc.side.router.counts.sent == 0


def test_pre_command_signed_by_the_wrong_supplier_is_refused_and_changes_nothing(
        dcc: Dcc) -> None:
    esme: Any = dcc.side.estate.device(ESME)
    before = _state(esme)
    transform = dcc.sign(_template("ECS43_7.2_SUCCESS_REQUEST_DUIS.XML", dcc))
    answer = dcc.post(transform, "serviceT")
    payload = answer.findtext(f"{SR}Body/{SR}ResponseMessage/{SR}PreCommand/{SR}GBCSPayload")
    assert payload
    pre_command = base64.b64decode(payload)
    assert correlate(read_request(parse_xml(transform)), pre_command).passed
    # Signed with another supplier's GBCS signing key instead of the originator's.
    wrong = KeyStore.from_reference().credentials(OTHER_SUPPLIER, "ds")
    key = next(c.private_key for c in wrong if c.private_key is not None)
    apdu = codec.decode(pre_command).apdu
    signed = bytes(dataclasses.replace(apdu, signature=security.sign(key, apdu.signed_data())))
    rid = RequestID(SUPPLIER, EUI64.parse(ESME), next(_COUNTER))
    body = dcc.sign(build_request(rid, load_catalogue().get("7.2"), CommandVariant.SIGNED_SEND,
                                  {"SignedPreCommand": {"GBCSPayload":
                                                        base64.b64encode(signed).decode()}}))
    reply = dcc.http.post("/api/v1/serviceS", content=body,
                          headers={"Content-Type": "application/xml"})
    # DUIS: a Pre-Command whose signature does not verify is rejected (HTTP 401 in DCC Boxed).
    assert reply.status_code == 401, reply.text[:300]
    dcc.settle()
    assert dcc.side.router.counts.sent == 0
    assert _state(esme) == before


def test_expired_future_date_is_refused_before_any_device_is_reached(dcc: Dcc) -> None:
    esme: Any = dcc.side.estate.device(ESME)
    before = _state(esme)
    past = (dcc.clock.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = dcc.sign(_template("ECS01a_1.1.1_FUTURE_DATED_TOU_BLOCK_SUCCESS_REQUEST_DUIS.XML",
                              dcc, execution=past))
    # DUIS has no code of its own for this: HTTP 400, as for any value the DCC cannot accept.
    reply = dcc.http.post("/api/v1/serviceT", content=body,
                          headers={"Content-Type": "application/xml"})
    assert reply.status_code == 400, reply.text[:300]
    dcc.settle()
    assert dcc.side.router.counts.sent == 0
    assert _state(esme) == before


def test_device_offline_past_the_deadline_is_e20_and_alerts_reach_the_network_operator(
        dcc: Dcc) -> None:
    esme: Any = dcc.side.estate.device(ESME)
    before = _state(esme)
    dcc.side.estate.power_fail(CHF)
    body = dcc.sign(_template("ECS43_7.2_SUCCESS_REQUEST_DUIS.XML", dcc))
    body = dcc.critical(body, next(_COUNTER))
    assert code_of(dcc.post(body)) == "I99"
    dcc.settle()
    assert code_of(_only_answer(dcc, body)) == "E20"
    assert _state(esme) == before and esme.supply_state is SupplyState.ENABLED

    dcc.side.estate.power_restore(CHF)
    dcc.settle(60)
    kinds = {}
    for user, message in dcc.alerts:
        ok, diagnostics = dcctool.validate(message)
        assert ok, diagnostics
        body_el = etree.fromstring(message).find(f"{SR}Body")
        assert body_el is not None
        kinds[etree.QName(body_el[0]).localname] = user
    assert kinds == {"DCCAlertMessage": NETWORK_OPERATOR.hyphenated,
                     "DeviceAlertMessage": NETWORK_OPERATOR.hyphenated}
