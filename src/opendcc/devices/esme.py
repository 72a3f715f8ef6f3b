"""Electricity Smart Metering Equipment: a `Meter` with export, a secondary element and load limiting.

Beyond what every meter does (see `meter.py`), the ESME has an export register (ECS17a, with
its profile ECS22a and daily log ECS21c) fed by rooftop PV where the premises has it, a
secondary tariff element for twin-element meters (ECS01c/d, ECS24b), a load switch that can be
closed remotely (ECS42) and load limiting (ECS27, ECS28a/b): when average demand over a
half-hour exceeds the threshold the counter rises and, if configured, the supply is disabled
for the restoration period and then re-enabled with alert 0x8F34. It keeps the maximum
demand registers (highest half-hour average import, and import within the configurable time
period ECS37 sets; ECS57 resets them), the export MPAN (ECS39b), whether the tariff block
counters reset daily (ECS48), the randomised offset limit (ECS26c) and the voltage
configuration (ECS29b).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

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
from opendcc.ids import MPxN


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


@dataclass(frozen=True, slots=True)
class MaxDemand:
    """ECS18a/ECS18b maximum demand registers: the highest half-hour average active power (W)
    imported, exported, and imported within the configurable time period (ECS37)."""

    import_w: int = 0
    export_w: int = 0
    period_import_w: int = 0


#: ECS57: the maximum demand registers a reset can name.
MAX_DEMAND_REGISTERS = frozenset({"import_w", "export_w", "period_import_w"})
#: GB local time (GMT / BST), which the ESME's clock keeps its days in.
UK_LOCAL_TIME = ZoneInfo("Europe/London")
#: SMETS2 default randomised offset limit (seconds) for ESME-initiated reads and alerts.
DEFAULT_RANDOMISED_OFFSET_LIMIT_S = 0


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
    max_demand: MaxDemand = MaxDemand()
    max_demand_period: tuple[time, time] | None = None
    export_mpan: MPxN | None = None
    daily_block_counter_reset: bool = False
    randomised_offset_limit_s: int = DEFAULT_RANDOMISED_OFFSET_LIMIT_S
    voltage_configuration: tuple[tuple[str, int], ...] = ()

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

    # Maximum demand, export MPAN, configuration -------------------------------------------

    def set_max_demand_period(self, start: time, end: time,
                              now: datetime) -> Result[tuple[time, time]]:
        """ECS37: the daily time period of the configurable maximum demand register."""
        self.settle(now)
        self.max_demand_period = (start, end)
        return ok((start, end), now)

    def reset_max_demand(self, registers: frozenset[str], now: datetime) -> Result[MaxDemand]:
        """ECS57: zero the named maximum demand registers (`MAX_DEMAND_REGISTERS`)."""
        unknown = registers - MAX_DEMAND_REGISTERS
        if not registers or unknown:
            raise InvalidArgument(f"no maximum demand register {sorted(unknown) or 'named'}")
        self.settle(now)
        kept = {name: getattr(self.max_demand, name) for name in MAX_DEMAND_REGISTERS - registers}
        self.max_demand = MaxDemand(**kept)
        return ok(self.max_demand, now)

    def read_max_demand(self, now: datetime) -> Result[MaxDemand]:
        """ECS18a/ECS18b: the maximum demand registers."""
        self.settle(now)
        return ok(self.max_demand, now)

    def set_export_mpan(self, mpan: MPxN, now: datetime) -> Result[MPxN]:
        """ECS39b: the export MPAN (the import one is `mpxn`, ECS39a)."""
        if not mpan.is_mpan:
            raise InvalidArgument(f"{mpan} is not an MPAN")
        self.export_mpan = mpan
        return ok(mpan, now)

    def set_daily_block_counter_reset(self, on: bool, now: datetime) -> Result[bool]:
        """ECS48: whether the tariff block counter matrix resets every day."""
        self.daily_block_counter_reset = on
        return ok(on, now)

    def _block_counter_resets(self, start: datetime) -> bool:
        """ECS48: with daily resetting on, the tariff block counter (the energy the block
        thresholds are compared with) starts again at each local midnight by the ESME's clock
        (00:00 UK time: 23:00 UTC in summer); off, as any meter's block period."""
        if not self.daily_block_counter_reset:
            return Meter._block_counter_resets(self, start)  # slots dataclass: no bare super()
        local = start.astimezone(UK_LOCAL_TIME)
        return local.hour == 0 and local.minute == 0

    def read_randomisation(self, now: datetime) -> Result[int]:
        """ECS26c: the randomised offset limit (s)."""
        return ok(self.randomised_offset_limit_s, now)

    def set_voltage_configuration(self, settings: tuple[tuple[str, int], ...],
                                  now: datetime) -> Result[tuple[tuple[str, int], ...]]:
        """ECS29a-d: RMS voltage thresholds and periods, by setting name (V and s)."""
        self.voltage_configuration = tuple(sorted({**dict(self.voltage_configuration),
                                                   **dict(settings)}.items()))
        return ok(self.voltage_configuration, now)

    def _before_half_hour(self, start: datetime, end: datetime) -> None:
        if self.supply_cause is DisableCause.LOAD_LIMIT and self.off and self.off[-1][1] is not None:
            restore_at = self.off[-1][1]
            if restore_at <= start:
                self.supply_state = SupplyState.ENABLED
                self.supply_cause = None
                self.raise_alert(SUPPLY_ENABLED_AFTER_LOAD_LIMIT, restore_at)

    def _after_half_hour(self, acc: Accounts, end: datetime, wh: int) -> None:
        self._track_max_demand(end, wh * 2)
        limit = self.load_limit
        if limit is None or wh * 2 <= limit.threshold_w:
            return
        self.load_limit_counter += 1
        if limit.disable_supply and self.supply_state is SupplyState.ENABLED:
            self.off = (*self.off, (end, end + limit.restoration_period))
            self.supply_state = SupplyState.DISABLED
            self.supply_cause = DisableCause.LOAD_LIMIT

    def _track_max_demand(self, end: datetime, demand_w: int) -> None:
        """Raise the maximum demand registers with the half-hour ending at `end` (its average
        import `demand_w`); the configurable one only inside the ECS37 period."""
        md = self.max_demand
        period = self.max_demand_period
        start = (end - timedelta(minutes=30)).time()
        in_period = period is not None and (period[0] <= start < period[1] if period[0] <= period[1]
                                            else start >= period[0] or start < period[1])
        if demand_w > md.import_w or (in_period and demand_w > md.period_import_w):
            self.max_demand = MaxDemand(max(md.import_w, demand_w), md.export_w,
                                        max(md.period_import_w, demand_w) if in_period
                                        else md.period_import_w)
