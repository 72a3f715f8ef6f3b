"""The per-device migration state machine, as a table.

AUTHORISED -> PLANNED (in a cohort) -> REPLACING (credential swap asked of the provider)
-> REPLACED (the provider confirmed the DCC holds the credentials) -> MIGRATED (commissioned
in the inventory). A failure moves REPLACING -> ROLLING_BACK -> ROLLED_BACK (previous holder
restored, reason recorded); a device that never left its holder goes PLANNED -> ROLLED_BACK.
ROLLED_BACK devices may be planned into a later cohort. REPLACING and ROLLING_BACK are "in
doubt": only the provider knows who holds the credentials, so a restart asks it (reconcile).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class State(StrEnum):
    """Where one SMETS1 device is in enrolment and adoption."""

    AUTHORISED = "authorised"
    PLANNED = "planned"
    REPLACING = "replacing"
    REPLACED = "replaced"
    MIGRATED = "migrated"
    ROLLING_BACK = "rolling_back"
    ROLLED_BACK = "rolled_back"


S = State
MOVES: Final[dict[State, frozenset[State]]] = {
    S.AUTHORISED: frozenset({S.PLANNED}),
    S.PLANNED: frozenset({S.REPLACING, S.ROLLED_BACK}),
    S.REPLACING: frozenset({S.REPLACED, S.ROLLING_BACK, S.ROLLED_BACK}),
    S.REPLACED: frozenset({S.MIGRATED}),
    S.ROLLING_BACK: frozenset({S.ROLLED_BACK}),
    S.ROLLED_BACK: frozenset({S.PLANNED}),
    S.MIGRATED: frozenset(),
}
IN_DOUBT: Final = frozenset({S.REPLACING, S.ROLLING_BACK})
PLANNABLE: Final = frozenset({S.AUTHORISED, S.ROLLED_BACK})
# Who must hold the credentials at rest: the DCC for these, the previous holder otherwise.
DCC_HOLDS: Final = frozenset({S.REPLACED, S.MIGRATED})


class IllegalMove(ValueError):
    """A state change the migration state machine does not allow."""


def check_move(old: State, new: State) -> None:
    """Raise IllegalMove unless old -> new is in MOVES."""
    if new not in MOVES[old]:
        raise IllegalMove(f"SMETS1 migration: {old} -> {new} is not allowed")
