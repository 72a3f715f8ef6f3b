"""DUIS users: a SEC party's User ID (EUI-64), the user roles it holds, where it receives
asynchronous responses.

DUIS user roles (SEC Appendix: "User Role"): IS import supplier, ES export supplier, GS gas
supplier, ED electricity distributor, GT gas transporter, RSA registered supplier agent,
OU other user. SMKI organisation certificates carry a remote party role code instead
(GBCS / SMKI: 2 supplier, 3 network operator, 127 other); `ROLES_BY_REMOTE_PARTY_ROLE` maps
one to the other. The DCC's own parties (root, recovery, access control broker, transitional
CoS, WAN provider) are not DUIS users.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Final

from opendcc.ids import EUI64

USER_ROLES: Final = frozenset({"IS", "ES", "GS", "ED", "GT", "RSA", "OU"})

# DCC Boxed gives its test supplier every supplier-side role (so every RTDS template, including
# the ES and OU ones it originates, runs against it); a production DCC issues one User ID per role.
ROLES_BY_REMOTE_PARTY_ROLE: Final[dict[int, frozenset[str]]] = {
    2: frozenset({"IS", "ES", "GS", "OU"}),  # supplier
    3: frozenset({"ED", "GT"}),  # network operator
    127: frozenset({"OU"}),  # other user
}


@dataclass(frozen=True, slots=True)
class User:
    """One DUIS user."""

    user_id: EUI64
    name: str
    roles: frozenset[str]
    response_url: str | None = None

    def holds_any(self, roles: frozenset[str]) -> bool:
        """True if the user holds at least one of `roles`."""
        return bool(self.roles & roles)

    def with_response_url(self, url: str | None) -> User:
        """A copy with another Receive Response Service address."""
        return replace(self, response_url=url)


def roles_for_remote_party_roles(codes: set[int]) -> frozenset[str]:
    """The DUIS user roles an organisation holds, from the SMKI remote party roles of its certificates."""
    out: frozenset[str] = frozenset()
    for code in codes:
        out |= ROLES_BY_REMOTE_PARTY_ROLE.get(code, frozenset())
    return out
