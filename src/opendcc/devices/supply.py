"""The supply switch (ESME load switch, GSME valve) and its GBCS/SMETS2 state rules.

States (SMETS2 §5.x, GBCS ECS42/43/44, GCS32/39): Enabled (supply on), Disabled (off) and
Armed (off, but the consumer may enable it locally). Remote disable works from any state;
arming needs a Disabled supply; remote enable needs the supply not locked by a tamper state
and, in prepayment mode, credit above the disablement threshold. While the supply is not
Enabled the meter records no consumption; the off periods are the only history kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from opendcc.devices.errors import SupplyStateError


class SupplyState(Enum):
    """GBCS supply state of a load switch or valve."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    ARMED = "armed"


class SupplyTamperState(Enum):
    """ECS81/GCS24a: what the meter does to the supply when tampering is detected."""

    UNCHANGED = "unchanged"
    LOCKED = "locked"


class DisableCause(Enum):
    """Why the supply went off, for the event log and for credit-driven re-arming."""

    REMOTE = "remote"
    CREDIT = "credit-exhausted"
    LOAD_LIMIT = "load-limit"
    TAMPER = "tamper"


#: Periods with the supply off: (start, end), end None while still off.
OffPeriods = tuple[tuple[datetime, datetime | None], ...]


@dataclass(frozen=True, slots=True)
class SupplyStatus:
    """ECS45/GCS33 read: state, why it is off, and the tamper setting."""

    state: SupplyState
    cause: DisableCause | None
    tamper_state: SupplyTamperState


def transition(state: SupplyState, target: SupplyState) -> SupplyState:
    """GBCS supply-state rules; raise `SupplyStateError` for a transition the meter refuses."""
    if target is SupplyState.ARMED and state is SupplyState.ENABLED:
        raise SupplyStateError("supply is enabled: only a disabled supply can be armed (ECS44)")
    return target


def close_off(off: OffPeriods, now: datetime) -> OffPeriods:
    """End the off period still running at `now` (open, or timed to end later) at `now`."""
    if off:
        start, end = off[-1]
        if end is None or end > now:
            return (*off[:-1], (start, now)) if start < now else off[:-1]
    return off


def open_off(off: OffPeriods, now: datetime) -> OffPeriods:
    """Start an open-ended off period at `now`, extending one still running (never overlapping)."""
    if off:
        start, end = off[-1]
        if end is None:
            return off
        if end > now:
            return (*off[:-1], (start, None))
    return (*off, (now, None))
