"""Build `src/opendcc/core/transform/commands.json` from the RTDS vectors and DUIS templates.

    .venv/bin/python tests/core/transform/make_tables.py

For every RTDS Command / Pre-Command vector: the decoded payload becomes a form's skeleton,
and each payload value that equals a value of the paired DUIS template (or the RequestID's
originator, target or counter) under one of the named conversions becomes a binding. The
pairing is by file name (the template whose name shares the longest prefix with the vector's,
same use-case variant and SRV). The output is data the transform reads; re-run this after the
reference material grows. Nothing of the reference is needed at run time.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography import x509

from opendcc.config import reference_dir
from opendcc.core.transform import fields
from opendcc.core.transform.content import build_repeat
from opendcc.core.transform.conversions import ConversionError, convert
from opendcc.core.transform.tables import Binding, Repeat
from opendcc.duis.catalogue import load_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.gbcs import codec
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.gbcs.payload.asn1 import Asn1Value, encode_value
from opendcc.smki.keystore import KeyStore, role_of

OUT = Path(__file__).resolve().parents[3] / "src/opendcc/core/transform/commands.json"
#: Payload keys that name structure, never a request value.
STRUCTURAL = frozenset({"@type", "class_id", "instance_id", "attribute_id", "method_id", "command",
                        "tag_class", "tag_number", "extended_header_cluster_id",
                        "extended_header_control_field", "frame_control", "command_identifier",
                        "unused_bits", "#"})
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: Enumeration words (not numbers, dates, booleans or base64).
WORD = re.compile(r"^[A-Za-z][A-Za-z_ ]*$")
#: The RTDS test estate: the device type of each recipient the vectors address.
RTDS_DEVICES = {"00-DB-12-34-56-78-90-A0": "ESME", "00-DB-12-34-56-78-90-A1": "GSME",
                "00-DB-12-34-56-78-90-A2": "CHF", "00-DB-12-34-56-78-90-A3": "GPF"}
SPECIALS = ("@counter", "@request_counter", "@originator", "@target", "@sender")
SPECIAL_CONVERSIONS = ("transaction-id", "counter-hex", "eui-hex")
INT_CONVERSIONS = ("int", "decimal-int", "zcl-utc", *(f"decimal-e{k}" for k in range(1, 7)))
#: Fields of a COSEM date that DUIS gives as separate elements, by the element's name.
DATE_PARTS = {"SpecifiedYear": "date-year", "SpecifiedMonth": "date-month",
              "SpecifiedDayOfMonth": "date-day"}
OCTET_CONVERSIONS = ("hex", "eui-hex", "base64-hex", "uint8-hex", "cosem-datetime", "cosem-date",
                     "cosem-time", "utf8-hex")
TEXT_CONVERSIONS = ("text",)


def shared_prefix(a: str, b: str) -> int:
    """How many leading characters two names share."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def strip_notes(node: Any) -> Any:
    """The payload JSON without the '#' notes for people."""
    if isinstance(node, dict):
        return {k: strip_notes(v) for k, v in node.items() if k != "#"}
    if isinstance(node, list):
        return [strip_notes(v) for v in node]
    return node


def payload_leaves(node: Any, path: tuple[Any, ...] = (), kind: str | None = None
                   ) -> Iterator[tuple[tuple[Any, ...], Any, str | None]]:
    """(path, value, A-XDR type of the holder) of every value leaf."""
    if isinstance(node, dict):
        holder = node.get("@type") if isinstance(node.get("@type"), str) else None
        for k, v in node.items():
            if k in STRUCTURAL:
                continue
            yield from payload_leaves(v, (*path, k), holder)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from payload_leaves(v, (*path, i), kind)
    else:
        yield path, node, kind


