"""Gas Smart Metering Equipment: a battery-powered `Meter` with a valve, reached through the GPF.

The GSME sleeps between contacts with the Gas Proxy Function; the GPF answers reads from its
mirror of the GSME data and holds commands until the GSME next wakes (`next_contact`). The
valve follows the meter supply rules, except that it can never be opened remotely: GCS39 arms
it and the consumer opens it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from opendcc.devices.device import DeviceType
from opendcc.devices.errors import InvalidArgument
from opendcc.devices.load_model import EPOCH, Fuel
from opendcc.devices.meter import Meter
from opendcc.devices.results import Result, ok
from opendcc.devices.tariff import DEFAULT_GAS_TARIFF, Tariff

#: How often a GSME wakes to exchange data with the GPF (a modelling choice, configurable).
CONTACT_INTERVAL = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class ConversionFactors:
    """GCS23: calorific value (MJ/m3) and conversion factor, in thousandths."""

    calorific_value_milli: int = 39_500
    conversion_factor_milli: int = 1_022


DEFAULT_CONVERSION = ConversionFactors()

#: DUIS GasBillingCalendar Periodicity words (GCS25a: all periodicities).
PERIODICITIES = ("Daily", "Weekly", "Monthly", "Quarterly", "SixMonthly", "Yearly")


@dataclass(frozen=True, slots=True)
class BillingCalendar:
    """GCS25a: when billing periods start, and how often (a DUIS Periodicity word)."""

    start: datetime
    periodicity: str


@dataclass(slots=True, eq=False)
class GSME(Meter):
    """A gas meter."""

    kind: ClassVar[DeviceType] = DeviceType.GSME
    fuel: ClassVar[Fuel] = Fuel.GAS

    tariff: Tariff = DEFAULT_GAS_TARIFF
    conversion: ConversionFactors = DEFAULT_CONVERSION
    contact_phase_s: int = 0
    billing_calendar: BillingCalendar | None = None

    def next_contact(self, now: datetime) -> datetime:
        """When the GSME next wakes and talks to the GPF (at or after `now`)."""
        period = CONTACT_INTERVAL.total_seconds()
        since = (now - EPOCH).total_seconds() - self.contact_phase_s
        k = -(-since // period)
        return EPOCH + timedelta(seconds=k * period + self.contact_phase_s)

    def last_contact(self, now: datetime) -> datetime:
        """When the GSME last talked to the GPF (at or before `now`)."""
        nxt = self.next_contact(now)
        return nxt if nxt == now else nxt - CONTACT_INTERVAL

    def set_conversion_factors(self, factors: ConversionFactors, now: datetime) -> Result[ConversionFactors]:
        """GCS23: set calorific value and conversion factor."""
        if factors.calorific_value_milli <= 0 or factors.conversion_factor_milli <= 0:
            raise InvalidArgument("calorific value and conversion factor must be positive")
        self.conversion = factors
        return ok(factors, now)

    def set_billing_calendar(self, calendar: BillingCalendar, now: datetime) -> Result[BillingCalendar]:
        """GCS25a: set the billing calendar (start and periodicity)."""
        if calendar.periodicity not in PERIODICITIES:
            raise InvalidArgument(f"{calendar.periodicity!r} is not a billing periodicity")
        self.billing_calendar = calendar
        return ok(calendar, now)

    def volume_m3_milli(self, energy_wh: int) -> int:
        """Volume (thousandths of m3) for an energy: kWh x 3.6 / (CV x CF)."""
        cv, cf = self.conversion.calorific_value_milli, self.conversion.conversion_factor_milli
        return energy_wh * 3_600_000 // (cv * cf)
