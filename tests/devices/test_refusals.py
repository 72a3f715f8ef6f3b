"""Any refused operation leaves the device exactly as it was (hypothesis over random sequences)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from opendcc.devices.errors import DeviceError
from opendcc.devices.esme import ESME, LoadLimitConfig
from opendcc.devices.prepayment import Debt, PaymentMode, PrepaymentConfig, Utrn
from opendcc.devices.supply import SupplyTamperState
from opendcc.devices.tariff import Tariff
from opendcc.ids import EUI64

T0 = datetime(2026, 3, 2, tzinfo=UTC)

Op = Callable[[ESME, datetime], Any]

OPS: list[tuple[str, Op]] = [
    ("top_up_small", lambda m, t: m.top_up(Utrn(5_00_00, int(t.timestamp()) % 7), t)),
    ("top_up_huge", lambda m, t: m.top_up(Utrn(10**10, 99), t)),
    ("top_up_zero", lambda m, t: m.top_up(Utrn(0, 1234), t)),
    ("prepay", lambda m, t: m.set_payment_mode(PaymentMode.PREPAYMENT, t)),
    ("credit", lambda m, t: m.set_payment_mode(PaymentMode.CREDIT, t)),
    ("disable", lambda m, t: m.disable_supply(t)),
    ("enable", lambda m, t: m.enable_supply(t)),
    ("arm", lambda m, t: m.arm_supply(t)),
    ("button", lambda m, t: m.press_button(t)),
    ("ec", lambda m, t: m.activate_emergency_credit(t)),
    ("bad_prices", lambda m, t: m.update_tariff_prices(t, tou_prices=(1, 2, 3, 4, 5))),
    ("prices", lambda m, t: m.update_tariff_prices(t, tou_prices=(2000,))),
    ("tou", lambda m, t: m.update_tariff(Tariff((3000, 1500), ((0, 1), (420, 0))), t)),
    ("debt", lambda m, t: m.update_debt(Debt(payment_debt=1_000_00, time_debt_1=500_00,
                                             time_debt_1_rate=50_00), t)),
    ("bad_debt", lambda m, t: m.update_debt(Debt(payment_debt=-1), t)),
    ("config", lambda m, t: m.update_prepayment_configuration(
        PrepaymentConfig(disablement_threshold=-5_00), t)),
    ("lock", lambda m, t: m.set_supply_tamper_state(SupplyTamperState.LOCKED, t)),
    ("load_limit", lambda m, t: m.set_load_limit_configuration(
        LoadLimitConfig(1500, disable_supply=True), t)),
    ("join", lambda m, t: m.join_device("0A-00-00-00-00-00-09-99", t)),
    ("unjoin_unknown", lambda m, t: m.unjoin_device("0A-00-00-00-00-00-09-98", t)),
    ("activate_fw", lambda m, t: m.activate_firmware(b"nope", t)),
    ("schedule_past", lambda m, t: m.schedule("x", "ECS01a", t, lambda u: m.read_tariff(u), t)),
    ("cancel_unknown", lambda m, t: m.cancel("missing", t)),
    ("secondary_prices", lambda m, t: m.update_secondary_prices(t, tou_prices=(1,))),
]


def _state(m: ESME) -> tuple[Any, ...]:
    acc = copy.deepcopy(m.accounts)
    return (m.tariff, m.secondary_tariff, m.payment_mode, m.prepayment_config, m.supply_state,
            m.supply_cause, m.tamper_state, m.off, acc, m.han_devices, m.firmware, m.load_limit,
            m.load_limit_counter, [p.ref for p in m.pending()])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(OPS) - 1), st.integers(0, 36 * 3600)),
                min_size=1, max_size=25))
def test_refused_operations_change_nothing(steps: list[tuple[int, int]]) -> None:
    m = ESME(EUI64.parse("0A00000000000001"), seed=3, origin=T0, opening_wh=10_000)
    now = T0
    for index, gap_s in steps:
        now += timedelta(seconds=gap_s)
        m.settle(now)  # time passing is not part of the command
        before = _state(m)
        name, op = OPS[index]
        try:
            op(m, now)
        except DeviceError:
            assert _state(m) == before, f"{name} was refused but changed the device"
