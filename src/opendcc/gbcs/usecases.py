"""GBCS use cases: message code -> use case (code, title, message type, payload kind).

Two tables: the GBCS message codes (`message_codes`, part of this package) and the use-case
table published with the DCC Boxed templates (`gbcs/use-case-table.json`: use case code ->
title and message type such as SME.C.NC). The second is read once, at first use, from the
reference folder; a caller can pass its own rows instead (`UseCaseTable.from_rows`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from opendcc.config import reference_dir
from opendcc.gbcs.message_codes import ALERT_BY_CODE, USE_CASE_BY_CODE

#: The message type of messages that are device or DCC alerts rather than use cases.
ALERT_MESSAGE_TYPE = "Alert"


@dataclass(frozen=True, slots=True)
class UseCase:
    """What a message code means: use case code (e.g. ECS17b), title and message type."""

    message_code: int
    code: str
    title: str
    message_type: str | None
    han_only: bool = False

    @property
    def known(self) -> bool:
        """False for a message code absent from the GBCS message-code table."""
        return not self.code.startswith("0x")


class UseCaseTable:
    """Use case code -> (title, message type), from rows of the published use-case table."""

    def __init__(self, rows: Mapping[str, tuple[str, str | None, bool]]) -> None:
        self._rows = dict(rows)
        self._by_code: dict[int, UseCase] = {}

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, object]]) -> UseCaseTable:
        """Rows as in use-case-table.json: "Code", "Use Case Title", "Message Type"."""
        table: dict[str, tuple[str, str | None, bool]] = {}
        for row in rows:
            code = str(row.get("Code") or "")
            if code and code not in table:
                kind = row.get("Message Type")
                han = str(row.get("Remote Party or HAN Message") or "").startswith("HAN")
                table[code] = (str(row.get("Use Case Title") or code),
                               str(kind) if kind is not None else None, han)
        return cls(table)

    def _row(self, code: str) -> tuple[str, str | None, bool] | None:
        if code in self._rows:
            return self._rows[code]
        # Variants absent from the table (ECS25a1, ECS47, GCS24) share the row of their
        # family: the same use case number with or without a letter.
        family = re.sub(r"[a-z][0-9]*$", "", code)
        for candidate, row in self._rows.items():
            if re.sub(r"[a-z][0-9]*$", "", candidate) == family:
                return row
        return None

    def for_message_code(self, message_code: int) -> UseCase:
        """GBCS §13: the use case a message code names (code "0x…" when none)."""
        found = self._by_code.get(message_code)
        if found is None:
            found = self._by_code[message_code] = self._lookup(message_code)
        return found

    def _lookup(self, message_code: int) -> UseCase:
        code = USE_CASE_BY_CODE.get(message_code)
        if code is not None:
            row = self._row(code)
            title, kind, han = row if row else (code, None, False)
            return UseCase(message_code, code, title, kind, han)
        alert = ALERT_BY_CODE.get(message_code)
        if alert is not None:
            return UseCase(message_code, alert[0], alert[1], ALERT_MESSAGE_TYPE)
        return UseCase(message_code, f"0x{message_code:04X}", "unknown message code", None)


@lru_cache(maxsize=1)
def default_table() -> UseCaseTable:
    """The published use-case table from the reference folder, read once; empty if absent."""
    path = reference_dir() / "gbcs" / "use-case-table.json"
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UseCaseTable({})
    return UseCaseTable.from_rows(r for r in rows if isinstance(r, dict))
