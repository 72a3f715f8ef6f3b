"""The command tables: for each GBCS use case, the command forms the DCC builds and how each
DUIS body value lands in the payload. Data learned from the reference folder, loaded once.

A form is one shape of a use case's command (e.g. ECS01a immediate with block tariff, or
future-dated with TOU): the GBCS payload as the payload codec's JSON view (DLMS attribute and
method descriptors with OBIS codes, ZCL cluster and command ids with named fields, ASN.1
trees), the Grouping Header facts (message code; whether the DCC originates the command on
the user's behalf, GBCS §7.2.7 supplementary remote party fields), and bindings. A binding
says: put `source` through the named conversion (`conversions.py`) into the payload leaf at
`at`. Sources are DUIS body paths (`fields.py`) or one of:

    @counter          the Grouping Header's Originator Counter
    @request_counter  the DUIS RequestID counter
    @originator       the RequestID originator (the user)
    @target           the RequestID target (the device)
    @sender           the Grouping Header's originator (the user, or the DCC on its behalf)
    @now              the time the DCC issues the command (its clock)

Repeat groups build an xDLMS array item by item from a repeated DUIS element; `when`,
`paths`, `roles`, `devices` and `dating` say which requests a form is for (`selection.py`).

The tables are learned from the reference folder on first use (`learn.py`); nothing derived
from the reference material is part of opendcc's source. Use cases with no RTDS vector get
forms written from the GBCS specification (`authored/`), added after the learned ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from opendcc.core.transform.conversions import SAMPLES
from opendcc.ids import EUI64

PathStep = str | int


@dataclass(frozen=True, slots=True)
class Binding:
    """Put `source` through `conversion` into the payload leaf at `at`."""

    at: tuple[PathStep, ...]
    source: str
    conversion: str


@dataclass(frozen=True, slots=True)
class Repeat:
    """An xDLMS array built item by item from a repeated DUIS element: the k-th array element
    is `element` with `bindings` (relative to it and to the k-th item of `over`) applied."""

    at: tuple[PathStep, ...]
    over: str  # DUIS path of the repeated element, as its first item is written
    element: Any
    bindings: tuple[Binding, ...]  # sources relative to the item ("" is the item's own text),
    # or @item / @position: the item's 1-based number / 0-based position in the array


@dataclass(frozen=True, slots=True)
class CommandForm:
    """One shape of one use case's GBCS command."""

    name: str
    use_case: str
    srv: str
    message_code: int
    devices: frozenset[str]
    sender: EUI64 | None  # the DCC entity that originates the command on the user's behalf
    remote_party_counter: bool
    remote_party_ka_certificate: str | None  # body path of the user's KA certificate (base64)
    dating: str  # "immediate", "future" or "cancel": the future-dating the form was built for
    exact: bool  # built with the DUIS template of exactly this variant (bindings complete)
    learned: bool  # its body bindings are known (False: only header and counter bindings)
    when: tuple[tuple[str, str], ...]  # body values that choose this variant (e.g. RemotePartyRole)
    paths: frozenset[str]  # the body paths of the request the form was learned from
    roles: frozenset[int]  # SMKI role codes of the users it was learned for (2 supplier, 3 DNO)
    payload: Any  # JSON view of the payload skeleton
    bindings: tuple[Binding, ...]
    repeats: tuple[Repeat, ...] = ()

    @property
    def body_sources(self) -> frozenset[str]:
        """The DUIS body paths this form reads."""
        # a sample count reads a period's start and end, which `paths` names leaf by leaf
        out = {b.source for b in self.bindings
               if not b.source.startswith("@") and not b.conversion.startswith(SAMPLES)} | self.paths
        out |= {r.over for r in self.repeats}
        if self.remote_party_ka_certificate:
            out.add(self.remote_party_ka_certificate)
        return frozenset(out)


