"""DUIS request -> GBCS command: the DCC's Transform (DUIS 5.4 §3.2 Command Variants 1-4,
GBCS §7.2.7 Grouping Header, §6.2.3 MAC Header added by the Access Control Broker).

    transform(request, now=..., counter=..., keys=...) -> TransformResult
        CV 1-3 (non-critical): a full Command, MAC'd by the ACB for the device.
        CV 4 (critical): a Pre-Command (no trailer) for the user to correlate and sign.
    finish_signed_precommand(request, keys=...) -> TransformResult
        CV 5-7: the user-signed Pre-Command from sr:SignedPreCommand, checked and MAC'd.

Pure: the request, the time, the DCC's counter and a key lookup in; octets out.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from opendcc.core.transform import fields
from opendcc.core.transform.conversions import CANCEL, ConversionError, convert
from opendcc.core.transform.errors import (
    BadRequestValue,
    CommandNotTabulated,
    ExecutionDateTimeExpired,
    KeyNotAvailable,
    NoGbcsUseCase,
    PreCommandMalformed,
    PreCommandSignatureInvalid,
    PreCommandWrongSigner,
)
from opendcc.core.transform.patch import patched
from opendcc.core.transform.selection import choose_form
from opendcc.core.transform.tables import CommandForm, CommandTables, Repeat, default_tables
from opendcc.duis.catalogue import Catalogue, CommandVariant, ServiceRequestVariant, load_catalogue
from opendcc.duis.request import DuisRequest
from opendcc.duis.response_codes import WrongCommandVariant
from opendcc.gbcs import codec, general_signing, security
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.gbcs.payloads import encode_payload, payload_from_json
from opendcc.gbcs.reader import Reader
from opendcc.gbcs.security import KeyLookup
from opendcc.gbcs.usecases import default_table as use_case_table
from opendcc.smki.keystore import role_of

#: Command Variants whose command is sent over the SM WAN / returned for local delivery.
_SEND = frozenset({1, 3, 5, 7})
_LOCAL = frozenset({2, 3, 6, 7})


@dataclass(frozen=True, slots=True)
class TransformResult:
    """What the Transform produced for one request."""

    gbcs: bytes  # the Pre-Command (CV 4) or the MAC'd Command
    use_case: str  # GBCS use case code, e.g. "ECS17b"
    form: str  # the command-table form used, e.g. "ECS17b 4.1.1 SINGLE_SUCCESS"
    pre_command: bool  # True: return to the user via serviceT to be signed (CV 4)
    send_over_wan: bool  # CV 1, 3, 5, 7
    deliver_locally: bool  # CV 2, 3, 6, 7: returned to the user for local delivery
    execution_datetime: datetime | None


def check_execution(request: DuisRequest, now: datetime) -> None:
    """DUIS 5.4 §3.4.4: a future-dated request must name a time still ahead (cancellation aside)."""
    when = request.execution_datetime
    if when is not None and when != CANCEL and when <= now:
        raise ExecutionDateTimeExpired(
            f"ExecutionDateTime {when.isoformat()} is not after the time of receipt {now.isoformat()}")


def _set(tree: Any, at: tuple[str | int, ...], value: Any) -> None:
    node = tree
    for step in at[:-1]:
        node = node[step]
    node[at[-1]] = value


def _get(tree: Any, at: tuple[str | int, ...]) -> Any:
    node = tree
    for step in at:
        node = node[step]
    return node


def _copy(node: Any) -> Any:
    """A copy of a JSON tree (dicts, lists, scalars): several times faster than deepcopy."""
    if isinstance(node, dict):
        return {k: _copy(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_copy(v) for v in node]
    return node


def _exists(tree: Any, at: tuple[str | int, ...]) -> bool:
    try:
        _get(tree, at)
    except (KeyError, IndexError, TypeError):
        return False
    return True


def items_of(over: str, sources: dict[str, str]) -> list[int]:
    """The item numbers of the repeated DUIS element `over` in the request, in order."""
    parent, _, name = over.rpartition("/")
    prefix = f"{parent}/" if parent else ""
    found = set()
    for path in sources:
        if path.startswith(prefix) and not path.startswith("@"):
            step_name, number = fields.split_step(path[len(prefix):].split("/", 1)[0])
            if step_name == name:
                found.add(number)
    return sorted(found)


def build_repeat(repeat: Repeat, sources: dict[str, str], use_case: str) -> list[Any]:
    """The array of a repeat group: one element per item of the repeated DUIS element."""
    parent, _, name = repeat.over.rpartition("/")
    out = []
    for position, number in enumerate(items_of(repeat.over, sources)):
        item = f"{parent}/{fields.join_step(name, number)}" if parent else fields.join_step(name, number)
        numbering = {"@item": str(position + 1), "@position": str(position)}
        element = _copy(repeat.element)
        for b in repeat.bindings:
            text = numbering.get(b.source) or sources.get(f"{item}/{b.source}" if b.source else item)
            if text is None:
                continue
            try:
                element = _apply(element, b.at, b.conversion, text)
            except ConversionError as exc:
                raise BadRequestValue(f"{item}/{b.source}: {exc} (use case {use_case})") from None
        out.append(element)
    return out


def _apply(tree: Any, at: tuple[str | int, ...], conversion: str, text: str) -> Any:
    if not at:
        return convert(conversion, text, tree)
    _set(tree, at, convert(conversion, text, _get(tree, at)))
    return tree


#: The skeleton tree of each form, built on first use (forms live as long as their tables).
_SKELETONS: dict[int, tuple[CommandForm, Any]] = {}


def _skeleton_tree(form: CommandForm) -> Any:
    cached = _SKELETONS.get(id(form))
    if cached is None or cached[0] is not form:
        cached = (form, payload_from_json(form.payload))
        _SKELETONS[id(form)] = cached
    return cached[1]


def fast_content(form: CommandForm, sources: dict[str, str]) -> bytes | None:
    """build_content by patching the form's skeleton tree; None when it cannot (then the
    caller rebuilds from JSON)."""
    if any(not b.at for b in form.bindings):
        return None
    tree = _skeleton_tree(form)
    if tree is None:
        return None
    view = form.payload
    try:
        for repeat in form.repeats:
            tree = patched(tree, repeat.at, build_repeat(repeat, sources, form.use_case))
        for b in form.bindings:
            text = sources.get(b.source)
            if text is None:
                if b.source == "ExecutionDateTime" and b.at == ("date_time",):
                    tree = patched(tree, b.at, "")
                continue
            try:
                old = _get(view, b.at)
            except (KeyError, IndexError, TypeError):
                continue  # inside an array the request changed: the slow path knows
            tree = patched(tree, b.at, convert(b.conversion, text, old))
        return encode_payload(tree)
    except (ConversionError, GbcsError, ValueError, TypeError, KeyError, IndexError, OverflowError):
        return None


def build_content(form: CommandForm, sources: dict[str, str], *, fast: bool = True) -> bytes:
    """The payload octets of `form`: repeat groups built from the request's items, then every
    binding whose source is present applied."""
    quick = fast_content(form, sources) if fast else None
    if quick is not None:
        return quick
    view = _copy(form.payload)
    for repeat in form.repeats:
        _set(view, repeat.at, build_repeat(repeat, sources, form.use_case))
    whole: bytes | None = None
    for b in form.bindings:
        if b.at and not _exists(view, b.at):
            continue  # inside an array the request made shorter
        text = sources.get(b.source)
        if text is None:
            if b.source == "ExecutionDateTime" and b.at == ("date_time",):
                _set(view, b.at, "")  # xDLMS access-request: no date-time means "now"
            continue
        try:
            if not b.at:
                whole = bytes.fromhex(str(convert(b.conversion, text, None)))
                continue
            _set(view, b.at, convert(b.conversion, text, _get(view, b.at)))
        except ConversionError as exc:
            raise BadRequestValue(f"{b.source}: {exc} (use case {form.use_case})") from None
    if whole is not None:
        return whole
    payload = payload_from_json(view)
    if payload is None:
        raise CommandNotTabulated(f"payload of {form.name} cannot be rebuilt")
    try:
        return encode_payload(payload)
    except (GbcsError, ValueError, OverflowError, TypeError) as exc:
        raise BadRequestValue(f"{form.name}: a body value does not fit the GBCS payload: {exc}") from None


def _ka_certificate(text: str | None, path: str) -> bytes:
    """The user's KA certificate the request carries (e.g. KAPublicSecurityCredentials)."""
    if text is None:
        raise BadRequestValue(f"{path}: the command needs the remote party's KA certificate")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestValue(f"{path}: not base64") from None


