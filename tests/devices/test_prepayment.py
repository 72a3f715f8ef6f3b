"""Prepayment: credit runs down, supply disables, top-up arms, consumer enables; UTRN anti-replay."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from opendcc.devices.errors import InvalidArgument, SupplyStateError, UtrnRejected
from opendcc.devices.esme import ESME
from opendcc.devices.gsme import GSME
from opendcc.devices.prepayment import UTRN_CACHE_SIZE, Debt, PaymentMode, Utrn
from opendcc.devices.supply import DisableCause, SupplyState


def test_credit_exhaustion_disables_then_top_up_arms_and_button_enables(esme: ESME,
                                                                        t0: datetime) -> None:
    esme.set_payment_mode(PaymentMode.PREPAYMENT, t0)
    esme.top_up(Utrn(5_00_00, 1), t0)
    later = t0 + timedelta(days=10)
    status = esme.read_supply_status(later).value
    assert status.state is SupplyState.DISABLED
    assert status.cause is DisableCause.CREDIT
    went_off = esme.off[-1][0]
    assert esme.register(later) == esme.register(went_off)
    with pytest.raises(SupplyStateError):
        esme.enable_supply(later)

    esme.top_up(Utrn(50_00_00, 2), later)
    assert esme.supply_state is SupplyState.ARMED
    esme.press_button(later + timedelta(minutes=5))
    assert esme.supply_state is SupplyState.ENABLED


def test_emergency_credit_keeps_supply_on_longer(esme: ESME, t0: datetime) -> None:
    esme.set_payment_mode(PaymentMode.PREPAYMENT, t0)
    esme.top_up(Utrn(5_00_00, 1), t0)
    soon = t0 + timedelta(hours=12)
    regs = esme.read_prepayment_registers(soon).value
    if not regs.emergency_credit_available:
        pytest.skip("balance still above the emergency credit threshold")
    result = esme.activate_emergency_credit(soon)
    assert [a.code_text for a in result.alerts] == ["81AB"]
    assert esme.read_prepayment_registers(soon).value.emergency_credit_active


def test_utrn_older_than_the_last_five_is_rejected(esme: ESME, t0: datetime) -> None:
    for counter in range(10, 10 + UTRN_CACHE_SIZE):
        esme.top_up(Utrn(1_00, counter), t0)
    balance = esme.read_prepayment_registers(t0).value.balance
    with pytest.raises(UtrnRejected):
        esme.top_up(Utrn(1_00, 9), t0)
    esme.top_up(Utrn(1_00, 7 + UTRN_CACHE_SIZE + 10), t0)
    assert esme.read_prepayment_registers(t0).value.balance == balance + 1_00


def test_top_up_recovers_payment_debt(gsme: GSME, t0: datetime) -> None:
    gsme.update_debt(Debt(payment_debt=30_00), t0)
    result = gsme.top_up(Utrn(20_00, 1), t0).value
    assert result.debt_recovered == 10_00
    assert gsme.read_prepayment_registers(t0).value.debt.payment_debt == 20_00


def test_top_up_over_maximum_balance_changes_nothing(esme: ESME, t0: datetime) -> None:
    before = esme.read_prepayment_registers(t0).value
    with pytest.raises(UtrnRejected):
        esme.top_up(Utrn(10**9, 1), t0)
    after = esme.read_prepayment_registers(t0).value
    assert after == before


def test_gas_valve_cannot_be_opened_remotely(gsme: GSME, t0: datetime) -> None:
    gsme.disable_supply(t0)
    with pytest.raises(Exception, match="arm"):
        gsme.enable_supply(t0)
    gsme.arm_supply(t0)
    gsme.press_button(t0 + timedelta(minutes=1))
    assert gsme.supply_state is SupplyState.ENABLED


def test_emergency_credit_in_credit_mode_is_refused(esme: ESME, t0: datetime) -> None:
    with pytest.raises(InvalidArgument):
        esme.activate_emergency_credit(t0)
