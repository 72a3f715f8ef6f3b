"""Response forms: for each use case and command shape, the payload a device answers with.

GBCS §7 and the use-case sections fix, for every command, the structure of the device's
Response (which DLMS results, which ZCL response command and attributes, which ASN.1
structure). `responses.json` holds that structure per use case, learned from the RTDS
Response vectors by `tests/devices/gbcs/make_responses.py`: the payload as the payload
codec's JSON view, keyed by the *shape* of the command it answers (the command's payload
tree with every value replaced by its type), one for success and one for a refusal when RTDS
shows it. The device fills the values from its own state (`values.py`); the form gives only
the structure. Data, loaded once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

#: Keys of the payload JSON view that carry notes for people, not structure.
_NOTE = "#"


def shape(view: Any) -> Any:
    """The structure of a payload JSON view: values replaced by their JSON type.

    `@type` names, field names and list lengths stay, so two commands of one form (e.g. an
    ECS01a with a TOU matrix) have one shape whatever prices they carry.
    """
    if isinstance(view, dict):
        return {k: (v if k == "@type" else shape(v)) for k, v in view.items() if k != _NOTE}
    if isinstance(view, list):
        return [shape(v) for v in view]
    return type(view).__name__


def shape_key(view: Any) -> str:
    """A short digest of `shape(view)`, the key response forms are stored under."""
    text = json.dumps(shape(view), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ResponseForm:
    """One response structure: the payload view, whether it is signed and dated."""

    use_case: str
    command_shape: str
    success: bool
    signed: bool
    dated: bool
    payload: Any


@cache
def forms() -> dict[str, tuple[ResponseForm, ...]]:
    """Every response form by use case (loaded once from `responses.json`)."""
    raw = json.loads(resources.files(__package__).joinpath("responses.json").read_text())
    out: dict[str, tuple[ResponseForm, ...]] = {}
    for code, rows in raw["forms"].items():
        out[code] = tuple(ResponseForm(code, r["shape"], r["success"], r["signed"], r["dated"],
                                       r["payload"]) for r in rows)
    return out


def form_for(use_case: str, command_view: Any, *, success: bool) -> ResponseForm | None:
    """The response form for a command: same use case and command shape, else the use case's
    first form with that outcome, else its first form; None if the use case has none."""
    rows = forms().get(use_case, ())
    if not rows:
        return None
    key = shape_key(command_view)
    for candidates in ([r for r in rows if r.command_shape == key and r.success == success],
                       [r for r in rows if r.command_shape == key],
                       [r for r in rows if r.success == success],
                       list(rows)):
        if candidates:
            return candidates[0]
    return None