class CommandTables:
    """Every command form, by SRV and by use case."""

    def __init__(self, forms: list[CommandForm],
                 service_use_cases: dict[str, list[str]] | None = None,
                 use_case_devices: dict[str, list[str]] | None = None) -> None:
        self.forms = tuple(forms)
        self._service_use_cases = {k: tuple(v) for k, v in (service_use_cases or {}).items()}
        self._use_case_devices = {k: frozenset(v) for k, v in (use_case_devices or {}).items()}
        self._by_srv: dict[str, list[CommandForm]] = {}
        for form in forms:
            self._by_srv.setdefault(form.srv, []).append(form)

    def for_srv(self, srv: str) -> list[CommandForm]:
        """The forms serving a Service Reference Variant (empty if none is tabulated)."""
        return list(self._by_srv.get(srv, ()))

    def for_use_case(self, use_case: str) -> list[CommandForm]:
        """The forms of a GBCS use case, whichever SRV they were learned for."""
        return [f for f in self.forms if f.use_case == use_case]

    def use_cases_of(self, service_reference: str) -> tuple[str, ...]:
        """GBCS use cases of a Service Reference or SRV variant (the GBCS use-case table, and
        the RTDS names for its rows that say "See GBCS")."""
        return self._service_use_cases.get(service_reference, ())

    def devices_of(self, use_case: str) -> frozenset[str] | None:
        """The device types a use case's command is for, by the GBCS use-case table
        (`device_types.py`); None: any device ("*"), or a use case the table does not name."""
        kinds = self._use_case_devices.get(use_case)
        return None if kinds is None or "*" in kinds else kinds

    def serves(self, use_case: str, device_type: str) -> bool | None:
        """Whether the use case's command may go to a device of that type, by the GBCS
        use-case table; None for a use case the table does not name."""
        kinds = self._use_case_devices.get(use_case)
        return None if kinds is None else "*" in kinds or device_type in kinds

    @property
    def use_cases(self) -> frozenset[str]:
        """The use cases with at least one form."""
        return frozenset(f.use_case for f in self.forms)


def _bindings(raw: list[list[Any]]) -> tuple[Binding, ...]:
    return tuple(Binding(tuple(b[0]), str(b[1]), str(b[2])) for b in raw)


def _form(raw: dict[str, Any]) -> CommandForm:
    sender = raw.get("sender")
    return CommandForm(
        name=str(raw["name"]),
        use_case=str(raw["use_case"]),
        srv=str(raw["srv"]),
        message_code=int(str(raw["message_code"]), 16),
        devices=frozenset(raw.get("devices", ())),
        sender=EUI64.parse(sender) if sender else None,
        remote_party_counter=bool(raw.get("remote_party_counter", False)),
        remote_party_ka_certificate=raw.get("remote_party_ka_certificate") or None,
        dating=str(raw.get("dating", "immediate")),
        exact=bool(raw.get("exact", False)),
        learned=bool(raw.get("learned", True)),
        paths=frozenset(str(p) for p in raw.get("paths", ())),
        roles=frozenset(int(r) for r in raw.get("roles", ())),
        when=tuple(sorted((str(k), str(v)) for k, v in raw.get("when", {}).items())),
        payload=raw["payload"],
        bindings=_bindings(raw["bind"]),
        repeats=tuple(Repeat(tuple(r["at"]), str(r["over"]), r["element"], _bindings(r["bind"]))
                      for r in raw.get("repeat", ())),
    )


def tables_from_data(raw: dict[str, Any]) -> CommandTables:
    """Command tables from their JSON-able data (`service_use_cases`, `forms`)."""
    return CommandTables([_form(f) for f in raw["forms"]], raw.get("service_use_cases", {}),
                         raw.get("use_case_devices", {}))


def read_tables(text: str) -> CommandTables:
    """Command tables from their JSON text."""
    return tables_from_data(json.loads(text))


@cache
def _tables_for(reference: str) -> CommandTables:
    from pathlib import Path

    from opendcc.core.transform.authored import authored_form_data
    from opendcc.core.transform.learn import load_command_data

    data = load_command_data(Path(reference))[0]
    learned = {f["name"] for f in data["forms"]}
    authored = [f for f in authored_form_data(data["forms"]) if f["name"] not in learned]
    return tables_from_data({**data, "forms": [*data["forms"], *authored]})


def default_tables() -> CommandTables:
    """The command tables learned from `opendcc.config.reference_dir()`, on first use (kept in
    memory, and in the cache folder); `CommandFormsUnavailable` (naming OPENDCC_REFERENCE)
    when the reference folder is missing."""
    from opendcc.config import reference_dir

    return _tables_for(str(reference_dir()))
