"""What the DCC needs from a SMETS1 service provider, whatever its protocol."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from opendcc.smets1.providers.estate import AlertKind, Op, ProviderAlert, Status


class Result(StrEnum):
    """One device's outcome as the DCC reads it from any provider."""

    OK = "ok"
    NOT_RESPONDING = "device not responding"
    CREDENTIAL_MISMATCH = "credential mismatch"
    UNSUPPORTED = "not supported by the device model"
    NOT_AUTHORISED = "caller does not hold the credentials"
    UNKNOWN_DEVICE = "unknown to the provider"
    GARBAGE = "garbage answer from the provider"


FROM_STATUS = {
    Status.OK: Result.OK, Status.NOT_RESPONDING: Result.NOT_RESPONDING,
    Status.CREDENTIAL_MISMATCH: Result.CREDENTIAL_MISMATCH, Status.UNSUPPORTED: Result.UNSUPPORTED,
    Status.NOT_AUTHORISED: Result.NOT_AUTHORISED, Status.UNKNOWN_DEVICE: Result.UNKNOWN_DEVICE,
}


class ProviderError(Exception):
    """A provider call failed as a whole; `outcome_unknown` if it may have done some of its work."""

    outcome_unknown = False

    def __init__(self, provider: str, detail: str) -> None:
        super().__init__(f"SMETS1 provider {provider}: {detail}")
        self.provider = provider
        self.reason = detail


class ProviderUnavailable(ProviderError):
    """The head-end refused or is out of service: nothing was done."""


class ProviderTimeout(ProviderError):
    """No answer in time: the work may or may not have been done."""

    outcome_unknown = True


class ConnectionDropped(ProviderError):
    """The connection dropped mid-call: the work may have been partly done."""

    outcome_unknown = True


class ProtocolViolation(ProviderError):
    """The provider answered something its protocol does not allow."""

    outcome_unknown = True


@dataclass(frozen=True, slots=True)
class MeterInfo:
    """What the provider reports about one meter."""

    device_id: str
    model: str
    firmware: str
    fuel: str
    mpxn: str
    owner: str  # current credential holder, 16 hex digits
    dormant: bool


@dataclass(frozen=True, slots=True)
class DeviceResult:
    """One device's answer to a bulk call."""

    device_id: str
    result: Result
    value: int = 0


class ProviderAdapter(Protocol):
    """Bulk operations the DCC runs against one provider's head-end."""

    name: str

    def query(self, ids: list[str]) -> dict[str, MeterInfo | Result]:
        """Each meter's record, or why there is none."""
        ...

    def replace_credentials(self, new_owner: str,
                            expected: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        """Make `new_owner` the credential holder of each (device, expected current holder)."""
        ...

    def restore_credentials(self, from_owner: str,
                            owners: list[tuple[str, str]]) -> dict[str, DeviceResult]:
        """Hand each (device, holder) back from `from_owner` to its previous holder."""
        ...

    def commands(self, caller: str, commands: list[tuple[str, Op, int]]) -> dict[str, DeviceResult]:
        """Run device commands as `caller`, who must hold the credentials."""
        ...

    def settle(self) -> None:
        """Wait until work this adapter gave up on (timed out) has finished at the provider.

        Reconciliation calls it before trusting a query: a swap that timed out may still run.
        Raises ProviderError if the provider cannot say.
        """
        ...

    def alerts(self, caller: str, after: int) -> list[ProviderAlert]:
        """The provider's alerts after sequence `after` for meters `caller` holds, in order."""
        ...

    def set_faults(self, settings: dict[str, object]) -> None:
        """Fault injection (simulated providers only)."""
        ...

    def raise_alert(self, device_id: str, kind: AlertKind, detail: str = "", utrn: str = "") -> int:
        """Make the provider raise an alert on a meter (simulated providers only); its sequence."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
