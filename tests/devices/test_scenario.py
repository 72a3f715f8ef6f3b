"""Issue 6 scenario: tariff change, tariff read, prepayment top-up, supply disable/enable."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from opendcc.devices.errors import (
    InvalidArgument,
    NotAuthorised,
    ReplayedCounter,
    SupplyStateError,
    UtrnRejected,
)
from opendcc.devices.esme import ESME
from opendcc.devices.prepayment import PaymentMode, Utrn
from opendcc.devices.results import Outcome
from opendcc.devices.security import CommandHeader, RemotePartyRole
from opendcc.devices.supply import DisableCause, SupplyState
from opendcc.devices.tariff import Tariff
from opendcc.ids import EUI64


def test_tariff_then_read_then_top_up_then_supply_off_and_on(esme: ESME, t0: datetime,
                                                              supplier: str) -> None:
    now = t0 + timedelta(days=2, hours=9)
    economy7 = Tariff(tou_prices=(3100, 1400), switching=((0, 1), (7 * 60, 0)),
                      standing_charge=5500)

    esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 1), now)
    assert esme.update_tariff(economy7, now).outcome is Outcome.SUCCESS
    assert esme.tariff == economy7

    esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 2), now)
    assert esme.read_tariff(now).value == economy7

    esme.set_payment_mode(PaymentMode.PREPAYMENT, now)
    before = esme.read_prepayment_registers(now).value.balance
    top_up = esme.top_up(Utrn(value=20_00_00, counter=1000), now).value
    assert top_up.balance == before + 20_00_00
    with pytest.raises(UtrnRejected):
        esme.top_up(Utrn(value=20_00_00, counter=1000), now)
    assert esme.read_prepayment_registers(now).value.balance == top_up.balance

    off = esme.disable_supply(now + timedelta(minutes=1))
    assert off.value.state is SupplyState.DISABLED
    assert off.value.cause is DisableCause.REMOTE
    on = esme.enable_supply(now + timedelta(hours=2))
    assert on.value.state is SupplyState.ENABLED
    # Nothing was measured while the supply was off.
    assert esme.register(now + timedelta(hours=2)) == esme.register(now + timedelta(minutes=1))


def test_tou_registers_follow_the_switching_table(esme: ESME, t0: datetime) -> None:
    economy7 = Tariff(tou_prices=(3100, 1400), switching=((0, 1), (7 * 60, 0)))
    esme.update_tariff(economy7, t0)
    day = t0 + timedelta(days=1)
    regs = esme.read_instantaneous_import_registers(day).value
    night = esme.register(t0 + timedelta(hours=7)) - esme.register(t0)
    assert regs.tou_wh[1] == night
    assert sum(regs.tou_wh) == regs.total_wh


def test_replayed_counter_is_rejected(esme: ESME, t0: datetime, supplier: str) -> None:
    esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 10), t0)
    with pytest.raises(ReplayedCounter):
        esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 10), t0)
    with pytest.raises(ReplayedCounter):
        esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 9), t0)
    esme.accept(CommandHeader(supplier, RemotePartyRole.SUPPLIER, 11), t0)
    assert esme.counters is not None and esme.counters.highest(supplier) == 11


def test_command_from_another_supplier_is_not_authorised(esme: ESME, t0: datetime) -> None:
    with pytest.raises(NotAuthorised):
        esme.accept(CommandHeader("90-B3-D5-1F-30-01-00-99", RemotePartyRole.SUPPLIER, 1), t0)
    assert esme.counters is None
    assert esme.security_log is not None and len(esme.security_log) == 1


def test_refused_price_update_changes_nothing(esme: ESME, t0: datetime) -> None:
    before = esme.tariff
    with pytest.raises(Exception, match="TOU prices"):
        esme.update_tariff_prices(t0, tou_prices=(1, 2, 3))
    assert esme.tariff is before


def test_arming_an_enabled_supply_is_refused(esme: ESME, t0: datetime) -> None:
    with pytest.raises(SupplyStateError):
        esme.arm_supply(t0)
    assert esme.supply_state is SupplyState.ENABLED
    assert esme.off == ()


def test_meter_commissioned_mid_half_hour_keeps_tou_and_total_in_step(t0: datetime) -> None:
    esme = ESME(EUI64.parse("0A00000000000001"), seed=4, origin=t0 + timedelta(minutes=17),
                opening_wh=5_000)
    esme.update_tariff(Tariff(tou_prices=(3000, 1500), switching=((0, 1), (420, 0))),
                       t0 + timedelta(minutes=20))
    for minutes in (25, 95, 600, 1440):
        regs = esme.read_instantaneous_import_registers(t0 + timedelta(minutes=minutes)).value
        assert sum(regs.tou_wh) == regs.total_wh
    # The night rate (00:00-07:00) counted from the half-hour the meter was commissioned in.
    assert regs.tou_wh[1] == esme.register(t0 + timedelta(hours=7)) - esme.register(t0)


def test_register_read_before_the_last_settlement_is_refused(esme: ESME, t0: datetime) -> None:
    esme.read_instantaneous_import_registers(t0 + timedelta(days=2))
    with pytest.raises(InvalidArgument, match="before"):
        esme.read_instantaneous_import_registers(t0 + timedelta(days=1))