def build_command(request: DuisRequest, form: CommandForm, *, counter: int,
                  keys: KeyLookup | None, values: dict[str, str] | None = None) -> GeneralSigning:
    """GBCS §7.2.7: the General Signing APDU (no trailer) of `form` filled from `request`
    (`values`: the request's body leaves, when the caller has them already)."""
    rid = request.request_id
    sender = form.sender or rid.originator
    originator_counter = counter if form.sender is not None else rid.counter
    sources = dict(fields.leaves(request.body) if values is None else values)
    sources.update({
        "@counter": str(originator_counter), "@request_counter": str(rid.counter),
        "@originator": rid.originator.hyphenated, "@target": rid.target.hyphenated,
        "@sender": sender.hyphenated,
    })
    other = OtherInformation(form.message_code)
    if form.sender is not None:
        cert = None
        if form.remote_party_ka_certificate:
            path = form.remote_party_ka_certificate
            cert = _ka_certificate(sources.get(path), path)
        other = OtherInformation(form.message_code, rid.originator,
                                 rid.counter if form.remote_party_counter else None, None, cert)
    return GeneralSigning(CraFlag.COMMAND, originator_counter, sender, rid.target, None, other,
                          build_content(form, sources), None)


def shared_forms(srv: ServiceRequestVariant, tables: CommandTables, catalogue: Catalogue) -> list[CommandForm]:
    """Forms learned under another SRV for a use case this SRV also has (GBCS names the
    command by use case: ECS70 is the same command for 6.11 and 8.1.1), where the use case
    has no form under this SRV and the other SRV is as critical as this one."""
    own = {f.use_case for f in tables.for_srv(srv.variant)}
    out: list[CommandForm] = []
    for use_case in tables.use_cases_of(srv.variant):
        if use_case in own:
            continue
        out += [f for f in tables.for_use_case(use_case)
                if f.srv in catalogue and catalogue.get(f.srv).critical == srv.critical]
    return out


