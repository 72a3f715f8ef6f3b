"""Gas Proxy Function: the always-on part of the Communications Hub that stands in for the GSME.

GBCS §10.5: the GPF holds a mirror of the GSME data, so reads addressed to the GSME are
answered at once from the data as at the GSME's last contact; commands for the GSME wait in
the GPF until the GSME next wakes. The GPF also keeps its own device log (GCS59/GCS62).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from opendcc.devices.device import Device, DeviceType
from opendcc.devices.errors import InvalidArgument
from opendcc.devices.gsme import GSME
from opendcc.devices.profile_log import ProfileEntry, daily_read_log, half_hour_profile
from opendcc.devices.registers import ImportRegisters
from opendcc.devices.results import Result, ok


@dataclass(slots=True, eq=False)
class GPF(Device):
    """The Gas Proxy Function of a Communications Hub, mirroring one GSME."""

    kind: ClassVar[DeviceType] = DeviceType.GPF

    gsme: GSME | None = None
    device_log: tuple[str, ...] = ()

    def _mirror(self) -> GSME:
        if self.gsme is None:
            raise InvalidArgument(f"GPF {self.id} has no GSME paired")
        return self.gsme

    def mirror_time(self, now: datetime) -> datetime:
        """The time the mirrored GSME data is as at (the GSME's last contact)."""
        return self._mirror().last_contact(now)

    def read_gsme_import_registers(self, now: datetime) -> Result[ImportRegisters]:
        """GCS13a via the GPF: the GSME register as at its last contact."""
        gsme = self._mirror()
        at = gsme.last_contact(now)
        return ok(ImportRegisters(at, gsme.register(at), (gsme.register(at),)), now)

    def read_gsme_half_hour_profile(self, start: datetime, end: datetime,
                                    now: datetime) -> Result[list[ProfileEntry]]:
        """GCS17 via the GPF: profile up to the GSME's last contact."""
        gsme = self._mirror()
        return ok(half_hour_profile(gsme.register, start, min(end, gsme.last_contact(now)), now), now)

    def read_gsme_daily_read_log(self, start: datetime, end: datetime,
                                 now: datetime) -> Result[list[ProfileEntry]]:
        """GCS16a via the GPF."""
        gsme = self._mirror()
        return ok(daily_read_log(gsme.register, start, min(end, gsme.last_contact(now)), now), now)

    def gsme_delivery_time(self, now: datetime) -> datetime:
        """When a command for the GSME held by the GPF reaches it."""
        return self._mirror().next_contact(now)

    def restore_device_log(self, entries: tuple[str, ...], now: datetime) -> Result[tuple[str, ...]]:
        """GCS59: restore the GPF device log (e.g. from a replaced hub)."""
        self.device_log = entries
        return ok(entries, now)

    def read_device_log(self, now: datetime) -> Result[tuple[str, ...]]:
        """GCS62 backup / read of the GPF device log."""
        return ok(self.device_log, now)
