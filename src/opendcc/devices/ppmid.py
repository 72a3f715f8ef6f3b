"""Prepayment Meter Interface Device: the consumer's prepayment keypad and display.

On the HAN it can top up (PECS01/PCS01), activate emergency credit (PECS02/PCS02) and enable an
armed supply (PECS03) on the meters it is joined to, and show their balances. It holds no
metering data of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import InvalidArgument, NotJoined
from opendcc.devices.meter import Meter
from opendcc.devices.prepayment import PrepaymentRegisters, TopUpResult, Utrn
from opendcc.devices.results import Outcome, Result, ok
from opendcc.devices.supply import SupplyStatus


@dataclass(slots=True, eq=False)
class PPMID(Device):
    """A PPMID joined to one or more meters."""

    kind: ClassVar[DeviceType] = DeviceType.PPMID

    han_devices: tuple[str, ...] = ()

    def join_device(self, other: str, now: datetime) -> Result[tuple[str, ...]]:
        """CS03A2: the PPMID records a meter (or other device) it may talk to."""
        if other in self.han_devices:
            return Result(Outcome.NO_CHANGE, self.han_devices, (), now)
        self.han_devices = (*self.han_devices, other)
        return ok(self.han_devices, now)

    def unjoin_device(self, other: str, now: datetime) -> Result[tuple[str, ...]]:
        """CS04AC: forget a device this PPMID was joined to."""
        if other not in self.han_devices:
            raise InvalidArgument(f"{other} is not joined to {self.id}")
        self.han_devices = tuple(d for d in self.han_devices if d != other)
        return ok(self.han_devices, now)

    def _check_joined(self, meter: Meter) -> None:
        if self.id not in meter.han_devices:
            raise NotJoined(f"PPMID {self.id} is not joined to {meter.id}")

    def top_up(self, meter: Meter, utrn: Utrn, now: datetime) -> Result[TopUpResult]:
        """PECS01/PCS01: a UTRN keyed in by the consumer."""
        self._check_joined(meter)
        return meter.top_up(utrn, now)

    def activate_emergency_credit(self, meter: Meter, now: datetime) -> Result[int]:
        """PECS02/PCS02."""
        self._check_joined(meter)
        return meter.activate_emergency_credit(now)

    def enable_supply(self, meter: Meter, now: datetime) -> Result[SupplyStatus]:
        """PECS03: enable an armed supply."""
        self._check_joined(meter)
        return meter.press_button(now)

    def balance(self, meter: Meter, now: datetime) -> Result[PrepaymentRegisters]:
        """What the display shows."""
        self._check_joined(meter)
        return meter.read_prepayment_registers(now)
