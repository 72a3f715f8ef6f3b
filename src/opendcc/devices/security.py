"""Security hooks: trust anchors per remote-party role and per-originator counter enforcement.

GBCS §6: a device holds, for each remote-party role, the entity identifier (and certificate)
it trusts, and accepts a command only from that party; GBCS §6.2.4: the originator counter of
each accepted command must exceed the highest counter seen from that remote party, so a
replayed command is rejected. Signature and MAC checks are pluggable `CommandAuthenticator`s
the GBCS layer provides; the default accepts every command (no cryptography yet).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Protocol

from opendcc.devices.errors import NotAuthorised, ReplayedCounter


class RemotePartyRole(Enum):
    """GBCS §6 remote-party roles a device holds trust anchors for."""

    ROOT = "root"
    RECOVERY = "recovery"
    SUPPLIER = "supplier"
    NETWORK_OPERATOR = "network-operator"
    ACCESS_CONTROL_BROKER = "access-control-broker"
    WAN_PROVIDER = "wan-provider"
    TRANSITIONAL_COS = "transitional-cos"
    OTHER_USER = "other-user"


@dataclass(frozen=True, slots=True)
class TrustAnchor:
    """The party trusted for a role: its entity identifier and, when known, its certificate."""

    entity: str
    certificate: bytes | None = None


@dataclass(frozen=True, slots=True)
class TrustAnchors:
    """A device's anchors by role; immutable so premises with the same parties can share one."""

    anchors: tuple[tuple[RemotePartyRole, TrustAnchor], ...] = ()

    def get(self, role: RemotePartyRole) -> TrustAnchor | None:
        """The anchor for `role`, if installed."""
        for r, a in self.anchors:
            if r is role:
                return a
        return None

    def with_anchor(self, role: RemotePartyRole, anchor: TrustAnchor) -> TrustAnchors:
        """CS02b: a copy with the anchor for `role` replaced."""
        rest = tuple((r, a) for r, a in self.anchors if r is not role)
        return replace(self, anchors=(*rest, (role, anchor)))

    def check(self, role: RemotePartyRole, originator: str) -> None:
        """GBCS §6: refuse a command whose originator is not the party anchored for `role`."""
        anchor = self.get(role)
        if anchor is None:
            raise NotAuthorised(f"no trust anchor for role {role.value}")
        if anchor.entity != originator:
            raise NotAuthorised(
                f"originator {originator} is not the {role.value} ({anchor.entity}) this device trusts")


@dataclass(frozen=True, slots=True)
class CommandHeader:
    """What the GBCS layer tells a device about a command before the device executes it."""

    originator: str
    role: RemotePartyRole
    counter: int
    payload: bytes = b""
    signature: bytes = b""


class CommandAuthenticator(Protocol):
    """GBCS §6.3: check the MAC (and, for critical commands, the signature) of a command."""

    def authenticate(self, header: CommandHeader, anchor: TrustAnchor) -> None:
        """Raise `NotAuthorised` when the command does not authenticate."""
        ...


class AcceptAll:
    """The default authenticator until GBCS signatures/MACs are wired in: trusts the header."""

    def authenticate(self, header: CommandHeader, anchor: TrustAnchor) -> None:
        """Accept."""
        return None


ACCEPT_ALL = AcceptAll()


class CounterGuard:
    """GBCS §6.2.4: keep the highest originator counter seen per remote party; reject replays."""

    __slots__ = ("_highest",)

    def __init__(self) -> None:
        self._highest: dict[str, int] = {}

    def highest(self, originator: str) -> int:
        """The highest counter accepted from `originator` (-1 if none)."""
        return self._highest.get(originator, -1)

    def check(self, originator: str, counter: int) -> None:
        """Raise `ReplayedCounter` unless `counter` is above the highest seen."""
        highest = self._highest.get(originator, -1)
        if counter <= highest:
            raise ReplayedCounter(originator, counter, highest)

    def record(self, originator: str, counter: int) -> None:
        """Remember `counter` as the highest from `originator` (after `check`)."""
        self._highest[originator] = counter
