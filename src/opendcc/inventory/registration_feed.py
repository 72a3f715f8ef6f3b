"""Registration data feed: who supplies and operates the network for each meter point.

Registration data reaches the DCC from the registration data providers (electricity and gas),
not from DUIS users. A feed is CSV with the header
`mpxn,supplier_id,network_operator_id,effective_from` (EUI-64s; an ISO 8601 UTC date or
date-time). A feed is applied whole or not at all:

- every line must parse (MPAN 13 digits or MPRN, EUI-64s, a date);
- the supplier must be a DUIS user holding a supplier role for the fuel (IS/ES for an MPAN,
  GS for an MPRN) and the network operator one holding ED (MPAN) or GT (MPRN);
- a change for a meter point that is already registered takes effect now or later, never in
  the past (a meter point's first registration may be dated back);
- two records for one meter point at one instant must agree (two suppliers racing for one
  meter: the second is refused).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from sqlalchemy.engine import Connection

from opendcc.core.users import User
from opendcc.ids import EUI64, InvalidIdentifier, MPxN
from opendcc.inventory.model import Registration
from opendcc.store import inventory as inventory_repo
from opendcc.store.users import list_users

_MPRN_MAX_DIGITS: Final = 10  # DUIS 5.4 sr:MPRN maxLength
HEADER: Final = ("mpxn", "supplier_id", "network_operator_id", "effective_from")
_SUPPLIER_ROLES: Final = {True: frozenset({"IS", "ES"}), False: frozenset({"GS"})}
_NETWORK_OPERATOR_ROLES: Final = {True: frozenset({"ED"}), False: frozenset({"GT"})}


class RegistrationFeedError(ValueError):
    """A feed line that cannot be applied; nothing of the feed was applied."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"registration feed line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True, slots=True)
class FeedRecord:
    """One parsed feed line."""

    line: int
    registration: Registration


def _when(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse_feed(text: str) -> list[FeedRecord]:
    """Read a feed; raise RegistrationFeedError naming the first bad line."""
    reader = csv.reader(io.StringIO(text))
    rows = [(n, row) for n, row in enumerate(reader, start=1) if any(c.strip() for c in row)]
    if not rows or tuple(c.strip() for c in rows[0][1]) != HEADER:
        raise RegistrationFeedError(1, f"the header must be {','.join(HEADER)}")
    out = []
    for n, row in rows[1:]:
        if len(row) != len(HEADER):
            raise RegistrationFeedError(n, f"expected {len(HEADER)} fields, got {len(row)}")
        try:
            record = Registration(
                mpxn=MPxN.parse(row[0]),
                supplier_id=EUI64.parse(row[1]),
                network_operator_id=EUI64.parse(row[2]),
                effective_from=_when(row[3]),
            )
        except (InvalidIdentifier, ValueError) as exc:
            raise RegistrationFeedError(n, str(exc)) from None
        if not record.mpxn.is_mpan and len(record.mpxn.value) > _MPRN_MAX_DIGITS:
            raise RegistrationFeedError(
                n, f"{record.mpxn} is neither an MPAN (13 digits) nor an MPRN (up to 10)"
            )
        out.append(FeedRecord(n, record))
    return out


def check_feed(
    records: Iterable[FeedRecord],
    users: Mapping[EUI64, User],
    current: Mapping[str, Registration | None],
    existing_at: Mapping[tuple[str, datetime], Registration],
    now: datetime,
) -> None:
    """The rules of the module docstring, over data the caller fetched (pure)."""
    seen: dict[tuple[str, datetime], FeedRecord] = {}
    for rec in records:
        reg, n = rec.registration, rec.line
        electricity = reg.mpxn.is_mpan
        supplier, operator = users.get(reg.supplier_id), users.get(reg.network_operator_id)
        need_s, need_n = _SUPPLIER_ROLES[electricity], _NETWORK_OPERATOR_ROLES[electricity]
        if supplier is None or not supplier.roles & need_s:
            raise RegistrationFeedError(
                n, f"supplier {reg.supplier_id} is not a DUIS user holding {'/'.join(sorted(need_s))}"
            )
        if operator is None or not operator.roles & need_n:
            raise RegistrationFeedError(
                n, f"network operator {reg.network_operator_id} is not a DUIS user holding "
                f"{'/'.join(sorted(need_n))}"
            )
        key = (reg.mpxn.value, reg.effective_from)
        for other in (existing_at.get(key), seen[key].registration if key in seen else None):
            if other is not None and (other.supplier_id, other.network_operator_id) != (
                reg.supplier_id, reg.network_operator_id
            ):
                raise RegistrationFeedError(
                    n, f"{reg.mpxn} already has supplier {other.supplier_id} and network "
                    f"operator {other.network_operator_id} from {reg.effective_from.isoformat()}"
                )
        if current.get(reg.mpxn.value) is not None and reg.effective_from < now and key not in existing_at:
            raise RegistrationFeedError(
                n, f"a change of registration for {reg.mpxn} dated {reg.effective_from.isoformat()} "
                f"is in the past (now {now.isoformat()})"
            )
        seen[key] = rec


def apply_feed(conn: Connection, text: str, now: datetime) -> int:
    """Parse, check and apply a feed in the caller's transaction; the number of records.

    On any error nothing is written (the caller's transaction rolls back on the exception).
    """
    records = parse_feed(text)
    users = {u.user_id: u for u in list_users(conn)}
    points = {r.registration.mpxn.value: r.registration.mpxn for r in records}
    current = {v: inventory_repo.registration_at(conn, m, now) for v, m in points.items()}
    existing_at = {}
    for rec in records:
        found = inventory_repo.registration_exactly_at(
            conn, rec.registration.mpxn, rec.registration.effective_from
        )
        if found is not None:
            existing_at[(found.mpxn.value, found.effective_from)] = found
    check_feed(records, users, current, existing_at, now)
    for rec in records:
        inventory_repo.register(conn, rec.registration)
    return len(records)


def load_feed(conn: Connection, path: Path, now: datetime) -> int:
    """Apply the feed in the UTF-8 CSV file `path` (`apply_feed`): the initial load of a
    registration data file and every later feed alike; the number of records."""
    return apply_feed(conn, path.read_text(encoding="utf-8"), now)
