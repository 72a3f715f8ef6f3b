"""The values RTDS commands carry end up in the device: arguments read from DLMS and ZCL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from devices.gbcs.sites import Site, rtds
from opendcc.devices.esme import LoadLimitConfig
from opendcc.devices.gsme import ConversionFactors
from opendcc.devices.prepayment import Debt
from opendcc.ids import MPxN

ESME, GSME = "00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1"


def debt(device: Any, site: Site) -> Debt:
    result: Debt = device.read_prepayment_registers(site.clock.now()).value.debt
    return result


#: RTDS command -> (device, what its state must show afterwards).
EXPECTED: dict[str, tuple[str, Any]] = {
    # Debt 1 and 2 rates: 3 and 15 at price scale -1 per 86400 s; amounts scale -5.
    "ECS07_2.3_SUCCESS": (ESME, lambda d, s: debt(d, s) == Debt(5000, 3000, 3000, 1500, 15000)),
    # Change Debt: debt 1 +£1 at 50000/day (daily), debt 2 +50p at 50000/hour, debt 3 +£1.
    "GCS04_2.3_SUCCESS": (GSME, lambda d, s: debt(d, s) == Debt(100000, 100000, 5000, 50000, 120000)),
    "GCS05_2.1_IMMEDIATE_SUCCESS": (GSME, lambda d, s: (
        d.prepayment_config.emergency_credit_limit, d.prepayment_config.emergency_credit_threshold,
        d.prepayment_config.max_meter_balance) == (1_000_000, 10_000, 2_500_000)),
    "ECS28a_6.4.1_IMMEDIATE_SUCCESS": (ESME, lambda d, s: d.load_limit == LoadLimitConfig(
        6900, True, timedelta(seconds=30))),
    # Conversion factor 102264 with 5 decimals, calorific value 400 with 1.
    "GCS23_6.6_SUCCESS": (GSME, lambda d, s: d.conversion == ConversionFactors(40_000, 1_022)),
    "ECS39a_6.20.1_SINGLE_SUCCESS": (ESME, lambda d, s: d.mpxn == MPxN("1312345678333")),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_command_values_reach_the_device(site: Site, name: str) -> None:
    device_id, check = EXPECTED[name]
    answer = site.endpoint.answer(site.command(rtds(f"{name}_COMMAND_GBCS.HEX")))
    assert answer.executed
    assert check(site.estate.device(device_id), site)


def test_a_balance_adjustment_moves_the_balance(site: Site) -> None:
    esme: Any = site.estate.device(ESME)
    before = esme.read_meter_balance(site.clock.now()).value.balance
    site.endpoint.handle(site.command(rtds("ECS04a_1.5_SUCCESS_COMMAND_GBCS.HEX")))
    # 1200000 at scale -5 is £12.
    assert esme.read_meter_balance(site.clock.now()).value.balance - before == 120_000
