"""What ESME and GSME share: registers from the load model, tariff, prepayment, supply switch.

The meter settles lazily: every operation first brings its accounts (TOU and block registers,
balance, debt) up to the last completed half-hour, charging each half-hour at the tariff in
force, disabling the supply in prepayment mode when credit runs out. An idle meter that is
never asked anything keeps no accounts at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import ClassVar

from opendcc.devices import profile_log
from opendcc.devices.device import Device
from opendcc.devices.errors import InvalidArgument, SupplyStateError, UtrnRejected, WrongDevice
from opendcc.devices.events import EMERGENCY_CREDIT_ACTIVATED, EMERGENCY_CREDIT_EXHAUSTED
from opendcc.devices.load_model import DEFAULT_MODEL, HALF_HOUR, Fuel, LoadModel, half_hour_start
from opendcc.devices.prepayment import (
    DEFAULT_PREPAYMENT_CONFIG,
    Accounts,
    Debt,
    PaymentMode,
    PrepaymentConfig,
    PrepaymentRegisters,
    TopUpResult,
    Utrn,
    check_utrn,
    remember_utrn,
    split_top_up,
)
from opendcc.devices.profile_log import ProfileEntry
from opendcc.devices.registers import ImportRegisters, instantaneous_power, register_at
from opendcc.devices.results import Outcome, Result, ok
from opendcc.devices.supply import (
    DisableCause,
    OffPeriods,
    SupplyState,
    SupplyStatus,
    SupplyTamperState,
    close_off,
    open_off,
    transition,
)
from opendcc.devices.tariff import DEFAULT_TARIFF, Tariff
from opendcc.ids import MPxN

#: When an emulated meter was commissioned, unless told otherwise.
DEFAULT_ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(slots=True, eq=False)
class Meter(Device):
    """A smart meter: ESME or GSME."""

    fuel: ClassVar[Fuel]

    seed: int = 0
    origin: datetime = DEFAULT_ORIGIN
    opening_wh: int = 0
    mpxn: MPxN | None = None
    model: LoadModel = DEFAULT_MODEL
    tariff: Tariff = DEFAULT_TARIFF
    payment_mode: PaymentMode = PaymentMode.CREDIT
    prepayment_config: PrepaymentConfig = DEFAULT_PREPAYMENT_CONFIG
    supply_state: SupplyState = SupplyState.ENABLED
    supply_cause: DisableCause | None = None
    tamper_state: SupplyTamperState = SupplyTamperState.UNCHANGED
    off: OffPeriods = ()
    accounts: Accounts | None = field(default=None, repr=False)
    han_devices: tuple[str, ...] = ()

    # Registers -----------------------------------------------------------------------------

    def register(self, at: datetime) -> int:
        """Cumulative import (Wh) at `at`, from the load model less the supply's off periods."""
        return register_at(self.model, self.seed, self.fuel, self.origin, self.opening_wh,
                           self.off, at)

    def consumption(self, start: datetime, end: datetime) -> int:
        """Wh imported in [start, end), supply-off periods excluded (the load model's answer)."""
        return self.register(end) - self.register(start)

    def half_hours(self, start: datetime, end: datetime) -> list[int]:
        """Wh per half-hour from the half-hour containing `start` to the last ending by `end`."""
        t = half_hour_start(start)
        prev = self.register(t)
        out = []
        while t + HALF_HOUR <= end:
            t += HALF_HOUR
            cur = self.register(t)
            out.append(cur - prev)
            prev = cur
        return out

    def _accounts(self) -> Accounts:
        if self.accounts is None:
            # Settlement runs on half-hour boundaries, from the one at or before commissioning.
            start = half_hour_start(self.origin)
            opening = self.register(start)
            rates = len(self.tariff.tou_prices)
            self.accounts = Accounts(settled_at=start, settled_wh=opening,
                                     tou_wh=[opening] + [0] * (rates - 1), block_wh=[0] * 4)
        return self.accounts

    def settle(self, now: datetime) -> Accounts:
        """Bring the accounts up to the last completed half-hour before `now`."""
        acc = self._accounts()
        end = half_hour_start(now)
        t = acc.settled_at
        prev = acc.settled_wh
        while t < end:
            nxt = t + HALF_HOUR
            self._before_half_hour(t, nxt)
            cur = self.register(nxt)
            self._charge(acc, t, cur - prev)
            self._after_half_hour(acc, nxt, cur - prev)
            t, prev = nxt, cur
        if end > acc.settled_at:
            acc.settled_at, acc.settled_wh = end, prev
        self._before_half_hour(now, now)
        return acc

    def _before_half_hour(self, start: datetime, end: datetime) -> None:
        """Hook run before each half-hour is settled and at the settle time (load limit restore)."""

    def _after_half_hour(self, acc: Accounts, end: datetime, wh: int) -> None:
        """Hook for ESME load limiting."""

    def _block_counter_resets(self, start: datetime) -> bool:
        """Whether the tariff block counter starts again with the half-hour at `start` (the
        model's block period: the day, from midnight UTC)."""
        return start.hour == 0 and start.minute == 0

    def _charge(self, acc: Accounts, start: datetime, wh: int) -> None:
        tariff = self.tariff
        if self._block_counter_resets(start):
            acc.day_wh = 0
        rate = tariff.rate_at(start)
        block = tariff.block_for(acc.day_wh)
        if rate < len(acc.tou_wh):
            acc.tou_wh[rate] += wh
        acc.block_wh[block] += wh
        acc.day_wh += wh
        acc.balance_mcp -= wh * tariff.price(rate, block) + tariff.standing_charge * 1000 // 48
        if self.payment_mode is PaymentMode.PREPAYMENT:
            self._time_debt(acc)
            self._check_credit(acc, start + HALF_HOUR)

    def _time_debt(self, acc: Accounts) -> None:
        d = acc.debt
        take1 = min(d.time_debt_1, d.time_debt_1_rate // 48)
        take2 = min(d.time_debt_2, d.time_debt_2_rate // 48)
        if take1 or take2:
            acc.debt = replace(d, time_debt_1=d.time_debt_1 - take1, time_debt_2=d.time_debt_2 - take2)
            acc.balance_mcp -= (take1 + take2) * 1000

    def _credit_floor(self, acc: Accounts) -> int:
        cfg = self.prepayment_config
        return cfg.disablement_threshold - (cfg.emergency_credit_limit if acc.ec_active else 0)

    def _check_credit(self, acc: Accounts, at: datetime) -> None:
        balance = acc.balance
        if not acc.ec_active and balance < self.prepayment_config.emergency_credit_threshold:
            acc.ec_available = True
        if balance < self._credit_floor(acc) and self.supply_state is SupplyState.ENABLED:
            if acc.ec_active:
                self.raise_alert(EMERGENCY_CREDIT_EXHAUSTED, at)
            self._switch_off(at, DisableCause.CREDIT)

    def _switch_off(self, at: datetime, cause: DisableCause,
                    state: SupplyState = SupplyState.DISABLED) -> None:
        self.off = open_off(self.off, at)
        self.supply_state = state
        self.supply_cause = cause

    def _switch_on(self, at: datetime) -> None:
        self.off = close_off(self.off, at)
        self.supply_state = SupplyState.ENABLED
        self.supply_cause = None

    def read_instantaneous_import_registers(self, now: datetime) -> Result[ImportRegisters]:
        """ECS17b/GCS13a (and the TOU/block reads ECS17d/e, GCS13b/c): registers at `now`."""
        acc = self.settle(now)
        if now < acc.settled_at:
            raise InvalidArgument(
                f"read at {now} is before {self.id} settled its registers ({acc.settled_at})")
        total = self.register(now)
        partial = total - acc.settled_wh
        tou = list(acc.tou_wh)
        rate = self.tariff.rate_at(now)
        if rate < len(tou):
            tou[rate] += partial
        blocks = list(acc.block_wh)
        blocks[self.tariff.block_for(acc.day_wh)] += partial
        return ok(ImportRegisters(now, total, tuple(tou), tuple(blocks)), now)

    def read_instantaneous_power(self, now: datetime) -> Result[int]:
        """ECS17c: active import power in W."""
        return ok(instantaneous_power(self.model, self.seed, self.fuel, now,
                                      self.supply_state is SupplyState.ENABLED), now)

    def read_half_hour_profile(self, start: datetime, end: datetime,
                               now: datetime) -> Result[list[ProfileEntry]]:
        """ECS22b/GCS17: half-hourly consumption in [start, end)."""
        return ok(profile_log.half_hour_profile(self.register, start, end, now), now)

    def read_daily_read_log(self, start: datetime, end: datetime,
                            now: datetime) -> Result[list[ProfileEntry]]:
        """ECS21a/GCS16a: the register at each midnight."""
        return ok(profile_log.daily_read_log(self.register, start, end, now), now)

    def read_daily_consumption_log(self, start: datetime, end: datetime,
                                   now: datetime) -> Result[list[ProfileEntry]]:
        """ECS66/GCS61: consumption per day."""
        return ok(profile_log.daily_consumption_log(self.register, start, end, now), now)

    def set_mpxn(self, mpxn: MPxN, now: datetime) -> Result[MPxN]:
        """ECS39a/GCS41: set the MPAN/MPRN."""
        if mpxn.is_mpan != (self.fuel is Fuel.ELECTRICITY):
            raise InvalidArgument(f"{mpxn} is not a meter point number for a {self.fuel.value} meter")
        self.mpxn = mpxn
        return ok(mpxn, now)

    def read_mpxn(self, now: datetime) -> Result[MPxN | None]:
        """ECS40/GCS46."""
        return ok(self.mpxn, now)

    # Tariff --------------------------------------------------------------------------------

    def update_tariff(self, tariff: Tariff, now: datetime) -> Result[Tariff]:
        """ECS01a/GCS01a: replace the tariff (TOU, blocks, prices, standing charge)."""
        acc = self.settle(now)
        if len(tariff.tou_prices) > len(acc.tou_wh):
            acc.tou_wh.extend([0] * (len(tariff.tou_prices) - len(acc.tou_wh)))
        self.tariff = tariff
        return ok(tariff, now)

    def update_tariff_prices(self, now: datetime, tou_prices: tuple[int, ...] | None = None,
                             block_prices: tuple[int, ...] | None = None,
                             standing_charge: int | None = None) -> Result[Tariff]:
        """ECS01b/GCS01b: new prices for the same tariff structure."""
        new = self.tariff.with_prices(tou_prices, block_prices, standing_charge)
        self.settle(now)
        self.tariff = new
        return ok(new, now)

    def read_tariff(self, now: datetime) -> Result[Tariff]:
        """ECS24/GCS21f: the tariff in force."""
        return ok(self.tariff, now)

    # Prepayment ----------------------------------------------------------------------------

    def set_payment_mode(self, mode: PaymentMode, now: datetime) -> Result[PaymentMode]:
        """ECS02/ECS03, GCS02/GCS03: switch between credit and prepayment mode."""
        self.settle(now)
        if mode is self.payment_mode:
            return Result(Outcome.NO_CHANGE, mode, (), now)
        self.payment_mode = mode
        return ok(mode, now)

    def update_prepayment_configuration(self, config: PrepaymentConfig,
                                        now: datetime) -> Result[PrepaymentConfig]:
        """ECS08a/GCS05: thresholds, emergency credit and debt recovery settings."""
        self.settle(now)
        self.prepayment_config = config
        return ok(config, now)

    def top_up(self, utrn: Utrn, now: datetime) -> Result[TopUpResult]:
        """CS01a/CS01b (and PECS01/PCS01 via a PPMID): apply a UTRN; a replay is refused."""
        acc = self.settle(now)
        check_utrn(acc.utrn_counters, utrn)
        cfg = self.prepayment_config
        if utrn.value > cfg.max_credit or acc.balance + utrn.value > cfg.max_meter_balance:
            raise UtrnRejected(f"top-up of {utrn.value} would exceed the maximum meter balance")
        recovered, debt = split_top_up(utrn.value, acc.debt, cfg)
        remember_utrn(acc.utrn_counters, utrn.counter)
        acc.debt = debt
        acc.balance_mcp += (utrn.value - recovered) * 1000
        acc.top_ups += 1
        if acc.balance >= cfg.emergency_credit_threshold:
            acc.ec_active = acc.ec_available = False
        if self.supply_cause is DisableCause.CREDIT and acc.balance >= cfg.disablement_threshold:
            # SMETS2: credit restored arms the supply; the consumer enables it locally.
            self.supply_state = SupplyState.ARMED
        return ok(TopUpResult(utrn.value, recovered, utrn.value - recovered, acc.balance), now)

    def adjust_meter_balance(self, amount: int, now: datetime) -> Result[int]:
        """ECS04a/GCS40a: add (or with a negative amount, take) credit."""
        acc = self.settle(now)
        acc.balance_mcp += amount * 1000
        return ok(acc.balance, now)

    def activate_emergency_credit(self, now: datetime) -> Result[int]:
        """ECS09/GCS06 (PECS02/PCS02 from a PPMID): use emergency credit when it is available."""
        acc = self.settle(now)
        if self.payment_mode is not PaymentMode.PREPAYMENT:
            raise InvalidArgument("emergency credit exists only in prepayment mode")
        if acc.ec_active:
            return Result(Outcome.NO_CHANGE, acc.balance, (), now)
        if not acc.ec_available:
            raise InvalidArgument("emergency credit is not available: balance above its threshold")
        acc.ec_active = True
        alert = self.raise_alert(EMERGENCY_CREDIT_ACTIVATED, now)
        if self.supply_cause is DisableCause.CREDIT and acc.balance >= self._credit_floor(acc):
            self.supply_state = SupplyState.ARMED
        return ok(acc.balance, now, (alert,))

    def update_debt(self, debt: Debt, now: datetime) -> Result[Debt]:
        """ECS07/GCS04: set payment-based and time-based debts and their recovery rates."""
        if min(debt.payment_debt, debt.time_debt_1, debt.time_debt_2,
               debt.time_debt_1_rate, debt.time_debt_2_rate) < 0:
            raise InvalidArgument("debt amounts and rates must not be negative")
        acc = self.settle(now)
        acc.debt = debt
        return ok(debt, now)

    def read_prepayment_registers(self, now: datetime) -> Result[PrepaymentRegisters]:
        """ECS19/GCS14, ECS82/GCS60: balance, emergency credit and debt."""
        acc = self.settle(now)
        return ok(PrepaymentRegisters(self.payment_mode, acc.balance, acc.ec_active,
                                      acc.ec_available, acc.debt, acc.top_ups), now)

    read_meter_balance = read_prepayment_registers

    # Supply --------------------------------------------------------------------------------

    def _credit_allows_enable(self, acc: Accounts) -> bool:
        return self.payment_mode is PaymentMode.CREDIT or acc.balance >= self._credit_floor(acc)

    def enable_supply(self, now: datetime) -> Result[SupplyStatus]:
        """ECS42: close the load switch (a gas valve cannot be opened remotely)."""
        raise WrongDevice(f"{self.kind.value} supply cannot be enabled remotely; arm it instead")

    def disable_supply(self, now: datetime) -> Result[SupplyStatus]:
        """ECS43/GCS32: open the load switch / close the valve."""
        self.settle(now)
        if self.supply_state is SupplyState.DISABLED:
            return Result(Outcome.NO_CHANGE, self.supply_status(), (), now)
        transition(self.supply_state, SupplyState.DISABLED)
        self._switch_off(now, DisableCause.REMOTE)
        return ok(self.supply_status(), now)

    def arm_supply(self, now: datetime) -> Result[SupplyStatus]:
        """ECS44/GCS39: arm a disabled supply so the consumer can enable it locally."""
        self.settle(now)
        if self.supply_state is SupplyState.ARMED:
            return Result(Outcome.NO_CHANGE, self.supply_status(), (), now)
        self.supply_state = transition(self.supply_state, SupplyState.ARMED)
        return ok(self.supply_status(), now)

    def press_button(self, now: datetime) -> Result[SupplyStatus]:
        """The consumer (or PECS03 from a PPMID) enables an armed supply."""
        acc = self.settle(now)
        if self.supply_state is not SupplyState.ARMED:
            raise SupplyStateError(f"supply is {self.supply_state.value}, not armed")
        if not self._credit_allows_enable(acc):
            raise SupplyStateError("credit is below the disablement threshold")
        self._switch_on(now)
        return ok(self.supply_status(), now)

    def read_supply_status(self, now: datetime) -> Result[SupplyStatus]:
        """ECS45/GCS33."""
        self.settle(now)
        return ok(self.supply_status(), now)

    def supply_status(self) -> SupplyStatus:
        """The current supply status without settling."""
        return SupplyStatus(self.supply_state, self.supply_cause, self.tamper_state)

    def set_supply_tamper_state(self, state: SupplyTamperState, now: datetime) -> Result[SupplyStatus]:
        """ECS81/GCS24a: what tampering does to the supply."""
        self.tamper_state = state
        return ok(self.supply_status(), now)

    def power_lost(self, at: datetime) -> None:
        """The premises lost mains power: nothing is measured until it returns."""
        self.settle(at)
        self.off = open_off(self.off, at)

    def power_restored(self, at: datetime) -> None:
        """Mains power is back: measuring resumes unless the supply itself is off."""
        self.settle(at)
        if self.supply_state is SupplyState.ENABLED:
            self.off = close_off(self.off, at)

    # HAN devices joined to this meter (CS03/CS04) ------------------------------------------

    def join_device(self, other: str, now: datetime) -> Result[tuple[str, ...]]:
        """CS03A1/CS03A2/CS03B/CS03C: add a HAN device (PPMID, IHD, HCALCS) to this meter's log."""
        if other in self.han_devices:
            return Result(Outcome.NO_CHANGE, self.han_devices, (), now)
        if len(self.han_devices) >= 5:
            raise InvalidArgument("the meter's device log is full (5 entries)")
        self.han_devices = (*self.han_devices, other)
        return ok(self.han_devices, now)

    def unjoin_device(self, other: str, now: datetime) -> Result[tuple[str, ...]]:
        """CS04AC/CS04B: remove a HAN device from this meter's log."""
        if other not in self.han_devices:
            raise InvalidArgument(f"{other} is not joined to {self.id}")
        self.han_devices = tuple(d for d in self.han_devices if d != other)
        return ok(self.han_devices, now)

    def read_device_join_details(self, now: datetime) -> Result[tuple[str, ...]]:
        """CS07: the devices joined to this meter."""
        return ok(self.han_devices, now)


