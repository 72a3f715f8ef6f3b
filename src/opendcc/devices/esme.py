"""Electricity Smart Metering Equipment: a `Meter` with export, a secondary element and load limiting.

Beyond what every meter does (see `meter.py`), the ESME has an export register (ECS17a, with
its profile ECS22a and daily log ECS21c) fed by rooftop PV where the premises has it, a
secondary tariff element for twin-element meters (ECS01c/d, ECS24b), a load switch that can be
closed remotely (ECS42) and load limiting (ECS27, ECS28a/b): when average demand over a
half-hour exceeds the threshold the counter rises and, if configured, the supply is disabled
for the restoration period and then re-enabled with alert 0x8F34.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar

from opendcc.devices import profile_log
from opendcc.devices.device import DeviceType
from opendcc.devices.errors import InvalidArgument, SupplyStateError
from opendcc.devices.events import SUPPLY_ENABLED_AFTER_LOAD_LIMIT
from opendcc.devices.load_model import SOLAR_MODEL, Fuel, LoadModel
from opendcc.devices.meter import Meter
from opendcc.devices.prepayment import Accounts
from opendcc.devices.profile_log import ProfileEntry
from opendcc.devices.registers import ExportRegisters, register_at
from opendcc.devices.results import Outcome, Result, ok
from opendcc.devices.supply import DisableCause, SupplyState, SupplyStatus, SupplyTamperState
from opendcc.devices.tariff import Tariff


@dataclass(frozen=True, slots=True)
class LoadLimitConfig:
    """ECS28a: threshold (W), whether to disable the supply, and the restoration period."""

    threshold_w: int
    disable_supply: bool = False
    restoration_period: timedelta = timedelta(minutes=30)

    def __post_init__(self) -> None:
        if self.threshold_w <= 0:
            raise InvalidArgument("load limit threshold must be positive")


@dataclass(frozen=True, slots=True)
class LoadLimitData:
    """ECS27: configuration and the number of times the limit was exceeded."""

    config: LoadLimitConfig | None
    counter: int


@dataclass(slots=True, eq=False)
class ESME(Meter):
    """An electricity meter (single element, with a secondary tariff element)."""

    kind: ClassVar[DeviceType] = DeviceType.ESME
    fuel: ClassVar[Fuel] = Fuel.ELECTRICITY

    export_wh: int = 0
    pv_peak_w: int = 0
    solar: LoadModel = SOLAR_MODEL
    secondary_tariff: Tariff | None = None
    load_limit: LoadLimitConfig | None = None
    load_limit_counter: int = 0

    def export_register(self, at: datetime) -> int:
        """Cumulative export (Wh): all PV generation is exported while the supply is on."""
        return register_at(self.solar, self.pv_peak_w, self.fuel, self.origin, self.export_wh,
                           self.off, at)

    def read_export_registers(self, now: datetime) -> Result[ExportRegisters]:
        """ECS17a: total export."""
        return ok(ExportRegisters(now, self.export_register(now)), now)

    def read_export_half_hour_profile(self, start: datetime, end: datetime,
                                      now: datetime) -> Result[list[ProfileEntry]]:
        """ECS22a: half-hourly export."""
        return ok(profile_log.half_hour_profile(self.export_register, start, end, now), now)

    def read_export_daily_read_log(self, start: datetime, end: datetime,
                                   now: datetime) -> Result[list[ProfileEntry]]:
        """ECS21c: the export register at each midnight."""
        return ok(profile_log.daily_read_log(self.export_register, start, end, now), now)

    def update_secondary_tariff(self, tariff: Tariff, now: datetime) -> Result[Tariff]:
        """ECS01c: tariff for the secondary element."""
        self.secondary_tariff = tariff
        return ok(tariff, now)

    def update_secondary_prices(self, now: datetime, tou_prices: tuple[int, ...] | None = None,
                                block_prices: tuple[int, ...] | None = None) -> Result[Tariff]:
        """ECS01d: prices for the secondary element."""
        if self.secondary_tariff is None:
            raise InvalidArgument("no secondary element tariff is set")
        self.secondary_tariff = self.secondary_tariff.with_prices(tou_prices, block_prices)
        return ok(self.secondary_tariff, now)

    def read_secondary_tariff(self, now: datetime) -> Result[Tariff | None]:
        """ECS24b."""
        return ok(self.secondary_tariff, now)

    def enable_supply(self, now: datetime) -> Result[SupplyStatus]:
        """ECS42: close the load switch, unless locked by tamper state or short of credit."""
        acc = self.settle(now)
        if self.supply_state is SupplyState.ENABLED:
            return Result(Outcome.NO_CHANGE, self.supply_status(), (), now)
        if self.tamper_state is SupplyTamperState.LOCKED and self.supply_cause is DisableCause.TAMPER:
            raise SupplyStateError("supply is locked after tampering")
        if not self._credit_allows_enable(acc):
            raise SupplyStateError("credit is below the disablement threshold: arm instead")
        self._switch_on(now)
        return ok(self.supply_status(), now)

    # Load limiting -------------------------------------------------------------------------

    def set_load_limit_configuration(self, config: LoadLimitConfig | None,
                                     now: datetime) -> Result[LoadLimitConfig | None]:
        """ECS28a."""
        self.settle(now)
        self.load_limit = config
        return ok(config, now)

    def reset_load_limit_counter(self, now: datetime) -> Result[int]:
        """ECS28b."""
        self.settle(now)
        self.load_limit_counter = 0
        return ok(0, now)

    def read_load_limit_data(self, now: datetime) -> Result[LoadLimitData]:
        """ECS27."""
        self.settle(now)
        return ok(LoadLimitData(self.load_limit, self.load_limit_counter), now)

    def _before_half_hour(self, start: datetime, end: datetime) -> None:
        if self.supply_cause is DisableCause.LOAD_LIMIT and self.off and self.off[-1][1] is not None:
            restore_at = self.off[-1][1]
            if restore_at <= start:
                self.supply_state = SupplyState.ENABLED
                self.supply_cause = None
                self.raise_alert(SUPPLY_ENABLED_AFTER_LOAD_LIMIT, restore_at)

    def _after_half_hour(self, acc: Accounts, end: datetime, wh: int) -> None:
        limit = self.load_limit
        if limit is None or wh * 2 <= limit.threshold_w:
            return
        self.load_limit_counter += 1
        if limit.disable_supply and self.supply_state is SupplyState.ENABLED:
            self.off = (*self.off, (end, end + limit.restoration_period))
            self.supply_state = SupplyState.DISABLED
            self.supply_cause = DisableCause.LOAD_LIMIT
