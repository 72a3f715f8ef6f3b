"""The Transform against the RTDS vectors: for every device-SRV DUIS template whose use case has
an RTDS Command or Pre-Command, the GBCS opendcc emits decodes to the vector's structure, with
the template's values; bad requests get their DUIS answer.
"""

from __future__ import annotations

import base64
import copy
import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import transform_rtds as rtds
from lxml import etree
from transform_rtds import record

from opendcc.client.correlate import correlate
from opendcc.config import reference_dir
from opendcc.core.transform import (
    CommandForm,
    CommandNotTabulated,
    ExecutionDateTimeExpired,
    NoGbcsUseCase,
    PreCommandMalformed,
    PreCommandSignatureInvalid,
    PreCommandWrongSigner,
    default_tables,
    fields,
    finish_signed_precommand,
    select_form,
    transform,
)
from opendcc.core.transform.authored import authored_form_data
from opendcc.core.transform.builder import shared_forms
from opendcc.core.transform.content import build_content
from opendcc.core.transform.conversions import convert
from opendcc.core.transform.dcc_originated import DCC_ORIGINATORS
from opendcc.core.transform.learn import load_command_data
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.duis.response_codes import DeviceTypeInvalid, DuisError, WrongCommandVariant
from opendcc.gbcs import codec, security
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.smki.keystore import KeyStore

#: Before every template's ExecutionDateTime (the earliest is in 2015).
NOW = datetime(2014, 6, 1, tzinfo=UTC)
DCC_COUNTER = 1300
#: Names of the forms written from GBCS rather than learned from a vector.
AUTHORED_FORMS = frozenset(f["name"] for f in authored_form_data(  # with the learned siblings
    load_command_data(reference_dir().resolve())[0]["forms"]))
#: Payload keys that carry structure (descriptors, ids, types), compared as values.
STRUCTURAL = frozenset({"@type", "class_id", "instance_id", "attribute_id", "method_id", "command",
                        "tag_class", "tag_number", "extended_header_cluster_id",
                        "extended_header_control_field", "frame_control", "command_identifier"})


def shape(node: Any, key: str | None = None) -> Any:
    """The structure of a payload's JSON view: descriptors and types kept, values typed only."""
    if isinstance(node, dict):
        return {k: shape(v, k) for k, v in node.items() if k != "#"}
    if isinstance(node, list):
        return [shape(v) for v in node]
    return node if key in STRUCTURAL else type(node).__name__


def header(msg: codec.GbcsMessage) -> dict[str, Any]:
    """The Grouping Header facts that make a command's structure (not its counters)."""
    oi = msg.apdu.other_information
    return {"CRA flag": msg.apdu.cra_flag, "message code": oi.message_code, "use case": msg.use_case.code,
            "remote party": oi.remote_party_id is not None,
            "remote party counter": oi.remote_party_counter is not None,
            "remote party KA certificate": oi.remote_party_ka_certificate is not None,
            "date-time": msg.apdu.date_time is not None}


def read_vector(template: rtds.Template) -> codec.GbcsMessage:
    assert template.vector is not None
    return codec.decode(bytes.fromhex("".join(template.vector.read_text().split())))


def device_type(request: DuisRequest) -> str | None:
    return rtds.DEVICE_TYPES.get(request.request_id.target.hyphenated)


def run(template: rtds.Template, keys: KeyStore, request: DuisRequest | None = None) -> bytes:
    request = request or template.request
    return transform(request, now=NOW, counter=DCC_COUNTER, keys=keys, use_case=template.variant,
                     device_type=device_type(request)).gbcs


def unnamed(node: Any) -> Any:
    """A JSON view without the names and notes the decoder adds for people."""
    if isinstance(node, dict):
        return {k: unnamed(v) for k, v in node.items() if k not in ("#", "name")}
    if isinstance(node, list):
        return [unnamed(v) for v in node]
    return node


def form_of(template: rtds.Template, keys: KeyStore) -> CommandForm:
    """The form the Transform picks for a template (told its use case and device type)."""
    request = template.request
    srv = load_catalogue().get(request.service_reference_variant)
    return select_form(request, srv, keys=keys, use_case=template.variant, device_type=device_type(request))