def requester_role(request: DuisRequest, keys: KeyLookup | None) -> int | None:
    """The SMKI role code of the request's originator (its DS certificate's OU), if known."""
    cert = keys.certificate(request.request_id.originator, "ds") if keys is not None else None
    return role_of(cert) if cert is not None else None


def check_form_fits(form: CommandForm, request: DuisRequest, values: dict[str, str] | None = None) -> None:
    """Refuse rather than emit a skeleton that would silently drop what the user asked for:
    a form without body bindings for a request with values, or one whose body paths are all
    absent from the request (a variant of the use case the tables do not hold)."""
    leaves = fields.leaves(request.body) if values is None else values
    given = {p for p, t in leaves.items() if t} - {"ExecutionDateTime"}
    wanted = {b.source for b in form.bindings if not b.source.startswith("@")} - {"ExecutionDateTime"}
    if given and (not form.learned or (wanted and not wanted & given)):
        raise CommandNotTabulated(f"{form.name}: the command table does not yet say where "
                                  f"{', '.join(sorted(given)[:3])} go in the GBCS payload")


def mac_for_device(apdu: GeneralSigning, keys: KeyLookup) -> bytes:
    """GBCS §6.2.3: what the ACB adds: the MAC Header over the (signed or unsigned) command."""
    try:
        return bytes(codec.add_mac_header(apdu, keys))
    except GbcsError as exc:
        raise KeyNotAvailable(f"cannot MAC the command for {apdu.recipient.hyphenated}: {exc.message}") from None


def select_form(request: DuisRequest, srv: ServiceRequestVariant, *, keys: KeyLookup | None = None,
                device_type: str | None = None, use_case: str | None = None,
                catalogue: Catalogue | None = None, tables: CommandTables | None = None,
                values: dict[str, str] | None = None) -> CommandForm:
    """The command form the Transform uses for `request` (its SRV's forms, and forms of the
    same use cases learned under another SRV), checked to carry what the request asks for."""
    known = tables or default_tables()
    forms = known.for_srv(srv.variant) + shared_forms(srv, known, catalogue or load_catalogue())
    if not forms:
        if not (known.use_cases_of(srv.variant) or known.use_cases_of(srv.service_reference)):
            raise NoGbcsUseCase(f"SRV {srv.variant} ({srv.name}) has no GBCS use case")
        raise CommandNotTabulated(f"SRV {srv.variant} ({srv.name}): no command table yet")
    values = fields.leaves(request.body) if values is None else values
    form = choose_form(forms, request, device_type=device_type, use_case=use_case,
                       role=requester_role(request, keys), values=values)
    check_form_fits(form, request, values)
    return form


