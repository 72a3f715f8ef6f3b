"""Response forms: for each use case and command shape, the payload a device answers with.

GBCS §7 and the use-case sections fix, for every command, the structure of the device's
Response (which DLMS results, which ZCL response command and attributes, which ASN.1
structure). A form holds that structure as the payload codec's JSON view with neutral
values, keyed by the *shape* of the command it answers (the command's payload tree with
every value replaced by its type). `forms.py` learns the forms from the RTDS vectors at run
time; the device fills the values from its own state (`values.py`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

#: Keys of the payload JSON view that carry notes for people, not structure.
_NOTE = "#"
#: How a DER length was written (short or long form): encoding, not structure.
_LENGTH_FORM = "length_form"


def shape(view: Any) -> Any:
    """The structure of a payload JSON view: values replaced by their JSON type.

    `@type` names, field names and list lengths stay, so two commands of one form (e.g. an
    ECS01a with a TOU matrix) have one shape whatever prices they carry.
    """
    if isinstance(view, dict):
        return {k: (v if k == "@type" else shape(v)) for k, v in view.items()
                if k not in (_NOTE, _LENGTH_FORM)}
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
