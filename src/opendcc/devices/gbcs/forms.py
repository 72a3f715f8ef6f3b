"""Response forms: built from GBCS where it says enough, else learned at run time from RTDS.

A DLMS Command of sets and data-less actions gets a Response GBCS fixes from the Command
alone (`built_form`). For the others, the RTDS vectors in the reference folder
(`opendcc.config.reference_dir()`, GPL-3.0 test data read by path and never copied into
this repository) show the structure. `learn_response_forms` reads each COMMAND
vector of a use case the emulated devices serve and its RESPONSE partner, and keeps the
Response's payload view under the shape of the command (`templates.shape_key`), one for
success and one for a refusal where RTDS shows it.

Only the structure is kept: every data value of the vector is replaced by a neutral one
(zero, zero octets, empty text, COSEM "not specified" date-time) before the form is stored,
so nothing a device answers comes from the vectors; the device fills what it models
(`values.py`).
What stays is what GBCS fixes, not what a meter measured: `@type`s and field names, list
lengths, result and status codes, COSEM scaler-units and object definitions (class, OBIS,
attribute), ZCL attribute identifiers and cluster/command ids.

Learning takes about 0.2 s, so the forms are learned on first use and kept in memory only
(no copy is written anywhere).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from opendcc.config import reference_dir
from opendcc.devices.gbcs.authored_electricity import response_form as authored_response_form
from opendcc.devices.gbcs.authored_gas_hub import response_form as gas_hub_response_form
from opendcc.devices.gbcs.authored_gas_tariff import response_form as gas_tariff_response_form
from opendcc.devices.gbcs.authored_more import response_form as more_response_form
from opendcc.devices.gbcs.dating import FUTURE_DATABLE
from opendcc.devices.gbcs.errors import ResponseFormsUnavailable
from opendcc.devices.gbcs.settings import served
from opendcc.devices.gbcs.templates import ResponseForm, shape_key
from opendcc.gbcs import decode, security
from opendcc.gbcs.codec import GbcsMessage, encryption_key
from opendcc.gbcs.payload.axdr import Data, decode_data, encode_data
from opendcc.gbcs.payload.gbz import GbzComponent, decode_deciphered_zcl, encode_zcl_payload
from opendcc.gbcs.payload.zcl_clusters import LAYOUTS, Item, Repeat, Variant
from opendcc.gbcs.payloads import payload_json
from opendcc.gbcs.security import KeyLookup
from opendcc.smki.keystore import KeyStore

#: Response forms by use case.
ResponseForms = dict[str, tuple[ResponseForm, ...]]

#: Where the vectors are, under the reference folder.
RTDS = Path("gbcs") / "rtds"
#: COSEM date-time with every field "not specified" (year 0xFFFF, deviation 0x8000).
_DATE_TIME_NOT_SPECIFIED = "ffffffffffffffffff8000ff"
_DATE_TIME_OCTETS = 12
#: COSEM date (year, month, day, weekday): neutral as "not specified" (0xFF) too.
_DATE_OCTETS = 5
#: ASN.1 INTEGERs that are outcomes (GBCS response codes), not data.
_ASN1_OUTCOME = re.compile(r"response|code|status", re.IGNORECASE)


def _structural_fields(items: tuple[Item, ...]) -> set[str]:
    """Names of ZCL command fields that lay the payload out (variant selectors, group counts)."""
    out: set[str] = set()
    for item in items:
        if isinstance(item, Variant):
            out.add(item.selector)
            for case in item.cases.values():
                out |= _structural_fields(case)
        elif isinstance(item, Repeat):
            out |= {item.count} if item.count else set()
            out |= _structural_fields(item.fields)
    return out


#: Fields of a ZCL cluster command that are outcomes or layout, not data.
_ZCL_KEPT_FIELDS = frozenset({"result_type"}).union(
    *(_structural_fields(layout.items) for layout in LAYOUTS.values()))
#: Payload view keys that carry notes for people.
_NOTE = "#"


# ---------------------------------------------------------------------------------------------
# Neutral values: the structure of a vector's payload view without its data.


def _neutral_octets(text: str) -> str:
    """Zero octets of the same length; text (a name) becomes empty, a COSEM date or
    date-time "not specified"."""
    try:
        octets = bytes.fromhex(text)
    except ValueError:
        return ""
    if len(octets) == _DATE_TIME_OCTETS:
        return _DATE_TIME_NOT_SPECIFIED
    if len(octets) == _DATE_OCTETS:
        return "ff" * _DATE_OCTETS
    if octets and all(0x20 <= b < 0x7F for b in octets):
        return ""
    return "00" * len(octets)


def _neutral_leaf(value: Any) -> Any:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0
    if isinstance(value, str):
        return _neutral_octets(value)
    return value


def _is_scaler_unit(elements: list[Any]) -> bool:
    """COSEM scaler_unit: structure {integer scaler, enum unit} (fixed by GBCS per register)."""
    return [e.get("@type") for e in elements] == ["integer", "enum"]


def _is_object_definition(elements: list[Any]) -> bool:
    """COSEM capture object / object definition: {class_id, logical_name, attribute, ...}."""
    kinds = [e.get("@type") for e in elements]
    return len(kinds) in (3, 4) and kinds[:3] == ["long-unsigned", "octet-string", "integer"] \
        and len(bytes.fromhex(elements[1].get("value", ""))) == 6


def neutral(view: Any, component: Any = None) -> Any:
    """The payload view with each data value neutral and its GBCS structure kept."""
    if isinstance(view, list):
        return [neutral(v, component) for v in view]
    if not isinstance(view, dict):
        return view
    kind = view.get("@type", "")
    if kind == "structure" and (_is_scaler_unit(view["elements"])
                                or _is_object_definition(view["elements"])):
        return {k: v for k, v in view.items() if k != _NOTE}
    if kind == "gbz-component":
        component = view
    out: dict[str, Any] = {}
    for key, value in view.items():
        if key == _NOTE:
            continue
        if key == "plaintext":
            out[key] = _neutral_plaintext(bytes.fromhex(value), component).hex()
        elif key in ("ciphertext", "authentication_tag"):
            out[key] = "00" * len(bytes.fromhex(value))  # sealed again from the plaintext
        elif key == "bits":
            out[key] = "0" * len(value)
        elif key == "octets" and kind == "BIT STRING" and isinstance(value, str):
            out[key] = "00" * len(bytes.fromhex(value))  # e.g. a certificate's public key
        elif key == "fields" and kind == "cluster-command":
            out[key] = _neutral_fields(value)
        elif key == "value" and not isinstance(value, (dict, list)):
            keep = kind == "INTEGER" and _ASN1_OUTCOME.search(str(view.get("name", "")))
            out[key] = value if keep else _neutral_time(value) if kind == "GeneralizedTime" \
                else _neutral_leaf(value)
        else:
            out[key] = neutral(value, component)
    return out


def _neutral_fields(fields: Any) -> Any:
    """ZCL cluster command fields, neutral but for outcomes, selectors and group counts."""
    if isinstance(fields, list):
        return [_neutral_fields(f) for f in fields]
    if not isinstance(fields, dict):
        return _neutral_leaf(fields)
    return {k: v if k in _ZCL_KEPT_FIELDS else _neutral_fields(v) for k, v in fields.items()}


def _neutral_time(value: Any) -> str:
    """ASN.1 GeneralizedTime: the epoch (the device fills its own time where it keeps one)."""
    return "19700101000000Z" if isinstance(value, str) else value


def _neutral_plaintext(plaintext: bytes, component: Any) -> bytes:
    """The content of an encrypted part, neutral: GBZ read records or DLMS protected data."""
    if component is None:
        data = decode_data(plaintext).to_json()
        return encode_data(Data.from_json(neutral(data)))
    part = dict(component)
    frame = dict(part["zcl_frame"])
    frame["payload"] = {k: v for k, v in frame["payload"].items() if k != "plaintext"}
    part["zcl_frame"] = frame
    records = decode_deciphered_zcl(GbzComponent.from_json(part), plaintext)
    return encode_zcl_payload(type(records).from_json(neutral(records.to_json())))


# ---------------------------------------------------------------------------------------------
# Learning from the vectors.


def _with_plaintexts(view: Any, response: GbcsMessage, keys: KeyLookup) -> Any:
    """Mark each encrypted part of the view with its plaintext (hex), opened with the RTDS
    keys, so the device can seal content of the same structure with its own key."""
    key = encryption_key(response.apdu, keys)
    originator = response.apdu.originator

    def walk(node: Any) -> Any:
        if isinstance(node, list):
            return [walk(v) for v in node]
        if not isinstance(node, dict):
            return node
        out = {k: walk(v) for k, v in node.items()}
        if key is None:
            return out
        plain: bytes | None = None
        if node.get("@type") == "ciphered-zcl-payload":
            plain = security.decrypt(key, originator, bytes.fromhex(node["ciphertext"])
                                     + bytes.fromhex(node["authentication_tag"]),
                                     bytes.fromhex(node["security_header"]))
        elif node.get("@type") == "octet-string" and isinstance(node.get("value"), str) \
                and node["value"].startswith(security.ENCRYPTION_HEADER.hex()):
            raw = bytes.fromhex(node["value"])
            header = len(security.ENCRYPTION_HEADER)
            plain = security.decrypt(key, originator, raw[header:], raw[:header])
        if plain is not None:
            out["plaintext"] = plain.hex()
        return out

    return walk(view)


def learn_response_forms(reference: Path) -> ResponseForms:
    """Response forms per use case from the RTDS COMMAND/RESPONSE pairs under `reference`
    (GBCS §7 Response structures), with every vector value made neutral."""
    keys = KeyStore.from_reference(reference)
    rows: dict[str, list[ResponseForm]] = {}
    for path in sorted((reference / RTDS).glob("*/*_COMMAND_GBCS.HEX")):
        partner = path.with_name(path.name.replace("_COMMAND_", "_RESPONSE_"))
        if not partner.exists():
            continue
        command = decode(bytes.fromhex(path.read_text().strip()))
        code = command.use_case.code
        if not served(code):
            continue
        command_shape = shape_key(payload_json(command.payload))
        success = "ERROR" not in path.name
        same = rows.setdefault(code, [])
        if any(r.command_shape == command_shape and r.success == success for r in same):
            continue
        response = decode(bytes.fromhex(partner.read_text().strip()))
        payload = neutral(_with_plaintexts(payload_json(response.payload), response, keys))
        same.append(ResponseForm(code, command_shape, success, bool(response.apdu.signature),
                                 response.apdu.date_time is not None, payload))
    return {code: tuple(forms) for code, forms in rows.items()}


# ---------------------------------------------------------------------------------------------
# Learned once per reference folder, kept in memory (learning takes a fraction of a second).


@cache
def _load(reference: str) -> ResponseForms:
    folder = Path(reference)
    if not (folder / RTDS).is_dir():
        raise ResponseFormsUnavailable(
            f"no RTDS vectors under {folder / RTDS}: the device Response forms are learned "
            f"from them; set OPENDCC_REFERENCE to the reference folder")
    return learn_response_forms(folder)


# ---------------------------------------------------------------------------------------------
# Forms built from GBCS knowledge: no vectors needed.

#: COSEM methods whose action-response carries data (Data Protection, class 30, method 1:
#: the protected attributes; ZigBee Network Control, class 104, method 4: the device log).
#: Every other method and every set answer with null-data and a result.
_ACTIONS_RETURNING_DATA = frozenset({(30, 1), (104, 4)})
#: Use cases whose Response carries the Date-Time in its General Signing header: the ones a
#: user may future-date (GBCS §7.2.10), time-stamped register reads and prepayment top-ups.
DATED_RESPONSES = FUTURE_DATABLE | frozenset({
    "CS01a", "CS01b", "ECS17a", "ECS17b", "ECS17d", "ECS17e", "GCS13a", "GCS13b", "GCS13c",
    "GCS14"})
_RESPONSE_KIND = {"access-request-set": "access-response-set",
                  "access-request-action": "access-response-action"}


def built_form(use_case: str, command_view: Any, *, critical: bool) -> ResponseForm | None:
    """The success Response of a DLMS command of sets and actions that return nothing (GBCS
    §7, DLMS access-response): for each request a null-data and result 0, signed when the
    command is critical; None for any other command (its form is learned)."""
    if not isinstance(command_view, dict) or command_view.get("@type") != "access-request":
        return None
    specs = command_view.get("access_request_list_of_specification") or []
    results: list[dict[str, Any]] = []
    for spec in specs:
        kind = _RESPONSE_KIND.get(spec.get("@type", ""))
        method = spec.get("cosem_method_descriptor") or {}
        if kind is None or (method.get("class_id"), method.get("method_id")) in _ACTIONS_RETURNING_DATA:
            return None
        results.append({"@type": kind, "result": 0})
    if not results:
        return None
    payload = {"@type": "access-response",
               "long_invoke_id_and_priority": command_view.get("long_invoke_id_and_priority", 0),
               "date_time": "", "access_request_specification": None,
               "access_response_list_of_data": [{"@type": "null-data"} for _ in results],
               "access_response_specification": results}
    return ResponseForm(use_case, shape_key(command_view), True, critical,
                        use_case in DATED_RESPONSES, payload)


def forms() -> ResponseForms:
    """Every response form by use case, learned from `opendcc.config.reference_dir()` on
    first use; raises `ResponseFormsUnavailable` (naming OPENDCC_REFERENCE) without it."""
    return _load(str(reference_dir()))


def form_for(use_case: str, command_view: Any, *, success: bool,
             critical: bool = False) -> ResponseForm | None:
    """The response form for a command: built from GBCS knowledge where it can be
    (`built_form`), else learned: same use case and command shape, else the use case's first
    learned form with that outcome, else its first; a use case without learned forms gets
    the Response of a read whose attributes' GBCS types are known
    (`authored_electricity.response_form`), else None. Raises
    `ResponseFormsUnavailable` when a learned form is needed and there is no reference folder."""
    built = built_form(use_case, command_view, critical=critical)
    if built is not None:
        return built
    rows = forms().get(use_case, ())
    if not rows:
        return (authored_response_form(use_case, command_view, critical=critical)
                or gas_hub_response_form(use_case, command_view, success=success,
                                         critical=critical)
                or more_response_form(use_case, command_view, success=success, critical=critical)
                or gas_tariff_response_form(use_case, command_view, success=success,
                                            critical=critical))
    key = shape_key(command_view)
    for candidates in ([r for r in rows if r.command_shape == key and r.success == success],
                       [r for r in rows if r.command_shape == key],
                       [r for r in rows if r.success == success],
                       list(rows)):
        if candidates:
            return candidates[0]
    return None
