"""A SMETS1 service provider's estate of meters, with fault injection; no I/O.

Each meter has exactly one credential holder (`owner`): the installing supplier (smart mode),
a losing supplier the customer has left (dormant: the registered supplier has no access), or,
after adoption, the DCC. Replacing credentials is a compare-and-set on `owner`, so a meter is
never held by two parties and never by none. Everything is deterministic from the seed: the
estate, and whether a device fails on its n-th attempt.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Final

from opendcc.smets1.models import DeviceModel, model, models_of


class Status(IntEnum):
    """Per-device outcome codes shared by both provider protocols."""

    OK = 0
    NOT_RESPONDING = 1
    CREDENTIAL_MISMATCH = 2
    UNSUPPORTED = 3
    NOT_AUTHORISED = 4
    UNKNOWN_DEVICE = 5


class Op(IntEnum):
    """Device commands both head-ends accept (their own vocabulary, not DUIS)."""

    READ_IMPORT = 1
    SET_TARIFF = 2
    SET_PRICE = 3
    SUPPLY_ENABLE = 4
    SUPPLY_DISABLE = 5
    SUPPLY_ARM = 6
    SUPPLY_STATUS = 7


# The SRV variant each operation serves, for the model's capability check.
OP_SRV: Final = {
    Op.READ_IMPORT: "4.1.1", Op.SET_TARIFF: "1.1.1", Op.SET_PRICE: "1.2.1",
    Op.SUPPLY_ENABLE: "7.1", Op.SUPPLY_DISABLE: "7.2", Op.SUPPLY_ARM: "7.3",
    Op.SUPPLY_STATUS: "7.4",
}
SUPPLY_STATES: Final = {Op.SUPPLY_ENABLE: 1, Op.SUPPLY_DISABLE: 0, Op.SUPPLY_ARM: 2}

class AlertKind(IntEnum):
    """Events a head-end reports about its meters (its own vocabulary, not DUIS)."""

    POWER_OUTAGE = 1
    POWER_RESTORED = 2
    TAMPER = 3
    LOW_CREDIT = 4
    CREDIT_ADDED = 5


@dataclass(frozen=True, slots=True)
class ProviderAlert:
    """One alert in a head-end's alert feed, numbered in the order raised."""

    sequence: int
    device_id: str
    kind: AlertKind
    at: datetime
    detail: str = ""
    utrn: str = ""  # the top-up's UTRN (20 digits) for CREDIT_ADDED


SUPPLIERS: Final = ("90B3D51F30010000", "90B3D51F30030000")  # installing suppliers (hex EUI-64)
PROVIDER_PREFIX: Final = {"alpha": 0x00A1_5100_0000_0000, "beta": 0x00B2_5100_0000_0000}
MPXN_BASE: Final = {"alpha": 1_100_000_000_000, "beta": 1_200_000_000_000}


@dataclass(slots=True)
class Meter:
    """One SMETS1 meter as its provider sees it."""

    device_id: str  # EUI-64, 16 hex digits
    model: str
    firmware: str
    fuel: str
    mpxn: str
    installing_supplier: str
    owner: str  # the one credential holder
    dormant: bool
    register: int = 0  # import register, Wh (gas: litres)
    tariff: int = 0  # last primary price, in 1/1000 p/kWh
    supply: int = 1  # 0 off, 1 on, 2 armed
    attempts: int = 0  # credential replacement attempts seen


@dataclass(slots=True)
class Faults:
    """Fault-injection knobs; `outage_until` is a `time.monotonic()` deadline or 0."""

    failure_rate: float = 0.0  # a device does not respond to a command
    garbage_rate: float = 0.0  # a device's answer is replaced by garbage
    drop_rate: float = 0.0  # a bulk call drops the connection after half its work
    outage: bool = False
    outage_until: float = 0.0

    def in_outage(self) -> bool:
        """True while the head-end is out of service."""
        return self.outage or time.monotonic() < self.outage_until

    def update(self, settings: dict[str, object]) -> None:
        """Apply knobs from an admin request (unknown names are refused)."""
        for name, value in settings.items():
            if name == "outage_seconds":
                self.outage_until = time.monotonic() + float(str(value))
            elif name in ("failure_rate", "garbage_rate", "drop_rate"):
                setattr(self, name, float(str(value)))
            elif name == "outage":
                self.outage = bool(value)
            else:
                raise KeyError(f"unknown fault knob {name!r}")