def _at(tree: Any, path: list[Any]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


@pytest.mark.parametrize("template", rtds.in_scope(), ids=lambda t: t.name)
def test_command_has_the_rtds_structure_and_the_template_values(template: rtds.Template,
                                                                 keys: KeyStore) -> None:
    request = template.request
    expected = read_vector(template)
    try:
        octets = run(template, keys)
    except CommandNotTabulated as exc:
        record("structure", "not tabulated")
        pytest.xfail(f"no command table yet: {exc}")
    got = codec.decode(octets, keys)
    if template.vector.name.split("_")[0] != template.variant \
            and form_of(template, keys).name in AUTHORED_FORMS:
        # An authored form (`core/transform/authored/`): the nearest vector is another
        # variant's, with another message code, so only the bound values are compared.
        record("structure", "authored, no vector of its variant")
        view = codec.to_json(got)["Payload"].get("Decoded")
        values = fields.leaves(request.body)
        for b in form_of(template, keys).bindings:
            if b.source in values and b.at:
                emitted = _at(view, list(b.at))
                assert unnamed(emitted) == unnamed(convert(b.conversion, values[b.source], emitted)), b
        return
    same = header(got) == header(expected) and shape(codec.to_json(got)["Payload"].get("Decoded")) == shape(
        codec.to_json(expected)["Payload"].get("Decoded"))
    record("structure", "match" if same else "differs")
    assert header(got) == header(expected)
    assert shape(codec.to_json(got)["Payload"].get("Decoded")) == shape(
        codec.to_json(expected)["Payload"].get("Decoded"))

    # The addressing comes from the request; a non-critical command carries the ACB's MAC.
    rid = request.request_id
    assert got.apdu.recipient == rid.target
    dcc_party = DCC_ORIGINATORS.get(request.service_reference_variant)  # 6.21, 6.23: the DCC signs
    assert got.apdu.originator in (rid.originator, dcc_party) \
        or got.apdu.other_information.remote_party_id == rid.originator
    if request.command_variant == 4:
        assert got.kind is MessageKind.PRECOMMAND
    else:
        assert got.kind is MessageKind.COMMAND and got.mac_check is Verification.VERIFIED

    # Every value the table binds comes from the template.
    form = form_of(template, keys)
    values = fields.leaves(request.body)
    view = codec.to_json(got)["Payload"].get("Decoded")
    for b in form.bindings:
        if b.source in values and b.at:
            emitted = _at(view, list(b.at))
            assert unnamed(emitted) == unnamed(convert(b.conversion, values[b.source], emitted)), b
    exact = got.apdu.content == expected.apdu.content
    record("identical payload", "match" if exact else "differs")
    # Told only what the gateway knows (device type from the inventory, the signer's role).
    try:
        alone = transform(request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type=device_type(request))
    except CommandNotTabulated:
        # the GBCS use-case table names another use case, with no form, for the SRV and device
        # type (ECS08a, GCS21m): an RTDS vector of an older use case is sent only when named
        record("use case chosen without the template's name", "not tabulated")
        return
    record("use case chosen without the template's name",
           "match" if alone.use_case == got.use_case.code else "differs")


@pytest.mark.parametrize("template", [t for t in rtds.in_scope() if t.request.command_variant == 4],
                         ids=lambda t: t.name)
def test_pre_command_passes_the_users_correlation(template: rtds.Template, keys: KeyStore) -> None:
    try:
        octets = run(template, keys)
    except CommandNotTabulated as exc:
        record("correlate", "not tabulated")
        pytest.xfail(f"no command table yet: {exc}")
    result = correlate(template.request, octets, check=False)
    record("correlate", "match" if result.passed else "differs")
    assert result.passed, result.mismatches


# ---------------------------------------------------------------------------------------------
# CV 5-7: the signed Pre-Command comes back

def _signed_request(template: rtds.Template, gbcs: bytes, cv: int = 5) -> DuisRequest:
    """The CV 5 request carrying `gbcs` in sr:SignedPreCommand (DUIS 5.4 §3.2)."""
    root = parse_xml((rtds.REF / "duis" / "templates" / template.name).read_bytes())
    ns = {"sr": "http://www.dccinterface.co.uk/ServiceUserGateway"}
    root.find("sr:Header/sr:CommandVariant", ns).text = str(cv)  # type: ignore[union-attr]
    body = root.find("sr:Body", ns)
    assert body is not None
    for child in list(body):
        body.remove(child)
    signed = etree.SubElement(body, f"{{{ns['sr']}}}SignedPreCommand")
    etree.SubElement(signed, f"{{{ns['sr']}}}GBCSPayload").text = base64.b64encode(gbcs).decode()
    return read_request(root)


def _critical() -> list[rtds.Template]:
    """Critical templates whose SRV has a command form that fits them."""
    keys = KeyStore.from_reference()
    out = []
    for t in rtds.in_scope():
        if t.request.command_variant != 4:
            continue
        try:
            run(t, keys)
        except CommandNotTabulated:
            continue
        out.append(t)
    return out


@pytest.mark.parametrize("template", _critical()[:1] + _critical()[-1:], ids=lambda t: t.name)
def test_user_signed_pre_command_is_maced_for_the_device(template: rtds.Template, keys: KeyStore) -> None:
    pre = codec.decode(run(template, keys)).apdu
    signed = codec.sign_apdu(dataclasses.replace(pre, signature=bytes(64)), keys)
    result = finish_signed_precommand(_signed_request(template, bytes(signed)), keys=keys)
    msg = codec.decode(result.gbcs, keys)
    assert msg.kind is MessageKind.COMMAND
    assert msg.signature_check is Verification.VERIFIED and msg.mac_check is Verification.VERIFIED
    assert result.send_over_wan and not result.pre_command


def test_pre_command_signed_by_another_party_is_refused(keys: KeyStore) -> None:
    template = _critical()[0]
    pre = codec.decode(run(template, keys)).apdu
    other = next(t for t in rtds.in_scope() if t.request.request_id.originator != pre.originator)
    forged = dataclasses.replace(pre, originator=other.request.request_id.originator)
    signed = codec.sign_apdu(dataclasses.replace(forged, signature=bytes(64)), keys)
    with pytest.raises(PreCommandWrongSigner):
        finish_signed_precommand(_signed_request(template, bytes(signed)), keys=keys)


def test_pre_command_with_a_bad_signature_is_refused(keys: KeyStore) -> None:
    template = _critical()[0]
    pre = codec.decode(run(template, keys)).apdu
    key = keys.private_key(pre.originator, "ds")
    assert key is not None
    tampered = dataclasses.replace(pre, signature=security.sign(key, pre.signed_data()[:-1] + b"\x00"))
    with pytest.raises(PreCommandSignatureInvalid):
        finish_signed_precommand(_signed_request(template, bytes(tampered)), keys=keys)


# ---------------------------------------------------------------------------------------------
# bad input: each its DUIS answer

@pytest.mark.parametrize("template", [t for t in rtds.templates() if t.request.command_variant in (1, 2, 3)],
                         ids=lambda t: t.name)
def test_non_critical_srv_sent_as_critical_is_e12(template: rtds.Template, keys: KeyStore) -> None:
    request = dataclasses.replace(template.request, command_variant=4)
    with pytest.raises(WrongCommandVariant) as caught:
        run(template, keys, request)
    assert caught.value.code is not None and caught.value.code.value == "E12"


@pytest.mark.parametrize("name", rtds.non_device_templates())
def test_srv_without_a_gbcs_use_case_is_e13(name: str, keys: KeyStore) -> None:
    request = read_request(parse_xml((rtds.REF / "duis" / "templates" / name).read_bytes()))
    with pytest.raises(NoGbcsUseCase) as caught:
        transform(request, now=NOW, counter=DCC_COUNTER, keys=keys)
    assert caught.value.code is not None and caught.value.code.value == "E13"


@pytest.mark.parametrize("template", [t for t in rtds.templates()
                                      if t.request.execution_datetime is not None
                                      and t.request.execution_datetime.year < 3000],
                         ids=lambda t: t.name)
def test_expired_execution_date_time_is_refused(template: rtds.Template, keys: KeyStore) -> None:
    request = template.request
    assert request.execution_datetime is not None
    later = request.execution_datetime + timedelta(seconds=1)
    with pytest.raises(ExecutionDateTimeExpired):
        transform(request, now=later, counter=DCC_COUNTER, keys=keys, use_case=template.variant)


def test_every_device_srv_of_the_catalogue_is_accounted_for() -> None:
    """Each device SRV has a command form, or is reported as not yet tabulated."""
    tables = default_tables()
    device = [s for s in load_catalogue() if not s.non_device]
    for srv in device:
        record("device SRVs with a command form", "match" if all_forms(srv.variant) else "not tabulated")
    assert any(tables.for_srv(s.variant) for s in device)


# ---------------------------------------------------------------------------------------------
# repeated DUIS items: the payload array follows the request, not the template

def _repeating() -> list[tuple[rtds.Template, int]]:
    keys = KeyStore.from_reference()
    out = []
    for t in rtds.in_scope():
        try:
            run(t, keys)
        except CommandNotTabulated:
            continue
        form = form_of(t, keys)
        out += [(t, i) for i in range(len(form.repeats))]
    return out


@pytest.mark.parametrize(("template", "group"), _repeating(), ids=lambda x: getattr(x, "name", str(x)))
def test_one_more_item_in_the_request_is_one_more_payload_element(template: rtds.Template, group: int,
                                                                   keys: KeyStore) -> None:
    form = form_of(template, keys)
    repeat = form.repeats[group]
    before = _at(codec.to_json(codec.decode(run(template, keys)))["Payload"]["Decoded"], list(repeat.at))
    root = parse_xml((rtds.REF / "duis" / "templates" / template.name).read_bytes())
    grown = read_request(root)
    parent_path, _, name = repeat.over.rpartition("/")
    parent = fields.element_at(grown.body, parent_path) if parent_path else grown.body
    assert parent is not None
    items = [c for c in parent if isinstance(c.tag, str) and etree.QName(c).localname == name]
    extra = copy.deepcopy(items[-1])
    if extra.get("index"):
        extra.set("index", str(len(items) + 1))
    items[-1].addnext(extra)
    after = _at(codec.to_json(codec.decode(run(template, keys, grown)))["Payload"]["Decoded"], list(repeat.at))
    assert len(after) == len(before) + 1
    assert shape(after[-1]) == shape(before[0])


@pytest.mark.parametrize("template", rtds.in_scope(), ids=lambda t: t.name)
def test_patched_skeleton_equals_the_rebuilt_one(template: rtds.Template, keys: KeyStore) -> None:
    """The fast path (patching the skeleton tree) builds the same payload as the JSON rebuild."""
    request = template.request
    try:
        form = form_of(template, keys)
    except CommandNotTabulated:
        pytest.xfail("no command form: the Transform refuses it (CommandNotTabulated)")
    sources = {**fields.leaves(request.body), "@counter": "1300", "@request_counter": "1000",
               "@originator": request.request_id.originator.hyphenated,
               "@target": request.request_id.target.hyphenated,
               "@sender": request.request_id.originator.hyphenated}
    assert build_content(form, sources) == build_content(form, sources, fast=False)


def _with_word_conditions() -> list[tuple[rtds.Template, str]]:
    keys = KeyStore.from_reference()
    out = []
    for t in rtds.in_scope():
        try:
            run(t, keys)
        except CommandNotTabulated:
            continue
        form = form_of(t, keys)
        if form.when:
            out.append((t, form.when[0][0]))
    return out


@pytest.mark.parametrize(("template", "path"), _with_word_conditions(),
                         ids=lambda x: getattr(x, "name", str(x)))
def test_an_enumeration_value_the_tables_cannot_encode_is_refused(template: rtds.Template, path: str,
                                                                  keys: KeyStore) -> None:
    """A word the form was not learned with (no table says how it is encoded) is refused
    rather than silently replaced by the learned one."""
    request = read_request(parse_xml((rtds.REF / "duis" / "templates" / template.name).read_bytes()))
    element = fields.element_at(request.body, path)
    assert element is not None
    element.text = "NotAValueAnyTableKnows"
    with pytest.raises(CommandNotTabulated):
        run(template, keys, request)


def all_forms(variant: str) -> list[CommandForm]:
    """The forms the Transform considers for an SRV (its own and shared ones)."""
    srv = load_catalogue().get(variant)
    return default_tables().for_srv(variant) + shared_forms(srv, default_tables(), load_catalogue())


DEVICE_TYPES = ("ESME", "GSME", "GPF", "CHF", "PPMID")


def _served(variant: str) -> set[str] | None:
    """The device types the SRV's GBCS use cases are for (None: one of them is for any)."""
    tables = default_tables()
    use_cases = tables.use_cases_of(variant) or tables.use_cases_of(variant.rsplit(".", 1)[0])
    kinds = [tables.devices_of(u) for u in use_cases]
    return None if not kinds or None in kinds else {d for k in kinds for d in k or ()}


def _wrong_device() -> list[tuple[rtds.Template, str]]:
    out = []
    for t in rtds.in_scope():
        served = _served(t.request.service_reference_variant)
        if all_forms(t.request.service_reference_variant) and served is not None:
            other = next((d for d in DEVICE_TYPES if d not in served), None)
            if other is not None:
                out.append((t, other))
    return out


@pytest.mark.parametrize(("template", "device"), _wrong_device(), ids=lambda x: getattr(x, "name", str(x)))
def test_srv_for_another_device_type_is_e11(template: rtds.Template, device: str, keys: KeyStore) -> None:
    """DUIS E11: none of the SRV's use cases is for that type of device (GBCS use-case table)."""
    with pytest.raises(DeviceTypeInvalid) as caught:
        transform(template.request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type=device)
    assert caught.value.code is not None and caught.value.code.value == "E11"


def _for_any_device() -> list[tuple[rtds.Template, str]]:
    """Templates of a use case for any device, each with a device type no vector of it went to."""
    out = []
    tables = default_tables()
    for t in rtds.in_scope():
        form_devices = {d for f in all_forms(t.request.service_reference_variant) for d in f.devices}
        if t.use_case and tables.serves(t.use_case, "*") and tables.devices_of(t.use_case) is None:
            other = next((d for d in DEVICE_TYPES if d not in form_devices), None)
            if other is not None:
                out.append((t, other))
    return out


@pytest.mark.parametrize(("template", "device"), _for_any_device(), ids=lambda x: getattr(x, "name", str(x)))
def test_use_case_for_any_device_is_not_e11_on_a_type_no_vector_went_to(
        template: rtds.Template, device: str, keys: KeyStore) -> None:
    """CS02b, CS08 and the other common use cases are for any device: no E11 for a device type
    the RTDS vectors happen not to address."""
    try:
        transform(template.request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type=device)
    except DeviceTypeInvalid:
        pytest.fail(f"{template.use_case} is for any device, not E11 for a {device}")
    except DuisError:  # other refusals (a key the command needs, a form) are not the point
        pass


def _untabulated_device() -> list[tuple[rtds.Template, str]]:
    """Templates and a device type only a use case of their SRV with no command form is for."""
    out = []
    tables = default_tables()
    for t in rtds.in_scope():
        variant = t.request.service_reference_variant
        forms = all_forms(variant)
        with_forms = {f.use_case for f in forms}
        use_cases = tables.use_cases_of(variant)
        for device in DEVICE_TYPES:
            formed = any(device in f.devices or device in (tables.devices_of(f.use_case) or (device,))
                         for f in forms)
            if forms and not formed and any(u not in with_forms and device in (tables.devices_of(u) or ())
                                            for u in use_cases):
                out.append((t, device))
                break
    return out


@pytest.mark.parametrize(("template", "device"), _untabulated_device(),
                         ids=lambda x: getattr(x, "name", str(x)))
def test_device_type_of_a_use_case_with_no_form_is_not_tabulated(
        template: rtds.Template, device: str, keys: KeyStore) -> None:
    """A device type the SRV is for through a use case the tables have no form of yet is not
    tabulated (HTTP 501), not E11: the request is right, opendcc cannot build it yet."""
    with pytest.raises(CommandNotTabulated, match=device):
        transform(template.request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type=device)


def test_signed_pre_command_of_another_srv_is_refused(keys: KeyStore) -> None:
    """The Pre-Command sent back must be a command of the request's SRV."""
    critical = _critical()
    first = critical[0]
    other = next(t for t in critical if t.request.service_reference_variant != first.request.service_reference_variant
                 and codec.decode(run(t, keys)).apdu.message_code
                 not in {f.message_code for f in default_tables().for_srv(first.request.service_reference_variant)})
    pre = codec.decode(run(other, keys)).apdu
    rid = first.request.request_id
    moved = dataclasses.replace(pre, originator=rid.originator, recipient=rid.target, signature=bytes(64))
    signed = codec.sign_apdu(moved, keys)
    with pytest.raises(PreCommandMalformed):
        finish_signed_precommand(_signed_request(first, bytes(signed)), keys=keys)


def _int_bound() -> list[tuple[rtds.Template, str, tuple[Any, ...]]]:
    keys = KeyStore.from_reference()
    out = []
    for t in rtds.in_scope():
        try:
            form = form_of(t, keys)
        except CommandNotTabulated:
            continue
        values = fields.leaves(t.request.body)
        b = next((b for b in form.bindings if b.conversion == "int" and b.at and b.source in values
                  and not b.source.startswith("@") and values[b.source].isdigit()), None)
        if b is not None:
            out.append((t, b.source, b.at))
    return out


@pytest.mark.parametrize(("template", "path", "at"), _int_bound(), ids=lambda x: getattr(x, "name", str(x)))
def test_a_changed_request_value_is_the_commanded_value(template: rtds.Template, path: str,
                                                       at: tuple[Any, ...], keys: KeyStore) -> None:
    """Bindings are live: the value in the payload follows the request, not the skeleton."""
    root = parse_xml((rtds.REF / "duis" / "templates" / template.name).read_bytes())
    request = read_request(root)
    element = fields.element_at(request.body, path)
    assert element is not None and element.text is not None
    new = int(element.text) + 1 if int(element.text) < 200 else int(element.text) - 1
    element.text = str(new)
    view = codec.to_json(codec.decode(run(template, keys, request)))["Payload"]["Decoded"]
    assert _at(view, list(at)) == new


def test_a_form_for_another_branch_of_the_body_is_not_chosen(keys: KeyStore) -> None:
    """SRV 1.6 to an ESME saying `Credit` is ECS02, not ECS03 (whose form was learned from a
    request saying `Prepayment`): with no ECS02 form it is not tabulated, never an ECS03."""
    credit = next(t for t in rtds.in_scope() if t.request.service_reference_variant == "1.6"
                  and t.request.body.find("{*}Credit") is not None)
    try:
        result = transform(credit.request, now=NOW, counter=DCC_COUNTER, keys=keys, device_type="ESME")
    except CommandNotTabulated:
        return
    assert result.use_case == "ECS02"


def _critical_with_shared_form() -> list[rtds.Template]:
    """Critical templates whose Pre-Command comes from a form learned under another SRV."""
    keys = KeyStore.from_reference()
    out = []
    for t in _critical():
        own = {f.message_code for f in default_tables().for_srv(t.request.service_reference_variant)}
        if codec.decode(run(t, keys)).apdu.message_code not in own:
            out.append(t)
    return out


@pytest.mark.parametrize("template", _critical_with_shared_form(), ids=lambda t: t.name)
def test_signed_pre_command_of_a_shared_form_is_accepted(template: rtds.Template, keys: KeyStore) -> None:
    """8.1.1 Commission Device on a GSME is GCS28, learned under 6.11: the user-signed
    Pre-Command the Transform gave is a use case of 8.1.1 too."""
    pre = codec.decode(run(template, keys)).apdu
    signed = codec.sign_apdu(dataclasses.replace(pre, signature=bytes(64)), keys)
    result = finish_signed_precommand(_signed_request(template, bytes(signed)), keys=keys)
    assert codec.decode(result.gbcs, keys).mac_check is Verification.VERIFIED