def transform(request: DuisRequest, *, now: datetime, counter: int, keys: KeyLookup,
              device_type: str | None = None, use_case: str | None = None,
              catalogue: Catalogue | None = None, tables: CommandTables | None = None) -> TransformResult:
    """DUIS 5.4 §3.2: the GBCS command for a device SRV sent with Command Variant 1-4.

    `counter` is the Originator Counter the DCC uses when it originates the command itself
    (commands sent on the user's behalf); user-originated commands carry the RequestID counter.
    `device_type` (from the inventory: ESME, GSME, GPF, CHF, PPMID, ...) and `use_case` narrow
    the choice where one SRV serves several use cases.
    """
    srv = (catalogue or load_catalogue()).for_request(request.service_reference,
                                                      request.service_reference_variant)
    if srv.non_device:
        raise NoGbcsUseCase(f"SRV {srv.variant} ({srv.name}) is a non-device request: it has no GBCS use case")
    if request.command_variant in (5, 6, 7):
        raise WrongCommandVariant(f"Command Variant {request.command_variant} carries a signed Pre-Command: "
                                  "use finish_signed_precommand")
    srv.check_command_variant(request.command_variant)
    check_execution(request, now)
    values = fields.leaves(request.body)
    form = select_form(request, srv, keys=keys, device_type=device_type, use_case=use_case,
                       catalogue=catalogue, tables=tables, values=values)
    apdu = build_command(request, form, counter=counter, keys=keys, values=values)
    pre = request.command_variant == CommandVariant.TRANSFORM
    gbcs = bytes(apdu) if pre else mac_for_device(apdu, keys)
    return TransformResult(gbcs, form.use_case, form.name, pre, request.command_variant in _SEND,
                           request.command_variant in _LOCAL, request.execution_datetime)


def _signed_payload(request: DuisRequest) -> bytes:
    text = request.body.findtext("{*}GBCSPayload")
    if request.body_name != "SignedPreCommand" or text is None:
        raise PreCommandMalformed(f"a Command Variant {request.command_variant} request carries "
                                  "sr:SignedPreCommand/sr:GBCSPayload")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise PreCommandMalformed("GBCSPayload is not base64") from None


def finish_signed_precommand(request: DuisRequest, *, keys: KeyLookup, now: datetime | None = None,
                             catalogue: Catalogue | None = None,
                             tables: CommandTables | None = None) -> TransformResult:
    """DUIS 5.4 §3.2 CV 5-7: check the user-signed Pre-Command and add the ACB's MAC Header.

    The command must be a General Signing APDU with a 64-octet signature, originated by the
    request's originator for its target, with a message code of a use case of the request's
    SRV (where the tables know the SRV), and the signature must verify with the originator's
    DS certificate (GBCS §4.3.2). With `now`, a future date must still be ahead.
    """
    srv = (catalogue or load_catalogue()).for_request(request.service_reference,
                                                      request.service_reference_variant)
    srv.check_command_variant(request.command_variant)
    if request.command_variant not in (5, 6, 7):
        raise WrongCommandVariant(f"Command Variant {request.command_variant} does not carry a signed Pre-Command")
    data = _signed_payload(request)
    try:
        apdu = general_signing.decode(Reader(data))
    except GbcsError as exc:
        raise PreCommandMalformed(f"GBCSPayload {exc.field} at {exc.offset}: {exc.message}") from None
    if apdu.cra_flag is not CraFlag.COMMAND or not apdu.signature:
        raise PreCommandMalformed("GBCSPayload is not a signed Command (CRA flag 1, 64-octet signature)")
    if now is not None:
        check_execution(request, now)
    codes = {f.message_code for f in (tables or default_tables()).for_srv(srv.variant)}
    if codes and apdu.message_code not in codes:
        raise PreCommandMalformed(f"message code 0x{apdu.message_code:04X} is not a use case of SRV {srv.variant}")
    rid = request.request_id
    if apdu.originator != rid.originator or apdu.recipient != rid.target:
        raise PreCommandWrongSigner(
            f"the Pre-Command runs {apdu.originator.hyphenated} -> {apdu.recipient.hyphenated}, "
            f"the request {rid.originator.hyphenated} -> {rid.target.hyphenated}")
    key = security.cache_for(keys).public_key(apdu.originator, "ds")
    if key is None:
        raise PreCommandSignatureInvalid(f"no DS certificate of {apdu.originator.hyphenated} to verify with")
    if not security.verify(key, apdu.signed_data(), apdu.signature):
        raise PreCommandSignatureInvalid(f"the signature does not verify with the DS key of {apdu.originator.hyphenated}")
    use_case = use_case_table().for_message_code(apdu.message_code)
    gbcs = mac_for_device(dataclasses.replace(apdu), keys)
    cv = request.command_variant
    return TransformResult(gbcs, use_case.code, "signed Pre-Command", False, cv in _SEND, cv in _LOCAL,
                           request.execution_datetime)