def conversions_for(value: Any, kind: str | None) -> tuple[str, ...]:
    if isinstance(value, bool):
        return ("bool",)
    if value is None:
        return ()
    if isinstance(value, int):
        return INT_CONVERSIONS
    if kind == "octet-string":
        return OCTET_CONVERSIONS
    if kind is not None and "string" in kind:
        return TEXT_CONVERSIONS
    return OCTET_CONVERSIONS + TEXT_CONVERSIONS if value else ()


def matches(conversion: str, text: str, value: Any) -> bool:
    if conversion == "utf8-hex" and len(text) < 3:
        return False  # one or two characters match octets by chance (digit "0" is 0x30)
    try:
        return convert(conversion, text, value) == value
    except (ConversionError, ValueError, OverflowError):
        return False


def infer(skeleton: Any, content: bytes, request: DuisRequest, specials: dict[str, str]) -> list[list[Any]]:
    body = fields.leaves(request.body)
    body = {p: t for p, t in body.items() if t}
    for path, text in body.items():  # a whole DER payload given as base64 (certificates)
        if matches("base64-hex", text, content.hex()):
            return [[[], path, "base64-hex"]]
    used: set[str] = set()
    out: list[list[Any]] = []
    order = list(body)
    position = {p: i for i, p in enumerate(order)}
    last = -1
    for at, value, kind in payload_leaves(skeleton):
        if at == ("date_time",) and value == "":
            if "ExecutionDateTime" in body:
                continue
            continue
        found = None
        key = at[-1] if at else None
        for src in SPECIALS:
            convs = ("invoke-id",) if key == "long_invoke_id_and_priority" else SPECIAL_CONVERSIONS
            for conv in convs:
                if matches(conv, specials[src], value):
                    found = [list(at), src, conv]
                    break
            if found:
                break
        if found is None and key != "long_invoke_id_and_priority" and value != "":
            convs = conversions_for(value, kind)
            # Prefer the request's next value after the last one bound (payloads list values
            # in the order DUIS does), then any unused one, then any.
            after = [p for p in order[last + 1:] if p not in used]
            for pool in (after, [p for p in body if p not in used], list(body)):
                for path in pool:
                    conv = next((c for c in convs if matches(c, body[path], value)), None)
                    if conv is not None:
                        found = [list(at), path, conv]
                        break
                if found:
                    break
        if found:
            used.add(found[1])
            out.append(found)
            if found[1] in position:
                last = position[found[1]]
        elif kind == "octet-string" and isinstance(value, str) and len(value) in (10, 24):
            out += date_parts(at, value, body, used)
    out += by_shape(skeleton, body, used, {tuple(b[0]) for b in out})
    return with_certificates(skeleton, body, used, out)


