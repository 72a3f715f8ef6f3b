"""The Service Request Variant (SRV) catalogue: all 129 SRVs of DUIS 5.4 with their properties.

Loaded once from `<reference>/duis/request-matrix.json`. Each SRV says whether it is critical
(needs a user-signed Pre-Command), on-demand, future-dateable (and who answers the future-dated
response), DCC-scheduled, non-device (answered by the DCC itself) and which user roles may send it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from pathlib import Path

from opendcc.config import reference_dir
from opendcc.duis.response_codes import UnknownServiceRequestVariant, WrongCommandVariant


class CommandVariant(IntEnum):
    """DUIS 5.4 `CommandVariant` (comment table in the XSD): what the DCC does with the request."""

    SEND = 1  # command over the SM WAN, response asynchronous
    LOCAL = 2  # command returned for local delivery
    SEND_AND_LOCAL = 3
    TRANSFORM = 4  # critical: Pre-Command returned for the user to sign
    SIGNED_SEND = 5  # signed Pre-Command over the SM WAN
    SIGNED_LOCAL = 6
    SIGNED_SEND_AND_LOCAL = 7
    NON_DEVICE = 8  # answered by the DCC itself

    @property
    def endpoint(self) -> str:
        """The DCC Boxed URL path segment this Command Variant is sent to."""
        return _ENDPOINT[self]


_ENDPOINT = {
    CommandVariant.SEND: "serviceS",
    CommandVariant.LOCAL: "serviceD",
    CommandVariant.SEND_AND_LOCAL: "serviceS",
    CommandVariant.TRANSFORM: "serviceT",
    CommandVariant.SIGNED_SEND: "serviceS",
    CommandVariant.SIGNED_LOCAL: "serviceD",
    CommandVariant.SIGNED_SEND_AND_LOCAL: "serviceS",
    CommandVariant.NON_DEVICE: "serviceD",
}

CRITICAL_VARIANTS = frozenset({4, 5, 6, 7})
NON_DEVICE_VARIANTS = frozenset({8})
DEVICE_VARIANTS = frozenset({1, 2, 3})


@dataclass(frozen=True, slots=True)
class ServiceRequestVariant:
    """One row of the DUIS SRV matrix."""

    variant: str  # Service Reference Variant, e.g. "4.1.1"
    name: str
    service_reference: str  # e.g. "4.1"
    critical: bool
    on_demand: bool
    future_dated_pattern: str | None  # "DSP", "Device", "DSP & Device", or None if not future-dateable
    dcc_scheduled: bool
    non_device: bool
    eligible_roles: frozenset[str]

    @property
    def command_variants(self) -> frozenset[int]:
        """Command Variants DUIS allows for this SRV: critical 4-7, non-device 8, others 1-3."""
        if self.non_device:
            return NON_DEVICE_VARIANTS
        if self.critical:
            return CRITICAL_VARIANTS
        return DEVICE_VARIANTS

    def check_command_variant(self, command_variant: int) -> None:
        """Raise WrongCommandVariant (E12) when this SRV cannot be sent with that Command Variant."""
        if command_variant not in self.command_variants:
            kind = "non-device" if self.non_device else "critical" if self.critical else "non-critical"
            allowed = ", ".join(str(v) for v in sorted(self.command_variants))
            raise WrongCommandVariant(
                f"SRV {self.variant} is {kind}: Command Variant {command_variant} not allowed "
                f"(allowed: {allowed})"
            )


class Catalogue:
    """All SRVs by Service Reference Variant."""

    def __init__(self, rows: list[ServiceRequestVariant]) -> None:
        self._by_variant = {row.variant: row for row in rows}

    def for_request(self, service_reference: str, variant: str) -> ServiceRequestVariant:
        """The SRV named by a request header; the variant must belong to the Service Reference."""
        srv = self.get(variant)
        if srv.service_reference != service_reference:
            raise UnknownServiceRequestVariant(
                f"Service Reference Variant {variant} does not belong to Service Reference "
                f"{service_reference} (it is in {srv.service_reference})"
            )
        return srv

    def get(self, variant: str) -> ServiceRequestVariant:
        """The SRV for a Service Reference Variant; raise UnknownServiceRequestVariant if none."""
        try:
            return self._by_variant[variant]
        except KeyError:
            raise UnknownServiceRequestVariant(
                f"Service Reference Variant {variant!r} is not in the DUIS SRV catalogue"
            ) from None

    def __contains__(self, variant: object) -> bool:
        return variant in self._by_variant

    def __iter__(self) -> Iterator[ServiceRequestVariant]:
        return iter(self._by_variant.values())

    def __len__(self) -> int:
        return len(self._by_variant)


def _yes(value: str) -> bool:
    return value.strip().lower() == "yes"


def service_reference_of(variant: str) -> str:
    """The Service Reference a variant belongs to: its first two components ("6.20.2" -> "6.20").

    Derived rather than read, because request-matrix.json writes "6.2" for 6.20.1 and 6.20.2
    (a number-formatting slip in the source data).
    """
    return ".".join(variant.split(".")[:2])


def _row(raw: dict[str, object]) -> ServiceRequestVariant:
    pattern = str(raw["Future Dated Response Pattern"])
    roles = raw["Eligible User Roles"]
    assert isinstance(roles, list)
    return ServiceRequestVariant(
        variant=str(raw["Service Reference Variant"]),
        name=str(raw["Service Request Name"]),
        service_reference=service_reference_of(str(raw["Service Reference Variant"])),
        critical=_yes(str(raw["Critical"])),
        on_demand=_yes(str(raw["On Demand"])),
        future_dated_pattern=None if pattern == "No" else pattern,
        dcc_scheduled=_yes(str(raw["DCC Scheduled"])),
        non_device=_yes(str(raw["Non-Device Request"])),
        eligible_roles=frozenset(str(r) for r in roles),
    )


def read_catalogue(path: Path) -> Catalogue:
    """Read an SRV matrix file (the request-matrix.json format)."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return Catalogue([_row(r) for r in rows])


@cache
def load_catalogue() -> Catalogue:
    """The DUIS 5.4 SRV catalogue from the reference folder, loaded once."""
    return read_catalogue(reference_dir() / "duis" / "request-matrix.json")
