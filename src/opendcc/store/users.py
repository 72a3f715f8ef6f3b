"""The DUIS users table: who may send requests, in which roles, and where their async
responses go. Seeded from the ZAZ1 test organisations of the reference key store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection, RowMapping

from opendcc.config import reference_dir
from opendcc.core.users import User, roles_for_remote_party_roles
from opendcc.ids import EUI64
from opendcc.store._sql import Prepared, insert_for
from opendcc.store.tables import users

_t = users
# Built once: the per-request lookup skips statement construction and cache-key generation.
_BY_ID = Prepared(select(_t).where(_t.c.user_id == bindparam("id")))

# Display names for the ZAZ1 organisations whose certificates carry no CN.
_NAMES = {
    "90B3D51F30010000": "GITTESTSUPPLIER",
    "90B3D51F30030000": "GITTESTSUPPLIER2",
    "90B3D51F30020000": "Network operator",
    "00DB123456780004": "Other user",
    "90B3D51F30010009": "Meter data retriever (other user)",
}


class UnknownUser(LookupError):
    """No DUIS user has this User ID."""


def _user(row: RowMapping | dict[str, Any]) -> User:
    return User(
        user_id=EUI64.parse(row["user_id"]),
        name=row["name"],
        roles=frozenset(row["roles"].split()),
        response_url=row["response_url"],
    )


def put_user(conn: Connection, user: User) -> None:
    """Create or replace a user (roles and name); an existing response URL is kept if None."""
    values = {
        "user_id": user.user_id.hyphenated,
        "name": user.name,
        "roles": " ".join(sorted(user.roles)),
        "response_url": user.response_url,
    }
    stmt = insert_for(conn, _t).values(**values)
    changes = {"name": stmt.excluded.name, "roles": stmt.excluded.roles}
    if user.response_url is not None:
        changes["response_url"] = stmt.excluded.response_url
    conn.execute(stmt.on_conflict_do_update(index_elements=[_t.c.user_id], set_=changes))


def get_user(conn: Connection, user_id: EUI64) -> User | None:
    """The user with this User ID, or None."""
    row = _BY_ID.execute(conn, {"id": user_id.hyphenated}).first()
    return None if row is None else _user(row)


def list_users(conn: Connection) -> list[User]:
    """All users, by User ID."""
    return [_user(r) for r in conn.execute(select(_t).order_by(_t.c.user_id)).mappings()]


def set_response_url(conn: Connection, user_id: EUI64, url: str | None) -> None:
    """Set (or clear) a user's Receive Response Service address."""
    changed = conn.execute(
        update(_t).where(_t.c.user_id == user_id.hyphenated).values(response_url=url)
    ).rowcount
    if changed != 1:
        raise UnknownUser(f"no DUIS user {user_id}")


def reference_users(keystore_json: Path | None = None) -> list[User]:
    """The DUIS users among the ZAZ1 test organisations (`keys/dccboxed-keystore.json`).

    An organisation is a DUIS user if one of its certificates has a supplier, network operator
    or other-user remote party role; its DUIS roles follow from those (`core.users`).
    """
    path = keystore_json or reference_dir() / "keys" / "dccboxed-keystore.json"
    entries = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for entity, usages in sorted(entries.items()):
        codes = {int(c["role"]) for certs in usages.values() for c in certs.values()}
        roles = roles_for_remote_party_roles(codes)
        if roles:
            eui = EUI64.parse(entity)
            out.append(User(eui, _NAMES.get(eui.hex, eui.hyphenated), roles))
    return out


def seed_reference_users(conn: Connection) -> list[User]:
    """Insert the ZAZ1 DUIS users (idempotent; response URLs already set are kept)."""
    seeded = reference_users()
    for user in seeded:
        put_user(conn, user)
    return seeded
