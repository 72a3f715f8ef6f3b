"""The Type 2 In-Home Display view: what a consumer device without keys reads from the meters.

Type 2 devices read the ESME and the GPF's GSME mirror on the HAN; they get a snapshot of
demand, today's use, price and balance, and cannot send commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from opendcc.devices.device import Device, DeviceType
from opendcc.devices.esme import ESME
from opendcc.devices.gpf import GPF
from opendcc.devices.supply import SupplyState


@dataclass(slots=True, eq=False)
class IHD(Device):
    """A Type 2 In-Home Display on the HAN (identity only; it reads, never commands)."""

    kind: ClassVar[DeviceType] = DeviceType.IHD


@dataclass(slots=True, eq=False)
class HCALCS(Device):
    """A HAN-connected auxiliary load control switch (identity only for now)."""

    kind: ClassVar[DeviceType] = DeviceType.HCALCS


@dataclass(slots=True, eq=False)
class CAD(Device):
    """A Consumer Access Device: a Type 2 device reading the meters (identity only)."""

    kind: ClassVar[DeviceType] = DeviceType.CAD


@dataclass(frozen=True, slots=True)
class Type2View:
    """One IHD refresh."""

    at: datetime
    electricity_power_w: int
    electricity_today_wh: int
    electricity_price: int
    electricity_balance: int | None
    supply_state: SupplyState
    gas_today_wh: int | None


def ihd_view(esme: ESME, gpf: GPF | None, now: datetime) -> Type2View:
    """Snapshot for a Type 2 device (no state changes beyond settling accounts)."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    acc = esme.settle(now)
    balance = acc.balance if esme.payment_mode.value == "prepayment" else None
    gas_today = None
    if gpf is not None and gpf.gsme is not None:
        at = gpf.gsme.last_contact(now)
        gas_today = gpf.gsme.register(at) - gpf.gsme.register(min(midnight, at))
    return Type2View(
        at=now,
        electricity_power_w=esme.read_instantaneous_power(now).value,
        electricity_today_wh=esme.register(now) - esme.register(midnight),
        electricity_price=esme.tariff.price(esme.tariff.rate_at(now), esme.tariff.block_for(acc.day_wh)),
        electricity_balance=balance,
        supply_state=esme.supply_state,
        gas_today_wh=gas_today,
    )
