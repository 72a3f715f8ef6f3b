"""SMETS1 device models behind each service provider: fuel, firmware, eligibility and the
Service Requests each model supports, as one table loaded once.

The DCC keeps such a list (the SMETS1 eligible product list): a device is enrolled only if its
model and firmware are on it, and a DUIS Service Request is sent to an enrolled SMETS1 device
only if its model supports that SRV; others are refused (`SMETS1_UNSUPPORTED_CODE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from opendcc.duis.response_codes import ResponseCode

# DUIS E11 "invalid Service Request / device type combination": the answer for an SRV the
# enrolled SMETS1 model does not support (nothing is sent to the provider).
SMETS1_UNSUPPORTED_CODE: Final = ResponseCode.E11

READ = frozenset({"4.1.1"})  # Read Instantaneous Import Registers
TARIFF = frozenset({"1.1.1", "1.2.1"})  # Update Import Tariff / Price (Primary Element)
SUPPLY = frozenset({"7.1", "7.2", "7.3", "7.4"})  # Enable, Disable, Arm, Read Supply Status


@dataclass(frozen=True, slots=True)
class DeviceModel:
    """One SMETS1 device model as a provider operates it."""

    provider: str
    name: str
    fuel: str  # "E" electricity (ESME), "G" gas (GSME)
    firmware: tuple[str, ...]  # versions found in the estate
    eligible_firmware: frozenset[str]  # versions on the eligible product list
    srvs: frozenset[str]  # supported SRV variants

    def supports(self, variant: str) -> bool:
        """True if the model executes this Service Request variant."""
        return variant in self.srvs


MODELS: Final[tuple[DeviceModel, ...]] = (
    DeviceModel("alpha", "AX-E100", "E", ("1.0.4", "1.1.0"), frozenset({"1.0.4", "1.1.0"}),
                READ | TARIFF | SUPPLY),
    DeviceModel("alpha", "AX-E200", "E", ("2.3.1",), frozenset({"2.3.1"}),
                READ | TARIFF),  # no supply switch commands
    DeviceModel("alpha", "AX-G10", "G", ("0.9.7", "0.9.8"), frozenset({"0.9.8"}),
                READ | TARIFF | SUPPLY),  # 0.9.7 not eligible
    DeviceModel("beta", "BK-ELEC-3", "E", ("3.2",), frozenset({"3.2"}),
                READ | TARIFF | SUPPLY),
    DeviceModel("beta", "BK-ELEC-4", "E", ("4.0", "4.1"), frozenset({"4.0", "4.1"}),
                READ | SUPPLY),  # tariffs set locally only
    DeviceModel("beta", "BK-GAS-1", "G", ("1.7",), frozenset({"1.7"}),
                READ | frozenset({"1.2.1"}) | SUPPLY),
)

_BY_NAME: Final = {m.name: m for m in MODELS}
PROVIDERS: Final = ("alpha", "beta")


class UnknownModel(LookupError):
    """A device model that is not on the SMETS1 product list."""


def model(name: str) -> DeviceModel:
    """The product-list entry for a model name."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownModel(f"SMETS1 device model {name!r} is not on the product list") from None


def models_of(provider: str) -> tuple[DeviceModel, ...]:
    """The models a provider operates."""
    return tuple(m for m in MODELS if m.provider == provider)


def eligible(name: str, firmware: str) -> bool:
    """True if this model at this firmware may be enrolled."""
    entry = _BY_NAME.get(name)
    return entry is not None and firmware in entry.eligible_firmware