def skeleton_certificates(node: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of the ASN.1 subtrees of a payload that are whole X.509 certificates."""
    if isinstance(node, dict):
        if node.get("@type") == "SEQUENCE":
            try:
                x509.load_der_x509_certificate(encode_value(Asn1Value.from_json(node)))
                return [at]
            except (ValueError, GbcsError):
                pass
        return [p for k, v in node.items() for p in skeleton_certificates(v, (*at, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in skeleton_certificates(v, (*at, i))]
    return []


def with_certificates(skeleton: Any, body: dict[str, str], used: set[str],
                      bind: list[list[Any]]) -> list[list[Any]]:
    """Certificates the payload carries as ASN.1 subtrees, bound in document order to the
    request's certificates (replacement and certification-path certificates of CS02b); the
    leaf bindings found inside them (chance matches) give way."""
    paths = skeleton_certificates(skeleton)
    given = [p for p, t in body.items() if p not in used and is_certificate(t)]
    if not paths or len(given) != len(paths):
        return bind
    kept = [b for b in bind if not any(tuple(b[0][: len(p)]) == p for p in paths)]
    for at, source in zip(paths, given, strict=True):
        kept.append([list(at), source, "der-asn1"])
        used.add(source)
    return kept


def _digits(value: Any) -> str | None:
    try:
        text = bytes.fromhex(value).decode("ascii") if isinstance(value, str) else ""
    except (ValueError, UnicodeDecodeError):
        return None
    return text if text.isdigit() else None


def _cosem_year(value: Any) -> bool:
    if not (isinstance(value, str) and len(value) == 24):
        return False
    try:
        return 2000 <= int(value[:4], 16) <= 2100
    except ValueError:
        return False


def by_shape(skeleton: Any, body: dict[str, str], used: set[str], bound: set[tuple[Any, ...]]
             ) -> list[list[Any]]:
    """Second pass, where the vector's values differ from the template's: bind an unbound
    payload value to the next unused DUIS value of the same unmistakable shape, in document
    order: digit strings of the same length (MPANs, UTRNs), COSEM date-times with a real
    year, ZCL times (fields named *time*) and xs:dateTime values."""
    out: list[list[Any]] = []
    free = [p for p in body if p not in used]
    for at, value, kind in payload_leaves(skeleton):
        if tuple(at) in bound or at == ("date_time",):
            continue
        key = str(at[-1]) if at else ""
        digits = _digits(value) if kind == "octet-string" else None
        for path in free:
            text = body[path]
            if digits is not None and len(digits) >= 6 and text.isdigit() and len(text) == len(digits):
                conv = "utf8-hex"
            elif _cosem_year(value) and kind == "octet-string" and DATETIME.match(text):
                conv = "cosem-datetime"
            elif (isinstance(value, int) and not isinstance(value, bool) and "time" in key
                  and 0x1C000000 <= value < 0x50000000 and DATETIME.match(text)):
                conv = "zcl-utc"
            else:
                continue
            out.append([list(at), path, conv])
            free.remove(path)
            used.add(path)
            break
    return out


def date_parts(at: tuple[Any, ...], value: str, body: dict[str, str], used: set[str]) -> list[list[Any]]:
    """Bindings for a COSEM date whose year, month and day come from separate DUIS elements
    (SpecifiedYear, ...) under one parent: the first parent whose parts all match."""
    parents: dict[str, dict[str, str]] = {}
    for path in body:
        parent, _, name = path.rpartition("/")
        if name in DATE_PARTS and path not in used:
            parents.setdefault(parent.rsplit("/", 1)[0], {})[path] = DATE_PARTS[name]
    for parts in parents.values():
        if all(matches(conv, body[p], value) for p, conv in parts.items()):
            used.update(parts)
            return [[list(at), p, conv] for p, conv in parts.items()]
    return []


def node_at(tree: Any, path: list[Any] | tuple[Any, ...]) -> Any:
    for step in path:
        tree = tree[step]
    return tree


def array_position(skeleton: Any, at: list[Any]) -> int | None:
    """Where the deepest xDLMS array element sits in a payload path (its index's position)."""
    for j in range(len(at) - 1, 0, -1):
        if isinstance(at[j], int) and at[j - 1] == "elements":
            holder = node_at(skeleton, at[: j - 1])
            if isinstance(holder, dict) and holder.get("@type") == "array":
                return j
    return None


def find_repeats(skeleton: Any, bind: list[list[Any]], body: dict[str, str],
                 repeated_names: set[str]) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Group bindings into repeat groups: an xDLMS array whose k-th element is filled from the
    k-th item of one repeated DUIS element. Returns the groups and the bindings left scalar."""
    groups: dict[tuple[Any, ...], list[list[Any]]] = {}
    for b in bind:
        at, source = b[0], b[1]
        if source.startswith("@"):
            continue
        j = array_position(skeleton, at)
        if j is not None:
            groups.setdefault(tuple(at[:j]), []).append(b)
    repeats: list[dict[str, Any]] = []
    grouped: set[int] = set()
    for array_at, members in sorted(groups.items(), key=lambda kv: -len(kv[0])):
        j = len(array_at)
        if any(len(a) < len(array_at) for a in (g[0] for g in members)):
            continue
        array = node_at(skeleton, array_at)
        # The repeated DUIS element most members agree on (step number = array position + 1);
        # members that disagree are chance matches of small numbers and give way.
        votes: dict[tuple[int, str], list[list[Any]]] = {}
        for m in members:
            x = m[1].split("/")
            for s in range(len(x)):
                if fields.split_step(x[s])[1] == m[0][j] + 1:
                    key = (s, "/".join([*x[:s], fields.split_step(x[s])[0]]))
                    votes.setdefault(key, []).append(m)
        if not votes:
            continue
        (choice, _), agreeing = max(votes.items(), key=lambda kv: (len(kv[1]), kv[0][0]))
        dropped = [m for m in members if not any(m is a for a in agreeing)]
        members = agreeing
        steps = [m[1].split("/") for m in members]
        over = "/".join([*steps[0][:choice], fields.split_step(steps[0][choice])[0]])
        name = over.rsplit("/", 1)[-1]
        if len(array) < 2 and name not in repeated_names:
            continue
        if len(instances(over, body)) != len(array) or {m[0][j] for m in members} != set(range(len(array))):
            continue
        # One source per element field: the one most elements agree on.
        options: dict[str, list[tuple[str, str]]] = {}
        for x, m in zip(steps, members, strict=True):
            options.setdefault(json.dumps(m[0][j + 1:]), []).append(("/".join(x[choice + 1:]), m[2]))
        rel = sorted((a, *max(set(opts), key=opts.count)) for a, opts in options.items())
        if any(list(r["at"][:j]) == list(array_at) for r in repeats):
            continue  # an outer array would repeat an inner group: leave it as it is
        bound = [json.loads(a) for a, _, _ in rel]
        numbering = explain_numbering(array, bound, item_leaves(over, body))
        if numbering is None:
            continue  # elements differ where no DUIS value says why: keep them as they are
        group = {"at": list(array_at), "over": over, "element": array[0],
                 "bind": [[json.loads(a), src, conv] for a, src, conv in rel] + numbering}
        if not rebuilds(group, array, body):
            continue  # the group would not give back the template's own array
        repeats.append(group)
        grouped.update(id(m) for m in members + dropped)
    return repeats, [b for b in bind if id(b) not in grouped]


def rebuilds(group: dict[str, Any], array: list[Any], body: dict[str, str]) -> bool:
    """Whether the group, run on the template's own items, gives the vector's array."""
    repeat = Repeat(tuple(group["at"]), group["over"], group["element"],
                    tuple(Binding(tuple(b[0]), b[1], b[2]) for b in group["bind"]))
    try:
        return build_repeat(repeat, body, "check") == array
    except Exception:
        return False


def item_leaves(over: str, body: dict[str, str]) -> list[dict[str, str]]:
    """The leaves of each item of the repeated DUIS element `over`, relative to the item."""
    parent, _, name = over.rpartition("/")
    out = []
    for number in instances(over, body):
        step = fields.join_step(name, number)
        prefix = f"{parent}/{step}" if parent else step
        out.append({p[len(prefix) + 1:]: t for p, t in body.items() if p.startswith(prefix + "/")})
    return out


def explain_by_words(values: list[Any], items: list[dict[str, str]]) -> tuple[str, str] | None:
    """A DUIS field of the items that says what a differing payload leaf is: a word whose
    value the leaf follows one-to-one (`map:`), or a list of day names giving a weekday
    bit-string (`weekday-bits`)."""
    if len(items) != len(values):
        return None
    for rel in items[0]:
        words = [item.get(rel) for item in items]
        if all(w is not None and WORD.match(w) for w in words) and all(
                isinstance(v, int | str) and not isinstance(v, bool) for v in values):
            table: dict[str, Any] = {}
            if all(table.setdefault(w, v) == v for w, v in zip(words, values, strict=True)) and \
                    len(set(map(str, table.values()))) == len(table):
                return rel, "map:" + ",".join(f"{w}={v}" for w, v in table.items())
    containers = {r.rsplit("/", 2)[0] for r in items[0] if r.endswith("DayOfWeekID") and r.count("/") >= 2}
    for container in containers:
        texts = ["\n".join(t for p, t in item.items() if p.startswith(container + "/")) for item in items]
        if all(matches("weekday-bits", text, v) for text, v in zip(texts, values, strict=True)):
            return container, "weekday-bits"
    return None


def explain_numbering(array: list[Any], bound: list[list[Any]],
                      items: list[dict[str, str]] | None = None) -> list[list[Any]] | None:
    """Bindings for the leaves that differ between the array's elements but no DUIS value
    fills: the item number (1-based, `@item`) or position (0-based, `@position`), as an
    integer or one octet, or an enumeration word or day list of the item (explain_by_words).
    None when some differing leaf follows none of them."""
    leaves = [dict((tuple(p), v) for p, v, _ in payload_leaves(e)) for e in array]
    out: list[list[Any]] = []
    for path in leaves[0]:
        if list(path) in bound:
            continue
        values = [lv.get(path) for lv in leaves]
        if all(v == values[0] for v in values):
            continue
        found = None
        for source, first in (("@item", 1), ("@position", 0)):
            for conv in ("int", "uint8-hex"):
                if all(matches(conv, str(k + first), v) for k, v in enumerate(values)):
                    found = [list(path), source, conv]
                    break
            if found:
                break
        if found is None and items:
            words = explain_by_words(values, items)
            if words is not None:
                found = [list(path), words[0], words[1]]
        if found is None:
            return None
        out.append(found)
    return out


def instances(over: str, body: dict[str, str]) -> list[int]:
    """The item numbers of the repeated DUIS element `over` present in a request body."""
    parent, _, name = over.rpartition("/")
    prefix = f"{parent}/" if parent else ""
    found = set()
    for path in body:
        if not path.startswith(prefix):
            continue
        step = path[len(prefix):].split("/", 1)[0]
        if fields.split_step(step)[0] == name:
            found.add(fields.split_step(step)[1])
    return sorted(found)


def is_certificate(text: str) -> bool:
    try:
        x509.load_der_x509_certificate(base64.b64decode("".join(text.split()), validate=True))
    except ValueError:
        return False
    return True


def roles_of(request: DuisRequest, keys: KeyStore) -> list[int]:
    cert = keys.certificate(request.request_id.originator, "ds")
    role = role_of(cert) if cert is not None else None
    return [] if role is None else [role]


def borrowed_template(variant: str, srv: str, templates: dict[str, tuple[str, DuisRequest]],
                      stems: dict[str, Any], codes: list[str], catalogue: Any) -> str | None:
    """A template of another SRV to learn bindings from, when the vector's own variant has
    none: the same use case, which GBCS gives a single message code (so the command is the
    same whichever SRV asks), an SRV of the same criticality, and a variant without vectors
    of its own (e.g. GCS28 via 8.1.1 Commission Device for GCS28 via 6.11)."""
    code = next((c for c in codes if variant.startswith(c)), None)
    if code is None or sum(1 for uc in USE_CASE_BY_CODE.values() if uc == code) != 1:
        return None
    vector_variants = {s.split("_")[0] for s in stems}
    for name, (_, request) in sorted(templates.items()):
        other = name.split("_")[0]
        if (other not in vector_variants and other.startswith(code)
                and next((c for c in codes if other.startswith(c)), None) == code
                and request.service_reference_variant in catalogue
                and catalogue.get(request.service_reference_variant).critical == catalogue.get(srv).critical):
            return name
    return None


def find_discriminators(templates: dict[str, tuple[str, DuisRequest]]) -> dict[str, set[str]]:
    """Per SRV, the body paths whose enumeration word tells its use-case variants apart: the
    same within each variant's templates, different between variants (e.g. RemotePartyRole)."""
    by_srv: dict[str, dict[str, dict[str, set[str]]]] = {}
    for stem, (_, request) in templates.items():
        variant = stem.split("_")[0]
        for path, text in fields.leaves(request.body).items():
            if WORD.match(text) and text.lower() not in ("true", "false"):
                (by_srv.setdefault(request.service_reference_variant, {})
                 .setdefault(path, {}).setdefault(variant, set()).add(text))
    out: dict[str, set[str]] = {}
    for srv, paths in by_srv.items():
        for path, per_variant in paths.items():
            if len(per_variant) < 2 or any(len(v) > 1 for v in per_variant.values()):
                continue
            values = [next(iter(v)) for v in per_variant.values()]
            if len(set(values)) == len(values):
                out.setdefault(srv, set()).add(path)
    return out


def read_hex(path: Path) -> bytes:
    return bytes.fromhex("".join(path.read_text().split()))


def main() -> int:
    ref = reference_dir()
    catalogue = load_catalogue()
    templates: dict[str, tuple[str, DuisRequest]] = {}
    for p in sorted((ref / "duis" / "templates").glob("*.XML")):
        try:
            request = read_request(parse_xml(p.read_bytes()))
        except Exception:
            continue
        if request.service_reference_variant not in catalogue:
            continue
        templates[p.name.removesuffix("_REQUEST_DUIS.XML")] = (p.name, request)
    try:
        from opendcc.devices.use_cases import USE_CASES
        devices = {code: [uc.device.value] for code, uc in USE_CASES.items()}
    except ImportError:
        devices = {}
    stems: dict[str, dict[str, Path]] = {}
    for p in sorted((ref / "gbcs" / "rtds").glob("*/*COMMAND_GBCS.HEX")):
        kind = "PRECOMMAND" if p.name.endswith("_PRECOMMAND_GBCS.HEX") else "COMMAND"
        stem = p.name.removesuffix(f"_{kind}_GBCS.HEX")
        stems.setdefault(stem, {})[kind] = p
    discriminators = find_discriminators(templates)
    table = json.loads((ref / "gbcs" / "use-case-table.json").read_text())
    codes = sorted({str(row["Code"]) for row in table}, key=len, reverse=True)
    repeated_names = {fields.split_step(step)[0] for _, r in templates.values()
                      for path in fields.leaves(r.body) for step in path.split("/")
                      if fields.split_step(step)[1] > 1}
    keys = KeyStore.from_reference()
    forms: list[dict[str, Any]] = []
    seen: set[str] = set()
    order = sorted(stems, key=lambda s: ("ERROR" in s, s))
    variants_with_success = {s.split("_")[0] for s in stems if "SUCCESS" in s}
    for stem in order:
        if "SUCCESS" not in stem and stem.split("_")[0] in variants_with_success:
            continue  # ERROR / NOT_FOUND commands are deliberately odd: not a form to build from
        variant, srv_token = stem.split("_")[:2]
        path = stems[stem].get("COMMAND") or stems[stem]["PRECOMMAND"]
        msg = codec.decode(read_hex(path))
        view = codec.to_json(msg)
        decoded = view["Payload"].get("Decoded")
        if decoded is None:
            print(f"skip {stem}: payload not decoded", file=sys.stderr)
            continue
        skeleton = strip_notes(decoded)
        apdu = msg.apdu
        oi = apdu.other_information
        candidates = [t for t in templates if t.split("_")[0] == variant]
        pair = max(candidates, key=lambda t: (shared_prefix(t, stem), t), default=None)
        srv = templates[pair][1].service_reference_variant if pair else srv_token
        if pair is None and srv_token in catalogue:
            pair = borrowed_template(variant, srv_token, templates, stems, codes, catalogue)
        if srv not in catalogue:
            print(f"skip {stem}: SRV {srv_token} not in the catalogue", file=sys.stderr)
            continue
        on_behalf = oi.remote_party_id is not None
        bind: list[list[Any]] = []
        repeat: list[dict[str, Any]] = []
        ka_path = None
        when: dict[str, str] = {}
        dating = ("cancel" if "CANCELLATION" in stem else "future" if "FUTURE_DATED" in stem
                  else "immediate")
        if pair is not None:
            request = templates[pair][1]
            rid = request.request_id
            specials = {"@counter": str(apdu.originator_counter), "@request_counter": str(rid.counter),
                        "@originator": rid.originator.hyphenated, "@target": rid.target.hyphenated,
                        "@sender": apdu.originator.hyphenated}
            bind = infer(skeleton, apdu.content, request, specials)
            repeat, bind = find_repeats(skeleton, bind, fields.leaves(request.body), repeated_names)
            bound_paths = {b[1] for b in bind} | {r["over"] for r in repeat}
            when = {p: t for p, t in fields.leaves(request.body).items()
                    if p in discriminators.get(srv, ())
                    or (WORD.match(t) and p not in bound_paths
                        and not any(p.startswith(o + "/") or p.startswith(o + "[")
                                    for o in bound_paths))}
            if oi.remote_party_ka_certificate is not None:
                ka_path = next((p for p, t in fields.leaves(request.body).items()
                                if matches("base64-hex", t, oi.remote_party_ka_certificate.hex())), None)
                if ka_path is None:  # the template carries another certificate in the same place
                    ka_path = next((p for p, t in fields.leaves(request.body).items()
                                    if is_certificate(t)), None)
                if ka_path is None:
                    print(f"{stem}: no KA certificate in the template", file=sys.stderr)
        use_case = msg.use_case.code
        form = {
            "name": f"{variant} {srv} {stem.split('_', 2)[2] if stem.count('_') >= 2 else ''}".strip(),
            "use_case": use_case,
            "srv": srv,
            "message_code": f"{oi.message_code:04X}",
            "devices": sorted({*devices.get(use_case, []), *[d for d in [RTDS_DEVICES.get(apdu.recipient.hyphenated)] if d]}),
            "sender": apdu.originator.hyphenated if on_behalf else None,
            "remote_party_counter": oi.remote_party_counter is not None,
            "remote_party_ka_certificate": ka_path,
            "dating": dating,
            "exact": pair == stem,
            "learned": pair is not None,
            "when": when,
            "paths": sorted(fields.leaves(templates[pair][1].body)) if pair == stem else [],
            "roles": roles_of(templates[pair][1], keys) if pair else [],
            "template": pair,
            # a payload the request gives whole (a certificate) needs no skeleton
            "payload": None if any(not b[0] for b in bind) else skeleton,
            "bind": bind,
            "repeat": repeat,
        }
        key = json.dumps({k: v for k, v in form.items() if k not in ("name", "template")}, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        forms.append(form)
    service: dict[str, list[str]] = {}
    for row in table:
        for sr in str(row.get("Service Reference") or "").replace(";", ",").split(","):
            sr = sr.strip()
            if sr and sr[0].isdigit():
                service.setdefault(sr, []).append(str(row["Code"]))
    named = [(n.split("_")[0], r.service_reference_variant) for n, (_, r) in templates.items()]
    named += [(s.split("_")[0], s.split("_")[1]) for s in stems]
    for variant, srv in named:  # "See GBCS" rows: the RTDS names tie the use case to its SRV
        code = next((c for c in codes if variant.startswith(c)), None)
        if code is not None and srv in catalogue and code not in service.get(srv, []):
            service.setdefault(srv, []).append(code)
    lines = ",\n".join(json.dumps(f, separators=(",", ":")) for f in forms)
    OUT.write_text(
        '{"_comment":"GBCS command forms per use case: payload skeleton (payload codec JSON) and '
        'bindings [payload path, DUIS body path or @source, conversion]. Built by '
        'tests/core/transform/make_tables.py from the RTDS vectors; see docs/transform.md.",\n'
        f'"service_use_cases":{json.dumps(service, separators=(",", ":"))},\n'
        f'"forms":[\n{lines}\n]}}\n', encoding="utf-8")
    print(f"{len(forms)} forms, {len({f['use_case'] for f in forms})} use cases -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
