"""SMI Status: which device Service Requests the DCC processes for a device in each Smart
Metering Inventory status, as a table.

DUIS 5.4 §3.4 (access control) checks the target device's SMI Status after the user's role
and registration, and before the DCC transforms the request into a GBCS command: a request
the status does not allow is answered E5 ("invalid Device status: the device's SMI status is
incompatible with the Service Request") and nothing is sent. SEC Appendix (SMI status) and the
CPL rules say what each status means; the table below is what opendcc takes from them:

| SMI Status | device SRVs the DCC sends to the device |
| --- | --- |
| Pending | none: the device is only pre-notified |
| Whitelisted | installation only (`INSTALLATION`): commission (8.1.1), join / unjoin (8.7, 8.8), read the device's join log (8.9), set its MPxN (6.20.1), read its firmware version (11.2) |
| InstalledNotCommissioned | every SRV but the reads of meter data (4.x): a meter is configured before it is commissioned, read only after |
| Commissioned | every SRV |
| Suspended | firmware only (`FIRMWARE`: 11.1-11.3): what can bring the device back onto the CPL |
| Recovery | none: the DCC's Recovery party, not a user, talks to the device |
| Recovered | every SRV (inferred: DUIS gives the Recovered device back to its users) |
| Decommissioned, Withdrawn | none: final statuses |

Non-device SRVs that name a device (8.2, 8.3, 8.4, 8.14) are not in this table: 8.2 Read
Inventory answers for a device in any status, and the others are checked as moves on the
lifecycle table (`inventory.lifecycle`, E5 from `core.commissioning`). Where DUIS gives an
SRV-by-status rule only in prose, the grouping (which SRVs count as installation) is inferred
and said so in docs/inventory.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from opendcc.inventory.lifecycle import DeviceStatus

S = DeviceStatus

#: Every Service Reference Variant.
EVERY: Final = "*"
#: The reads of meter data (Service Reference 4: readings, profiles, logs of consumption).
READS: Final = "4"
#: What an installer sends to a device on the hub's whitelist, before it is in service.
INSTALLATION: Final = frozenset({"8.1.1", "8.7", "8.8", "8.9", "6.20.1", "11.2"})
#: What can bring a Suspended device's firmware back onto the Certified Products List.
FIRMWARE: Final = frozenset({"11.1", "11.2", "11.3"})


def _matches(pattern: str, srv_variant: str) -> bool:
    # A pattern is a whole Service Reference Variant, a Service Reference (its variants) or a
    # group of them ("4": every 4.x), or EVERY.
    return pattern == EVERY or srv_variant == pattern or srv_variant.startswith(pattern + ".")


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The device SRVs one SMI Status lets through: those `allowed` and not `refused`."""

    allowed: frozenset[str]
    refused: frozenset[str] = frozenset()

    def admits(self, srv_variant: str) -> bool:
        """True if the DCC sends SRV `srv_variant` to a device in this status."""
        return (any(_matches(p, srv_variant) for p in self.allowed)
                and not any(_matches(p, srv_variant) for p in self.refused))


_NONE: Final = Eligibility(frozenset())
_EVERY: Final = Eligibility(frozenset({EVERY}))

#: SMI Status -> the device SRVs the DCC processes for a target device in it (else E5).
SERVICE_REQUESTS_BY_STATUS: Final[dict[DeviceStatus, Eligibility]] = {
    S.PENDING: _NONE,
    S.WHITELISTED: Eligibility(INSTALLATION),
    S.INSTALLED_NOT_COMMISSIONED: Eligibility(frozenset({EVERY}), frozenset({READS})),
    S.COMMISSIONED: _EVERY,
    S.SUSPENDED: Eligibility(FIRMWARE),
    S.RECOVERY: _NONE,
    S.RECOVERED: _EVERY,
    S.DECOMMISSIONED: _NONE,
    S.WITHDRAWN: _NONE,
}


def admits(status: DeviceStatus, srv_variant: str) -> bool:
    """True if the DCC sends device SRV `srv_variant` to a device in SMI Status `status`."""
    return SERVICE_REQUESTS_BY_STATUS[status].admits(srv_variant)


@lru_cache(maxsize=512)
def statuses_for(srv_variant: str) -> frozenset[DeviceStatus]:
    """The SMI statuses in which the DCC sends device SRV `srv_variant` (else E5)."""
    return frozenset(s for s, rule in SERVICE_REQUESTS_BY_STATUS.items() if rule.admits(srv_variant))
