"""Which command form serves a request: the SRV's forms, narrowed by device type or use case
when the caller knows them, then the form that fits the request body best.

A device type none of the SRV's use cases is for is E11 (DeviceTypeInvalid); one that a use
case with no command form yet is for is not tabulated (`narrow`). A request whose SRV and
device type the GBCS use-case table gives a use case with no form is sent with the learned
form of the older use case of that SRV (ECS08a as ECS08, GCS21m as GCS21e). Forms built for another value of a `when` field (a
discriminating field such as RemotePartyRole, or an enumeration word the tables cannot
encode) are never chosen, nor a form without that field for a value another form of the SRV
is built for (`claimed_elsewhere`: LogToRead Security is not ECS35e's). Fit, in order: the request's dating
(immediate, future-dated or a cancellation) is the form's; the most of the form's body paths
present in the request; the fewest of them absent; the fewest request values left unused;
the requester's SMKI role among the form's; a form built from a template of exactly its
variant.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from opendcc.core.transform import fields
from opendcc.core.transform.conversions import CANCEL
from opendcc.core.transform.errors import CommandNotTabulated
from opendcc.core.transform.tables import CommandForm, CommandTables
from opendcc.duis.request import DuisRequest
from opendcc.duis.response_codes import DeviceTypeInvalid


def narrow(forms: Sequence[CommandForm], device_type: str, srv: str,
           tables: CommandTables | None = None) -> list[CommandForm]:
    """The forms for a device of `device_type`: those learned for that type of device (the
    RTDS vectors' recipients), else those whose use case the GBCS use-case table says is for
    it or for any device (`device_types.py`). If none: the SRV has a use case for that device
    type with no command form yet (not tabulated), or it has none (E11)."""
    seen = [f for f in forms if device_type in f.devices]
    if seen:
        return seen
    if tables is not None:
        for_type = [f for f in forms if tables.serves(f.use_case, device_type)]
        if for_type:
            return for_type
    # a use case no table names, seen at no type of device: any
    unknown = [f for f in forms if not f.devices
               and (tables is None or tables.serves(f.use_case, device_type) is None)]
    if unknown:
        return unknown
    use_cases = () if tables is None else (tables.use_cases_of(srv)
                                           or tables.use_cases_of(srv.rsplit(".", 1)[0]))
    with_forms = {f.use_case for f in forms}
    untabulated = [u for u in use_cases if u not in with_forms
                   and tables is not None and tables.serves(u, device_type) is not False]
    if untabulated:
        raise CommandNotTabulated(f"SRV {srv} to a device of type {device_type} is use case "
                                  f"{' or '.join(untabulated)}: no command form of it yet")
    named = {d for u in use_cases for d in (tables.devices_of(u) or ())} if tables else set()
    served = sorted({d for f in forms for d in f.devices} | named)
    raise DeviceTypeInvalid(f"SRV {srv} is not for a device of type {device_type} "
                            f"(it serves {', '.join(served)})")


def _untabulated(srv: str, device_type: str, tables: CommandTables) -> list[str]:
    """The use cases the GBCS use-case table names for the SRV and device type that have no
    command form (an RTDS variant name such as ECS25a1 is a form of ECS25a)."""
    use_cases = tables.use_cases_of(srv) or tables.use_cases_of(srv.rsplit(".", 1)[0])
    with_forms = {f.use_case for f in tables.forms}
    return [u for u in dict.fromkeys(use_cases) if tables.serves(u, device_type)
            and not any(w.startswith(u) for w in with_forms)]


def claimed_elsewhere(form: CommandForm, values: dict[str, str],
                      forms: Sequence[CommandForm]) -> bool:
    """Whether a request value the form neither encodes nor discriminates on is the value
    another form of the SRV is built for (its `when`): LogToRead Security to an ESME is
    ECS35b's, as ECS35d's form says for a CHF, so ECS35e's form (no LogToRead) is not for it."""
    own = {path for path, _ in form.when} | form.body_sources
    return any(path not in own and values.get(path) == value
               for other in forms if other is not form for path, value in other.when)


def _branches(paths: Iterable[str]) -> set[str]:
    """The first elements of body paths (the choice a DUIS body makes at its top level)."""
    return {fields.split_step(p.split("/", 1)[0])[0] for p in paths} - {"ExecutionDateTime"}


def same_choice(form: CommandForm, present: Iterable[str]) -> bool:
    """Whether the request chose the same branch of its body as the request the form was
    learned from: a form for `Prepayment` is not for a request that says `Credit` (ECS03 and
    ECS02 share SRV 1.6, device type and every value), though the request's values all fit."""
    learned, asked = _branches(form.paths), _branches(present)
    return not learned or not asked or bool(learned & asked)


def dating(request: DuisRequest) -> str:
    """immediate, future or cancel (DUIS 5.4: ExecutionDateTime 3000-12-31 cancels)."""
    when = request.execution_datetime
    if when is None:
        return "immediate"
    return "cancel" if when == CANCEL else "future"


def fit(form: CommandForm, present: set[str], dated: str,
        role: int | None = None) -> tuple[int, int, int, int, int, int]:
    """How well a form fits the request's body paths (larger is better)."""
    wanted = form.body_sources
    hits = len(wanted & present)
    return (int(form.dating == dated), hits, -len(wanted - present), -len(present - wanted),
            int(role in form.roles), int(form.exact))


def choose_form(forms: Sequence[CommandForm], request: DuisRequest, *,
                device_type: str | None = None, use_case: str | None = None,
                role: int | None = None, values: dict[str, str] | None = None,
                tables: CommandTables | None = None) -> CommandForm:
    """The form for `request` among the SRV's `forms` (`values`: its body leaves, if known;
    `tables`: the command tables, for the device types of the SRV's use cases)."""
    if use_case is not None:
        # The RTDS variant name (CS03CNonCritical), else the GBCS code it starts with (CS03C).
        exact = ([f for f in forms if f.name.split()[0] == use_case]
                 or [f for f in forms if use_case.startswith(f.use_case)])
        if not exact:
            raise CommandNotTabulated(f"use case {use_case} has no command form for SRV "
                                      f"{request.service_reference_variant}")
        forms = exact
    siblings = forms
    if device_type is not None:
        # A use case of an older GBCS version the table no longer names for the SRV (ECS08 for
        # ECS08a, GCS21e for GCS21m) still serves it: devices of that version take it, and the
        # emulated ones do. A discriminating value is another matter (`claimed_elsewhere`).
        forms = narrow(forms, device_type, request.service_reference_variant, tables)
    values = fields.leaves(request.body) if values is None else values
    forms = [f for f in forms if all(values.get(path, value) == value for path, value in f.when)
             and same_choice(f, values) and not claimed_elsewhere(f, values, siblings)]
    if not forms:
        srv = request.service_reference_variant
        missing = [] if tables is None or device_type is None else _untabulated(srv, device_type, tables)
        raise CommandNotTabulated(f"no command form of SRV {srv} for this variant of the request"
                                  + (f"; its use case for a {device_type} with no command form yet: "
                                     f"{' or '.join(missing)}"
                                     if missing else ""))
    present = set(values)
    dated = dating(request)
    return max(forms, key=lambda f: fit(f, present, dated, role))
