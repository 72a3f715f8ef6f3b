"""Prepayment: meter balance, emergency credit, debt, and top-up by UTRN with anti-replay.

Money is in hundredths of a penny ("cp"); the balance is kept in thousandths of that ("mcp") so
half-hourly charges of Wh x cp/kWh stay exact integers. GBCS §14.3 (CS01a, CS01b): a UTRN
carries a value and a counter; the meter keeps the counters of the last five UTRNs it
accepted and refuses a counter it has already seen or one older than all five of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from opendcc.devices.errors import InvalidArgument, UtrnRejected

#: GBCS §14.3.5: the number of accepted UTRN counters a meter remembers.
UTRN_CACHE_SIZE = 5


class PaymentMode(Enum):
    """ECS02/ECS03, GCS02/GCS03."""

    CREDIT = "credit"
    PREPAYMENT = "prepayment"


@dataclass(frozen=True, slots=True)
class Utrn:
    """A decoded Unique Transaction Reference Number: value (cp), counter, originator."""

    value: int
    counter: int
    originator: str = ""


@dataclass(frozen=True, slots=True)
class PrepaymentConfig:
    """ECS08a/GCS05 settings (cp): disablement threshold, emergency credit, maximum balance."""

    disablement_threshold: int = 0
    emergency_credit_limit: int = 1000_00
    emergency_credit_threshold: int = 500_00
    max_meter_balance: int = 250_000_00
    max_credit: int = 100_000_00
    debt_recovery_rate_percent: int = 50

    def __post_init__(self) -> None:
        if not 0 <= self.debt_recovery_rate_percent <= 100:
            raise InvalidArgument("debt recovery rate must be 0..100 percent")
        if self.emergency_credit_limit < 0 or self.max_credit <= 0:
            raise InvalidArgument("emergency credit limit and max credit must be positive")


DEFAULT_PREPAYMENT_CONFIG = PrepaymentConfig()


@dataclass(frozen=True, slots=True)
class Debt:
    """ECS07/GCS04: payment-based debt (recovered from top-ups) and two time-based debts."""

    payment_debt: int = 0
    time_debt_1: int = 0
    time_debt_1_rate: int = 0
    time_debt_2: int = 0
    time_debt_2_rate: int = 0


@dataclass(slots=True)
class Accounts:
    """What a meter has settled so far: TOU/block registers, balance, debt, UTRN counters."""

    settled_at: datetime
    settled_wh: int
    tou_wh: list[int]
    block_wh: list[int]
    day_wh: int = 0
    balance_mcp: int = 0
    ec_active: bool = False
    ec_available: bool = False
    debt: Debt = field(default_factory=Debt)
    utrn_counters: list[int] = field(default_factory=list)
    top_ups: int = 0

    @property
    def balance(self) -> int:
        """Meter balance in cp (rounded towards minus infinity)."""
        return self.balance_mcp // 1000


@dataclass(frozen=True, slots=True)
class TopUpResult:
    """CS01a: what a top-up did."""

    value: int
    debt_recovered: int
    credited: int
    balance: int


@dataclass(frozen=True, slots=True)
class PrepaymentRegisters:
    """ECS19/GCS14, ECS82/GCS60: balance, emergency credit, debt, mode."""

    mode: PaymentMode
    balance: int
    emergency_credit_active: bool
    emergency_credit_available: bool
    debt: Debt
    accepted_top_ups: int


def check_utrn(counters: list[int], utrn: Utrn) -> None:
    """GBCS §14.3.5: refuse a replayed UTRN counter, or one older than every remembered one."""
    if utrn.value <= 0:
        raise UtrnRejected(f"UTRN value must be positive, got {utrn.value}")
    if utrn.counter in counters:
        raise UtrnRejected(f"UTRN counter {utrn.counter} has already been applied")
    if len(counters) >= UTRN_CACHE_SIZE and utrn.counter < min(counters):
        raise UtrnRejected(
            f"UTRN counter {utrn.counter} is older than the last {UTRN_CACHE_SIZE} accepted")


def remember_utrn(counters: list[int], counter: int) -> None:
    """Add `counter`, dropping the oldest (smallest) when the cache is full."""
    counters.append(counter)
    if len(counters) > UTRN_CACHE_SIZE:
        counters.remove(min(counters))


def split_top_up(value: int, debt: Debt, config: PrepaymentConfig) -> tuple[int, Debt]:
    """Recover payment-based debt from a top-up at the configured rate: (recovered, new debt)."""
    recovered = min(debt.payment_debt, value * config.debt_recovery_rate_percent // 100)
    return recovered, replace(debt, payment_debt=debt.payment_debt - recovered)
