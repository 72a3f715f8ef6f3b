"""The reference material the Transform tests walk: DUIS templates and RTDS command vectors.

Everything is globbed from the reference folders; nothing is hand-picked. A template is in
scope when its SRV targets a device and its GBCS use case has an RTDS COMMAND or PRECOMMAND
vector; its expected vector is the one of the same RTDS variant whose name shares the longest
prefix with the template's (else one of the same use case).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from opendcc.config import reference_dir
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request

REF = reference_dir()
#: The RTDS test estate: device type by device ID (what the inventory would say).
DEVICE_TYPES = {"00-DB-12-34-56-78-90-A0": "ESME", "00-DB-12-34-56-78-90-A1": "GSME",
                "00-DB-12-34-56-78-90-A2": "CHF", "00-DB-12-34-56-78-90-A3": "GPF"}
#: Outcomes per check, filled by the tests and printed in the terminal summary (conftest.py).
REPORT: dict[str, Counter[str]] = {}


def shared_prefix(a: str, b: str) -> int:
    """How many leading characters two names share."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def record(check: str, outcome: str) -> None:
    """Count one outcome ("match", "differs", "not tabulated", ...) of a named check."""
    REPORT.setdefault(check, Counter())[outcome] += 1


@dataclass(frozen=True)
class Template:
    """One DUIS request template and what the tests expect of it."""

    name: str
    variant: str  # RTDS variant, e.g. "CS03CNonCritical"
    use_case: str | None  # GBCS use case code, e.g. "CS03C"
    vector: Path | None  # the RTDS Command or Pre-Command to compare with

    @property
    def request(self) -> DuisRequest:
        return read_request(parse_xml((REF / "duis" / "templates" / self.name).read_bytes()))


@cache
def use_case_codes() -> list[str]:
    """GBCS use case codes, longest first (so CS03A2 is tried before CS03A)."""
    rows = json.loads((REF / "gbcs" / "use-case-table.json").read_text())
    return sorted({str(r["Code"]) for r in rows}, key=len, reverse=True)


def code_of(variant: str) -> str | None:
    """The GBCS use case an RTDS variant name starts with."""
    return next((c for c in use_case_codes() if variant.startswith(c)), None)


@cache
def vectors() -> dict[str, Path]:
    """RTDS command vectors by name stem + kind, e.g. 'ECS17b_4.1.1_SINGLE_SUCCESS COMMAND'."""
    out = {}
    for p in sorted((REF / "gbcs" / "rtds").glob("*/*COMMAND_GBCS.HEX")):
        kind = "PRECOMMAND" if p.name.endswith("_PRECOMMAND_GBCS.HEX") else "COMMAND"
        out[f"{p.name.removesuffix(f'_{kind}_GBCS.HEX')} {kind}"] = p
    return out


def _expected(stem: str, variant: str, kind: str) -> Path | None:
    names = list(vectors())

    def closest(pool: list[str]) -> Path | None:
        if not pool:
            return None
        best = max(pool, key=lambda n: (shared_prefix(n, stem), "SUCCESS" in n, n))
        return vectors()[best]

    for same in ([n for n in names if n.split("_")[0] == variant],
                 [n for n in names if code_of(n.split("_")[0]) == code_of(variant)]):
        preferred = [n for n in same if n.endswith(f" {kind}")]
        found = closest(preferred) or closest(same)
        if found is not None:
            return found
    return None


@cache
def templates() -> list[Template]:
    """Every template whose SRV targets a device (non-device SRVs excluded)."""
    catalogue = load_catalogue()
    out = []
    for p in sorted((REF / "duis" / "templates").glob("*.XML")):
        request = read_request(parse_xml(p.read_bytes()))
        srv = request.service_reference_variant
        if srv not in catalogue or catalogue.get(srv).non_device:
            continue
        stem = p.name.removesuffix("_REQUEST_DUIS.XML")
        variant = stem.split("_")[0]
        kind = "PRECOMMAND" if request.command_variant == 4 else "COMMAND"
        out.append(Template(p.name, variant, code_of(variant), _expected(stem, variant, kind)))
    return out


def in_scope() -> list[Template]:
    """Device-SRV templates whose use case has an RTDS Command or Pre-Command vector."""
    return [t for t in templates() if t.vector is not None]


@cache
def non_device_templates() -> list[str]:
    """Templates of SRVs that the DCC answers itself (no GBCS use case)."""
    catalogue = load_catalogue()
    out = []
    for p in sorted((REF / "duis" / "templates").glob("*.XML")):
        request = read_request(parse_xml(p.read_bytes()))
        srv = request.service_reference_variant
        if srv in catalogue and catalogue.get(srv).non_device:
            out.append(p.name)
    return out
