"""A supplier's day over HTTP, through the DCC to the emulated ESME and back: tariff change,
tariff read, prepayment top-up, supply disable and enable; each step seen in the device's
state and in the DUIS responses (their GBCS decoded and verified with the supplier's keys)."""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from test_device_srvs_support import ESME, SR, SUPPLIER, TEMPLATES, Dcc, code_of, make_dcc, prepared

from opendcc.client.builder import build_request
from opendcc.client.parse import parse
from opendcc.devices.prepayment import PaymentMode
from opendcc.devices.supply import SupplyState
from opendcc.duis.catalogue import CommandVariant, load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.gbcs import codec
from opendcc.gbcs.codec import Verification
from opendcc.gbcs.payloads import payload_json
from opendcc.ids import EUI64, RequestID

_COUNTER = itertools.count(2_000_000)


@pytest.fixture
def dcc() -> Iterator[Dcc]:
    dcc = make_dcc()
    yield dcc
    dcc.services.close()


def _template(name: str) -> Path:
    [path] = [p for p in TEMPLATES if p.name == name]
    return path


def _run(dcc: Dcc, root: etree._Element) -> bytes:
    """Send one request (critical ones through serviceT and back, signed by the supplier),
    let the WAN and device work, and return the device's GBCS Response from the DUIS answer."""
    body = dcc.sign(root)
    cv = int(root.findtext(f"{SR}Header/{SR}CommandVariant") or 0)
    if cv == CommandVariant.TRANSFORM:
        body = dcc.critical(body, next(_COUNTER))
    ack = dcc.post(body)
    assert code_of(ack) == "I99", etree.tostring(ack)[:400]
    dcc.settle(600)
    request_id = parse_xml(body).findtext(f"{SR}Header/{SR}RequestID")
    assert request_id
    [answer] = dcc.answers(request_id)
    assert code_of(answer) == "I0", etree.tostring(answer)[:400]
    payload = answer.findtext(f"{SR}Body/{SR}ResponseMessage/{SR}GBCSPayload")
    assert payload
    return base64.b64decode(payload)


def _view(dcc: Dcc, gbcs: bytes) -> Any:
    msg = codec.decode(gbcs, dcc.keys)
    assert msg.verification is Verification.VERIFIED
    return payload_json(msg.payload)


def _request(srv: str, body: dict[str, Any], cv: int) -> etree._Element:
    rid = RequestID(SUPPLIER, EUI64.parse(ESME), next(_COUNTER))
    return build_request(rid, load_catalogue().get(srv), cv, body)


def test_tariff_read_top_up_and_supply_over_http(dcc: Dcc) -> None:
    esme: Any = dcc.side.estate.device(ESME)
    before = esme.tariff

    # 1.2.1 Update Price (ECS01b, critical): the ESME's TOU prices change.
    price_update = prepared(_template("ECS01b_1.2.1_IMMEDIATE_TOU_SUCCESS_REQUEST_DUIS.XML"),
                            next(_COUNTER), dcc.clock.now())
    assert parse(_run(dcc, price_update), keys=dcc.keys).success
    assert esme.tariff != before
    prices_now = esme.tariff.tou_prices

    # 4.11.1 Read Tariff (ECS24): the read reports the prices the ESME now holds.
    read = prepared(_template("ECS24_4.11.1_SUCCESS_REQUEST_DUIS.XML"), next(_COUNTER),
                    dcc.clock.now())
    data = _view(dcc, _run(dcc, read))["access_response_list_of_data"]
    table = data[-1]["elements"][2]["elements"]
    assert [row["elements"][1]["value"] for row in table[:len(prices_now)]] == list(prices_now)

    # 1.6 Update Payment Mode (ECS03) to prepayment, then 2.2 Top Up (CS01a): the balance rises.
    mode = prepared(_template("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML"),
                    next(_COUNTER), dcc.clock.now())
    assert parse(_run(dcc, mode), keys=dcc.keys).success
    assert esme.payment_mode is PaymentMode.PREPAYMENT
    balance = esme.read_meter_balance(dcc.clock.now()).value.balance
    top_up = prepared(_template("CS01a_2.2_SUCCESS_REQUEST_DUIS.XML"), next(_COUNTER),
                      dcc.clock.now())
    assert parse(_run(dcc, top_up), keys=dcc.keys).success
    assert esme.read_meter_balance(dcc.clock.now()).value.balance > balance

    # 7.2 Disable Supply (ECS43), 7.4 Read Supply Status (ECS45), 7.1 Enable Supply (ECS42).
    disable = prepared(_template("ECS43_7.2_SUCCESS_REQUEST_DUIS.XML"), next(_COUNTER),
                       dcc.clock.now())
    assert parse(_run(dcc, disable), keys=dcc.keys).success
    assert esme.supply_state is SupplyState.DISABLED
    status = _view(dcc, _run(dcc, _request("7.4", {"ReadSupplyStatus": {}}, 1)))
    assert status["access_response_list_of_data"][0]["value"] == 0
    assert parse(_run(dcc, _request("7.1", {"EnableSupply": {}}, 4)), keys=dcc.keys).success
    assert esme.supply_state is SupplyState.ENABLED
    status = _view(dcc, _run(dcc, _request("7.4", {"ReadSupplyStatus": {}}, 1)))
    assert status["access_response_list_of_data"][0]["value"] == 1