def chance(seed: int, what: str, device_id: str, attempt: int) -> float:
    """A uniform number in [0, 1) fixed by the seed, the fault kind, the device and the attempt."""
    digest = hashlib.blake2b(f"{seed}|{what}|{device_id}|{attempt}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


@dataclass
class Estate:
    """A provider's meters and its fault knobs."""

    provider: str
    seed: int
    meters: dict[str, Meter] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    alerts: list[ProviderAlert] = field(default_factory=list)

    @classmethod
    def generate(cls, provider: str, size: int, seed: int, dormant_ratio: float = 0.05,
                 only_model: str | None = None) -> Estate:
        """A deterministic estate of `size` meters of this provider's models (or of one of them)."""
        rng = random.Random(f"{provider}:{seed}")
        models: tuple[DeviceModel, ...] = tuple(
            m for m in models_of(provider) if only_model is None or m.name == only_model)
        if not models:
            raise ValueError(f"provider {provider} has no model {only_model!r}")
        estate = cls(provider, seed)
        for i in range(size):
            m = models[rng.randrange(len(models))]
            supplier = SUPPLIERS[rng.randrange(len(SUPPLIERS))]
            dormant = rng.random() < dormant_ratio
            device_id = f"{PROVIDER_PREFIX[provider] + i:016X}"
            estate.meters[device_id] = Meter(
                device_id=device_id, model=m.name, firmware=m.firmware[rng.randrange(len(m.firmware))],
                fuel=m.fuel, mpxn=str(MPXN_BASE[provider] + i), installing_supplier=supplier,
                owner=supplier, dormant=dormant, register=rng.randrange(10**7))
        return estate

    # --- credentials -----------------------------------------------------------------------

    def _fails(self, meter: Meter, what: str, rate: float) -> bool:
        return rate > 0 and chance(self.seed, what, meter.device_id, meter.attempts) < rate

    def replace_credentials(self, device_id: str, expected_owner: str, new_owner: str) -> Status:
        """Swap the credential holder if it is still `expected_owner` (compare-and-set)."""
        meter = self.meters.get(device_id)
        if meter is None:
            return Status.UNKNOWN_DEVICE
        meter.attempts += 1
        if self._fails(meter, "replace", self.faults.failure_rate):
            return Status.NOT_RESPONDING
        if meter.owner == new_owner:
            return Status.OK  # already done: replacing is idempotent
        if meter.owner != expected_owner:
            return Status.CREDENTIAL_MISMATCH
        meter.owner = new_owner
        return Status.OK

    def restore_credentials(self, device_id: str, from_owner: str, owner: str) -> Status:
        """Give the credentials back to `owner` if `from_owner` (or `owner` already) holds them."""
        meter = self.meters.get(device_id)
        if meter is None:
            return Status.UNKNOWN_DEVICE
        if meter.owner not in (from_owner, owner):
            return Status.CREDENTIAL_MISMATCH
        meter.owner = owner
        return Status.OK

    def garbled(self, device_id: str, what: str) -> bool:
        """True if this answer is to be replaced by garbage."""
        meter = self.meters.get(device_id)
        attempt = meter.attempts if meter else 0
        return self.faults.garbage_rate > 0 and chance(
            self.seed, "garbage:" + what, device_id, attempt) < self.faults.garbage_rate

    # --- device commands -------------------------------------------------------------------

    def command(self, caller: str, device_id: str, op: Op, argument: int) -> tuple[Status, int]:
        """Run one device command for `caller`, who must hold the meter's credentials."""
        meter = self.meters.get(device_id)
        if meter is None:
            return Status.UNKNOWN_DEVICE, 0
        if meter.owner != caller:
            return Status.NOT_AUTHORISED, 0
        if not model(meter.model).supports(OP_SRV[op]):
            return Status.UNSUPPORTED, 0
        if self._fails(meter, f"command{int(op)}", self.faults.failure_rate):
            return Status.NOT_RESPONDING, 0
        if op is Op.READ_IMPORT:
            meter.register += 1 + (len(device_id) % 7)  # consumption since the last read
            return Status.OK, meter.register
        if op in (Op.SET_TARIFF, Op.SET_PRICE):
            meter.tariff = argument
            return Status.OK, argument
        if op in SUPPLY_STATES:
            meter.supply = SUPPLY_STATES[op]
            return Status.OK, meter.supply
        return Status.OK, meter.supply  # SUPPLY_STATUS

    # --- alerts ----------------------------------------------------------------------------

    def raise_alert(self, device_id: str, kind: AlertKind, detail: str = "", utrn: str = "",
                    at: datetime | None = None) -> ProviderAlert | None:
        """Record an event on a meter in the feed (None: no such meter)."""
        if device_id not in self.meters:
            return None
        alert = ProviderAlert(len(self.alerts) + 1, device_id, kind, at or datetime.now(UTC),
                              detail, utrn)
        self.alerts.append(alert)
        return alert

    def alerts_for(self, holder: str, after: int, limit: int = 1000) -> list[ProviderAlert]:
        """The feed after sequence `after`, for meters `holder` holds the credentials of now
        (another party's meters are not its business)."""
        out = []
        for alert in self.alerts[max(after, 0):]:
            if self.meters[alert.device_id].owner == holder:
                out.append(alert)
                if len(out) == limit:
                    break
        return out
