"""Tariffs (GBCS ECS01a-d, GCS01a/b): TOU rates, block thresholds, prices, standing charge.

Prices are integers in hundredths of a penny per kWh, the standing charge in hundredths of a
penny per day; a daily switching table says which TOU rate applies from which minute of the
day. When block prices are set, the block (by energy used so far that day against the block
thresholds) chooses the price instead of the TOU rate. A tariff is immutable: premises on the
same tariff share one object and a change makes a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from opendcc.devices.errors import InvalidArgument

#: ESME limits (SMETS2): 48 TOU rates, 4 blocks.
MAX_TOU_RATES = 48
MAX_BLOCKS = 4


@dataclass(frozen=True, slots=True)
class Tariff:
    """One tariff element: TOU prices, switching table, block thresholds and prices, standing charge."""

    tou_prices: tuple[int, ...] = (2450,)
    switching: tuple[tuple[int, int], ...] = ((0, 0),)
    block_thresholds: tuple[int, ...] = ()
    block_prices: tuple[int, ...] = ()
    standing_charge: int = 5000

    def __post_init__(self) -> None:
        if not 1 <= len(self.tou_prices) <= MAX_TOU_RATES:
            raise InvalidArgument(f"a tariff has 1..{MAX_TOU_RATES} TOU prices, got {len(self.tou_prices)}")
        if any(p < 0 for p in (*self.tou_prices, *self.block_prices)) or self.standing_charge < 0:
            raise InvalidArgument("prices and standing charge must not be negative")
        minutes = [m for m, _ in self.switching]
        if not self.switching or minutes[0] != 0 or minutes != sorted(set(minutes)) or minutes[-1] >= 1440:
            raise InvalidArgument("switching table must start at minute 0 and rise within the day")
        if any(not 0 <= r < len(self.tou_prices) for _, r in self.switching):
            raise InvalidArgument("switching table names a TOU rate with no price")
        if len(self.block_thresholds) >= MAX_BLOCKS or list(self.block_thresholds) != sorted(
                self.block_thresholds):
            raise InvalidArgument(f"up to {MAX_BLOCKS - 1} rising block thresholds")
        if self.block_prices and len(self.block_prices) != len(self.block_thresholds) + 1:
            raise InvalidArgument("block prices need one more entry than block thresholds")

    def rate_at(self, at: datetime) -> int:
        """The TOU rate (0-based register index) in force at `at`."""
        minute = at.hour * 60 + at.minute
        rate = self.switching[0][1]
        for start, r in self.switching:
            if start > minute:
                break
            rate = r
        return rate

    def block_for(self, used_today_wh: int) -> int:
        """The block (0-based) given the energy already used in the block period."""
        block = 0
        for threshold in self.block_thresholds:
            if used_today_wh >= threshold:
                block += 1
        return block

    def price(self, rate: int, block: int) -> int:
        """Price in hundredths of a penny per kWh."""
        return self.block_prices[block] if self.block_prices else self.tou_prices[rate]

    def with_prices(self, tou_prices: tuple[int, ...] | None = None,
                    block_prices: tuple[int, ...] | None = None,
                    standing_charge: int | None = None) -> Tariff:
        """ECS01b/d, GCS01b: new prices, same structure; a count mismatch is refused."""
        if tou_prices is not None and len(tou_prices) != len(self.tou_prices):
            raise InvalidArgument(
                f"{len(tou_prices)} TOU prices for a tariff with {len(self.tou_prices)} rates")
        if block_prices is not None and len(block_prices) != len(self.block_thresholds) + 1:
            raise InvalidArgument("block prices need one more entry than block thresholds")
        return replace(
            self,
            tou_prices=self.tou_prices if tou_prices is None else tou_prices,
            block_prices=self.block_prices if block_prices is None else block_prices,
            standing_charge=self.standing_charge if standing_charge is None else standing_charge,
        )


DEFAULT_TARIFF = Tariff()
DEFAULT_GAS_TARIFF = Tariff(tou_prices=(620,), standing_charge=3100)
