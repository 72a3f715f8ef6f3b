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
from datetime import UTC, datetime

from opendcc.core.transform import dcc_originated, fields
from opendcc.core.transform.authored import gas_tariff, more
from opendcc.core.transform.content import build_content
from opendcc.core.transform.conversions import CANCEL
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
from opendcc.core.transform.selection import choose_form
from opendcc.core.transform.tables import CommandForm, CommandTables, default_tables
from opendcc.duis.catalogue import Catalogue, CommandVariant, ServiceRequestVariant, load_catalogue
from opendcc.duis.request import DuisRequest
from opendcc.duis.response_codes import WrongCommandVariant
from opendcc.gbcs import codec, general_signing, security
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
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


def _ka_certificate(text: str | None, path: str) -> bytes:
    """The user's KA certificate the request carries (e.g. KAPublicSecurityCredentials)."""
    if text is None:
        raise BadRequestValue(f"{path}: the command needs the remote party's KA certificate")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequestValue(f"{path}: not base64") from None


def build_command(request: DuisRequest, form: CommandForm, *, counter: int,
                  keys: KeyLookup | None, values: dict[str, str] | None = None,
                  now: datetime | None = None) -> GeneralSigning:
    """GBCS §7.2.7: the General Signing APDU (no trailer) of `form` filled from `request`
    (`values`: the request's body leaves, when the caller has them already; `now`: the time
    the DCC issues the command, for the values it takes from its clock, such as ZCL issuer
    event ids)."""
    rid = request.request_id
    sender = form.sender or rid.originator
    originator_counter = counter if form.sender is not None else rid.counter
    sources = dict(fields.leaves(request.body) if values is None else values)
    sources.update({
        "@counter": str(originator_counter), "@request_counter": str(rid.counter),
        "@originator": rid.originator.hyphenated, "@target": rid.target.hyphenated,
        "@sender": sender.hyphenated,
    })
    sources.update(more.derived_sources(sources, keys))  # e.g. a join's other certificate (SMKI)
    from opendcc.core.transform.authored import variants  # ECS25a2/a3: the event behaviour bitmap
    sources.update(variants.derived_sources(sources, form))
    if now is not None:
        issued = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
        sources["@now"] = issued.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sources.update(gas_tariff.derived_sources(sources))  # GCS01a: counts of profiles, seasons
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


#: GBCS message type of critical commands: the device acts only on a remote party's signature.
CRITICAL_MESSAGE_TYPE = "SME.C.C"


def sign_on_behalf(apdu: GeneralSigning, form: CommandForm, keys: KeyLookup) -> GeneralSigning:
    """GBCS §7.2.7, §4.3.2: a command the DCC sends on the user's behalf (a non-critical SRV
    whose use case is critical on the device, e.g. 8.7.2 / 8.8.2 to the PPMID end of a join,
    CS03A2 / CS03C / CS04AC) carries the signature of the DCC party that originates it."""
    if form.sender is None or apdu.signature:
        return apdu
    message_type = use_case_table().for_message_code(apdu.message_code).message_type or ""
    if not message_type.replace(" ", "").startswith(CRITICAL_MESSAGE_TYPE):
        return apdu
    try:
        return codec.sign_apdu(apdu, keys)
    except GbcsError as exc:
        raise KeyNotAvailable(f"cannot sign the command as {apdu.originator.hyphenated}: "
                              f"{exc.message}") from None


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
                       role=requester_role(request, keys), values=values, tables=known)
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
    apdu = build_command(request, form, counter=counter, keys=keys, values=values, now=now)
    pre = request.command_variant == CommandVariant.TRANSFORM
    # CS02b: the sequence number is the counter; 6.21, 6.23: a DCC party originates and signs
    apdu = dcc_originated.originate(apdu, srv.variant, counter=counter, keys=keys)
    gbcs = bytes(apdu) if pre else mac_for_device(sign_on_behalf(apdu, form, keys), keys)
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
    known = tables or default_tables()
    # the SRV's own forms and those it shares (GCS28 learned under 6.11 is 8.1.1's too)
    forms = known.for_srv(srv.variant) + shared_forms(srv, known, catalogue or load_catalogue())
    codes = {f.message_code for f in forms}
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
