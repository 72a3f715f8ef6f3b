"""A supplier's day at the GBCS level: tariff change, tariff read, prepayment top-up, supply
disable and enable, each seen in the ESME's state and in the decoded, verified responses."""

from __future__ import annotations

from typing import Any

from devices.gbcs.sites import Site, edited, payload_view, rtds
from opendcc.client.parse import parse
from opendcc.devices.prepayment import PaymentMode
from opendcc.devices.supply import SupplyState

ESME = "00-DB-12-34-56-78-90-A0"


def set_tou_prices(view: Any, first_price: int, standing: int) -> None:
    """ECS01b: price of TOU rate 1 and the standing charge, in the command's scale (-5)."""
    for spec, data in zip(view["access_request_list_of_specification"],
                          view["access_request_list_of_data"], strict=True):
        desc = spec["cosem_attribute_descriptor"]
        if desc["attribute_id"] != 6:
            continue
        table = data["elements"][2]["elements"]
        if desc["instance_id"] == "0-0:19.20.0.255":
            table[0]["elements"][1]["value"] = first_price
        else:
            table[0]["elements"][1]["value"] = standing


def set_utrn(view: Any, digits: str) -> None:
    view["access_request_list_of_data"][0]["value"] = digits.encode().hex()


def test_tariff_topup_and_supply_over_gbcs(site: Site) -> None:
    esme: Any = site.estate.device(ESME)
    keys = site.keys.supplier_side

    # ECS01b: 31.000 p/kWh and 20.000 p/day (scale -5 in the command; device 1/100 p).
    change = edited(rtds("ECS01b_1.2.1_IMMEDIATE_TOU_SUCCESS_COMMAND_GBCS.HEX"),
                    lambda v: set_tou_prices(v, 31000, 20000))
    [response] = site.endpoint.handle(site.command(change))
    assert parse(response, keys=keys).success
    assert esme.tariff.tou_prices[0] == 3100 and esme.tariff.standing_charge == 2000

    # ECS24: the read reports the new prices (in the device's scale, -4).
    site.clock.advance(60)
    [response] = site.endpoint.handle(site.command(rtds("ECS24_4.11.1_SUCCESS_COMMAND_GBCS.HEX")))
    data = payload_view(response, keys)["access_response_list_of_data"]
    standing, prices = data[-2], data[-1]
    assert prices["elements"][0]["elements"][1]["value"] == -4
    assert prices["elements"][2]["elements"][0]["elements"][1]["value"] == 3100
    assert standing["elements"][2]["elements"][0]["elements"][1]["value"] == 2000

    # ECS03 then CS01a: prepayment mode, then a £20 top-up (UTRN value in its last 7 digits).
    site.clock.advance(60)
    site.endpoint.handle(site.command(rtds("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_COMMAND_GBCS.HEX")))
    assert esme.payment_mode is PaymentMode.PREPAYMENT
    before = esme.read_meter_balance(site.clock.now()).value.balance
    top_up = edited(rtds("CS01a_2.2_SUCCESS_COMMAND_GBCS.HEX"),
                    lambda v: set_utrn(v, "00000000000000200000"))
    [response] = site.endpoint.handle(site.command(top_up))
    assert parse(response, keys=keys).success
    after = esme.read_meter_balance(site.clock.now()).value.balance
    assert after - before == 200000
    [response] = site.endpoint.handle(site.command(rtds("ECS82_4.18_SUCCESS_COMMAND_GBCS.HEX")))
    assert payload_view(response, keys)["access_response_list_of_data"][0]["value"] == after * 10

    # ECS43 / ECS45 / ECS42 / ECS45: disable, read, enable, read.
    expected = ((("ECS43_7.2_SUCCESS_COMMAND_GBCS.HEX"), SupplyState.DISABLED, 0),
                (("ECS42_7.1_SUCCESS_COMMAND_GBCS.HEX"), SupplyState.ENABLED, 1))
    for name, state, dlms_state in expected:
        site.clock.advance(60)
        [response] = site.endpoint.handle(site.command(rtds(name)))
        assert parse(response, keys=keys).success
        assert esme.supply_state is state
        [read] = site.endpoint.handle(site.command(rtds("ECS45_7.4_SUCCESS_COMMAND_GBCS.HEX")))
        assert payload_view(read, keys)["access_response_list_of_data"][0]["value"] == dlms_state
