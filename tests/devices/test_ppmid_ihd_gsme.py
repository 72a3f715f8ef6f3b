"""PPMID prepayment actions, the Type 2 IHD view, and GSME gas specifics."""

from __future__ import annotations

from datetime import timedelta

import pytest

from opendcc.clock import SimulatedClock
from opendcc.devices.errors import InvalidArgument, NotJoined
from opendcc.devices.estate import Estate
from opendcc.devices.gsme import ConversionFactors
from opendcc.devices.ihd import ihd_view
from opendcc.devices.ppmid import PPMID
from opendcc.devices.prepayment import PaymentMode, Utrn
from opendcc.devices.supply import SupplyState


@pytest.fixture
def boxed(clock: SimulatedClock) -> Estate:
    return Estate.demo(0, clock=clock)


def test_ppmid_tops_up_the_meter_it_is_joined_to(boxed: Estate, clock: SimulatedClock) -> None:
    p = boxed.premises[0]
    ppmid = boxed.device("00-DB-12-34-56-78-90-A4")
    assert isinstance(ppmid, PPMID)
    now = clock.now()
    result = ppmid.top_up(p.esme, Utrn(10_00, 77), now)
    assert ppmid.balance(p.esme, now).value.balance == result.value.balance


def test_ppmid_not_joined_is_refused(boxed: Estate, clock: SimulatedClock) -> None:
    stranger = boxed.device("00-DB-12-34-56-78-90-98")
    assert isinstance(stranger, PPMID)
    esme = boxed.premises[0].esme
    with pytest.raises(NotJoined):
        stranger.top_up(esme, Utrn(10_00, 1), clock.now())
    assert esme.accounts is None or esme.accounts.top_ups == 0


def test_ppmid_enables_an_armed_supply(boxed: Estate, clock: SimulatedClock) -> None:
    p = boxed.premises[0]
    ppmid = boxed.device("00-DB-12-34-56-78-90-A4")
    assert isinstance(ppmid, PPMID)
    now = clock.now()
    p.esme.disable_supply(now)
    p.esme.arm_supply(now)
    ppmid.enable_supply(p.esme, now + timedelta(minutes=1))
    assert p.esme.supply_state is SupplyState.ENABLED


def test_type2_ihd_view(boxed: Estate, clock: SimulatedClock) -> None:
    p = boxed.premises[0]
    p.esme.set_payment_mode(PaymentMode.PREPAYMENT, clock.now())
    p.esme.top_up(Utrn(30_00_00, 1), clock.now())
    later = clock.now() + timedelta(hours=19)
    view = ihd_view(p.esme, p.gpf, later)
    assert view.electricity_today_wh > 0
    assert view.gas_today_wh is not None and view.gas_today_wh > 0
    assert view.electricity_balance is not None and view.electricity_balance < 30_00_00
    assert view.electricity_power_w > 0


def test_gas_conversion_factors(boxed: Estate, clock: SimulatedClock) -> None:
    gsme = boxed.premises[0].gsme
    assert gsme is not None
    with pytest.raises(InvalidArgument):
        gsme.set_conversion_factors(ConversionFactors(0, 1000), clock.now())
    gsme.set_conversion_factors(ConversionFactors(40_000, 1_000), clock.now())
    assert gsme.volume_m3_milli(10_000) == 900  # 10 kWh x 3.6 / 40 MJ/m3 = 0.9 m3
