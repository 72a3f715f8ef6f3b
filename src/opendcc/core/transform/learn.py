"""Command forms learned from the reference material (GBCS §7 commands, DUIS 5.4 §3.2).

The RTDS Command and Pre-Command vectors and the DUIS templates under the reference folder
(`opendcc.config.reference_dir()`, `OPENDCC_REFERENCE`) are read at run time, never copied into
opendcc. For every vector: its decoded payload becomes a form's skeleton, and each payload
value equal to a value of the paired DUIS template (or the RequestID's originator, target or
counter) under one of the named conversions becomes a binding. The pairing is by file name (the
template whose name shares the longest prefix with the vector's, same use-case variant and
SRV). Values no request gives are then made neutral or left to the DCC (`neutralise`).

Learning takes a few seconds, so `load_command_forms` keeps the result in memory and, keyed by
the names and sizes of the files read (and this code), under `opendcc.config.data_dir()/cache/`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography import x509

from opendcc.config import data_dir
from opendcc.core.transform import fields
from opendcc.core.transform.content import build_repeat
from opendcc.core.transform.conversions import ConversionError, convert
from opendcc.core.transform.device_types import ANY_DEVICE, use_case_device_table
from opendcc.core.transform.errors import CommandFormsUnavailable
from opendcc.core.transform.tables import Binding, CommandTables, Repeat, tables_from_data
from opendcc.duis.catalogue import Catalogue, read_catalogue
from opendcc.duis.parser import parse_xml
from opendcc.duis.request import DuisRequest, read_request
from opendcc.gbcs import codec
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.message_codes import USE_CASE_BY_CODE
from opendcc.gbcs.payload.asn1 import Asn1Value, encode_value
from opendcc.smki.keystore import KeyStore, role_of

TEMPLATES = Path("duis") / "templates"
RTDS = Path("gbcs") / "rtds"
USE_CASE_TABLE = Path("gbcs") / "use-case-table.json"
CATALOGUE = Path("duis") / "request-matrix.json"
#: Payload keys that name structure, never a request value.
STRUCTURAL = frozenset({"@type", "class_id", "instance_id", "attribute_id", "method_id", "command",
                        "tag_class", "tag_number", "extended_header_cluster_id",
                        "extended_header_control_field", "frame_control", "command_identifier",
                        "unused_bits", "#"})
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
#: Enumeration words (not numbers, dates, booleans or base64).
WORD = re.compile(r"^[A-Za-z][A-Za-z_ ]*$")
SPECIALS = ("@counter", "@request_counter", "@originator", "@target", "@sender")  # not @now:
# the time of issue is bound by `derived`, never matched to a vector's value
SPECIAL_CONVERSIONS = ("transaction-id", "counter-hex", "eui-hex")
INT_CONVERSIONS = ("int", "decimal-int", "zcl-utc", *(f"decimal-e{k}" for k in range(1, 7)))
#: Fields of a COSEM date that DUIS gives as separate elements, by the element's name.
DATE_PARTS = {"SpecifiedYear": "date-year", "SpecifiedMonth": "date-month",
              "SpecifiedDayOfMonth": "date-day"}
OCTET_CONVERSIONS = ("hex", "eui-hex", "base64-hex", "uint8-hex", "cosem-datetime", "cosem-date",
                     "cosem-time", "utf8-hex")
TEXT_CONVERSIONS = ("text",)
#: Learning longer than this is worth a file in the cache folder.
CACHE_AFTER_S = 1.0


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
    """Whether `text` under `conversion` gives exactly the payload value `value`."""
    if isinstance(value, int | str) or value is None:
        return _matches_leaf(conversion, text, value)
    return _matches(conversion, text, value)


@lru_cache(maxsize=1 << 16, typed=True)
def _matches_leaf(conversion: str, text: str, value: Any) -> bool:
    # the same request value is tried against the same leaf from several pools
    return _matches(conversion, text, value)


def _matches(conversion: str, text: str, value: Any) -> bool:
    if conversion == "utf8-hex" and len(text) < 3:
        return False  # one or two characters match octets by chance (digit "0" is 0x30)
    try:
        return bool(convert(conversion, text, value) == value)
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
            continue
        found: list[Any] | None = None
        key = at[-1] if at else None
        convs: tuple[str, ...]
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
                    hit = next((c for c in convs if matches(c, body[path], value)), None)
                    if hit is not None:
                        found = [list(at), path, hit]
                        break
                if found:
                    break
        if found:
            used.add(str(found[1]))
            out.append(found)
            if found[1] in position:
                last = position[found[1]]
        elif kind == "octet-string" and isinstance(value, str) and len(value) in (10, 24):
            out += date_parts(at, value, body, used)
    out += by_shape(skeleton, body, used, {tuple(b[0]) for b in out})
    out += derived(skeleton, body, {tuple(b[0]) for b in out})
    out += copies(skeleton, out)
    return with_certificates(skeleton, body, used, out)


def _distinctive(value: Any) -> bool:
    """A value too particular to repeat by chance (a time, an identifier), not a small number."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value >= 1 << 16
    return isinstance(value, str) and len(value) >= 8


def copies(skeleton: Any, bind: list[list[Any]]) -> list[list[Any]]:
    """The same value repeated under the same field name elsewhere in the payload (the period
    of each of a GBZ read's commands) follows the binding of its first occurrence."""
    first: dict[tuple[str, str], list[Any]] = {}
    for b in bind:
        if b[0]:
            value = node_at(skeleton, b[0])
            if _distinctive(value):
                first.setdefault((str(b[0][-1]), json.dumps(value)), b)
    bound = {tuple(b[0]) for b in bind}
    out: list[list[Any]] = []
    for at, value, _ in payload_leaves(skeleton):
        if not at or tuple(at) in bound:
            continue
        origin = first.get((str(at[-1]), json.dumps(value)))
        if origin is not None:
            out.append([list(at), origin[1], origin[2]])
    return out


#: ZigBee UTCTime values of the years the vectors are set in (2014-2042): an id field holding
#: one is the time the command was issued.
ZCL_TIMES = range(0x1C000000, 0x50000000)


def derived(skeleton: Any, body: dict[str, str], bound: set[tuple[Any, ...]]) -> list[list[Any]]:
    """Bindings for values the DCC derives rather than copies, where the vector's value shows
    how: an id field holding a ZigBee UTC time is the time of issue (`@now`); a count field
    equal to the samples a log captured every P seconds holds from a DUIS period's start to
    its end (both included) is that number (`samples:P`)."""
    periods: dict[str, tuple[str, str]] = {}
    for path, text in body.items():
        parent = path.rpartition("/")[0]
        if parent and DATETIME.match(text):
            periods.setdefault(parent, ("", ""))
            start, end = periods[parent]
            periods[parent] = (start, text) if start else (text, end)
    out: list[list[Any]] = []
    for at, value, _ in payload_leaves(skeleton):
        if tuple(at) in bound or not isinstance(value, int) or isinstance(value, bool) or not at:
            continue
        key = str(at[-1])
        if key.endswith("_id") and value in ZCL_TIMES:
            out.append([list(at), "@now", "zcl-utc"])
        elif ("number_of" in key or "count" in key) and value >= 3:
            for parent, (start, end) in periods.items():
                interval = _interval(start, end, value - 1)
                if interval is not None:
                    out.append([list(at), parent, f"samples:{interval}"])
                    break
    return out


def _interval(start: str, end: str, steps: int) -> int | None:
    """The whole number of minutes, in seconds, that `steps` steps from start to end take."""
    try:
        span = int(convert("zcl-utc", end, 0) - convert("zcl-utc", start, 0))
    except (ConversionError, TypeError):
        return None
    if span <= 0 or span % steps or (span // steps) % 60:
        return None
    return span // steps


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
        # One source per element field: the one most elements agree on; a COSEM date whose
        # parts come from separate DUIS elements keeps every part.
        options: dict[str, list[tuple[str, str]]] = {}
        for x, m in zip(steps, members, strict=True):
            options.setdefault(json.dumps(m[0][j + 1:]), []).append(("/".join(x[choice + 1:]), m[2]))
        rel: list[tuple[str, str, str]] = []
        for a, opts in sorted(options.items()):
            top = max(opts.count(o) for o in opts)
            best = sorted({o for o in opts if opts.count(o) == top})
            if not all(conv.startswith("date-") for _, conv in best):
                best = best[:1]
            rel += [(a, src, conv) for src, conv in best]
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
        words = [item.get(rel) or "" for item in items]
        if all(WORD.match(w) for w in words) and all(
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


def _templates(reference: Path, catalogue: Catalogue) -> dict[str, tuple[str, DuisRequest]]:
    """The DUIS templates whose SRV is in the catalogue, by name stem."""
    out: dict[str, tuple[str, DuisRequest]] = {}
    for p in sorted((reference / TEMPLATES).glob("*.XML")):
        try:
            request = read_request(parse_xml(p.read_bytes()))
        except Exception:  # a template the parser refuses teaches nothing
            continue
        if request.service_reference_variant in catalogue:
            out[p.name.removesuffix("_REQUEST_DUIS.XML")] = (p.name, request)
    return out


def _vector_stems(reference: Path) -> dict[str, dict[str, Path]]:
    """RTDS Command / Pre-Command vectors by name stem and kind."""
    stems: dict[str, dict[str, Path]] = {}
    for p in sorted((reference / RTDS).glob("*/*COMMAND_GBCS.HEX")):
        kind = "PRECOMMAND" if p.name.endswith("_PRECOMMAND_GBCS.HEX") else "COMMAND"
        stems.setdefault(p.name.removesuffix(f"_{kind}_GBCS.HEX"), {})[kind] = p
    return stems


def recipient_types(decoded: dict[str, Any], devices: dict[str, list[str]]) -> dict[str, str]:
    """The device type of each vector recipient: the type most of the use cases addressed to
    it are for, if more than half are (`devices`: the types each use case is for, from the
    GBCS use-case table; use cases for any device do not vote). So the test estate's device IDs
    need no table of their own."""
    votes: dict[str, dict[str, int]] = {}
    counted: dict[str, int] = {}
    for msg in decoded.values():
        kinds = [k for k in devices.get(msg.use_case.code, ()) if k != ANY_DEVICE]
        if kinds:
            eui = msg.apdu.recipient.hyphenated
            counted[eui] = counted.get(eui, 0) + 1
            tally = votes.setdefault(eui, {})
            for kind in kinds:
                tally[kind] = tally.get(kind, 0) + 1
    out: dict[str, str] = {}
    for eui, tally in votes.items():
        best = max(tally.values())
        leaders = [k for k, n in tally.items() if n == best]
        if len(leaders) == 1 and 2 * best > counted[eui]:
            out[eui] = leaders[0]
    return out


def learn_command_data(reference: Path) -> dict[str, Any]:
    """The command tables (JSON-able: `service_use_cases`, `forms`) learned from the RTDS
    vectors and DUIS templates under `reference`."""
    catalogue = read_catalogue(reference / CATALOGUE)
    templates = _templates(reference, catalogue)
    stems = _vector_stems(reference)
    discriminators = find_discriminators(templates)
    table = json.loads((reference / USE_CASE_TABLE).read_text(encoding="utf-8"))
    devices = use_case_device_table(table)
    codes = sorted({str(row["Code"]) for row in table}, key=len, reverse=True)
    repeated_names = {fields.split_step(step)[0] for _, r in templates.values()
                      for path in fields.leaves(r.body) for step in path.split("/")
                      if fields.split_step(step)[1] > 1}
    keys = KeyStore.from_reference(reference)
    variants_with_success = {s.split("_")[0] for s in stems if "SUCCESS" in s}
    # ERROR / NOT_FOUND commands are deliberately odd: not a form to build from
    order = [s for s in sorted(stems, key=lambda s: ("ERROR" in s, s))
             if "SUCCESS" in s or s.split("_")[0] not in variants_with_success]
    decoded = {s: codec.decode(read_hex(stems[s].get("COMMAND") or stems[s]["PRECOMMAND"]))
               for s in order}
    estate = recipient_types(decoded, devices)
    forms: list[dict[str, Any]] = []
    seen: set[str] = set()
    for stem in order:
        variant, srv_token = stem.split("_")[:2]
        msg = decoded[stem]
        view = codec.to_json(msg)
        payload_view = view["Payload"].get("Decoded")
        if payload_view is None:
            continue  # a payload the codec cannot decode gives no skeleton
        skeleton = strip_notes(payload_view)
        apdu = msg.apdu
        oi = apdu.other_information
        candidates = [t for t in templates if t.split("_")[0] == variant]
        pair = max(candidates, key=lambda t: (shared_prefix(t, stem), t), default=None)
        srv = templates[pair][1].service_reference_variant if pair else srv_token
        if pair is None and srv_token in catalogue:
            pair = borrowed_template(variant, srv_token, templates, stems, codes, catalogue)
        if srv not in catalogue:
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
            body = fields.leaves(request.body)
            bind = infer(skeleton, apdu.content, request, specials)
            repeat, bind = find_repeats(skeleton, bind, body, repeated_names)
            bound_paths = {b[1] for b in bind} | {r["over"] for r in repeat}
            when = {p: t for p, t in body.items()
                    if p in discriminators.get(srv, ())
                    or (WORD.match(t) and p not in bound_paths
                        and not any(p.startswith(o + "/") or p.startswith(o + "[")
                                    for o in bound_paths))}
            if oi.remote_party_ka_certificate is not None:
                ka_path = next((p for p, t in body.items()
                                if matches("base64-hex", t, oi.remote_party_ka_certificate.hex())), None)
                if ka_path is None:  # the template carries another certificate in the same place
                    ka_path = next((p for p, t in body.items() if is_certificate(t)), None)
        else:  # no template to learn from: only what the DCC derives itself
            bind = derived(skeleton, {}, set())
        use_case = msg.use_case.code
        # what the vectors show: the recipient's type (selection.py adds what the table says)
        seen_at = estate.get(apdu.recipient.hyphenated)
        form = {
            "name": f"{variant} {srv} {stem.split('_', 2)[2] if stem.count('_') >= 2 else ''}".strip(),
            "use_case": use_case,
            "srv": srv,
            "message_code": f"{oi.message_code:04X}",
            "devices": [seen_at] if seen_at else [],
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
    borrow_bindings(forms)
    _matches_leaf.cache_clear()  # the memo serves one learning run: free it
    return {"service_use_cases": service_use_cases(table, templates, stems, codes, catalogue),
            "use_case_devices": devices, "forms": forms}


def _fits(payload: Any, donor_payload: Any, at: list[Any]) -> bool:
    """Whether a binding of the donor's payload lands on the same kind of field in `payload`:
    the path exists in both, with the same leaf type and the same named, typed holder."""
    if not at:
        return False
    try:
        here, there = node_at(payload, at[:-1]), node_at(donor_payload, at[:-1])
        leaf, donor_leaf = node_at(payload, at), node_at(donor_payload, at)
    except (KeyError, IndexError, TypeError):
        return False
    same_holder = (isinstance(here, dict) and isinstance(there, dict)
                   and all(here.get(k) == there.get(k) for k in ("@type", "name")))
    return same_holder and type(leaf) is type(donor_leaf)


def borrow_bindings(forms: list[dict[str, Any]]) -> None:
    """A form without a template of its own (a vector whose variant no DUIS template shows)
    takes the bindings of a learned form of the same SRV that land on the same kind of field
    in its payload (CS03B and CS03A2 join commands carry OtherDeviceID where CS03C's does), so
    the request's values replace the vector's."""
    learned = [f for f in forms if f["learned"] and f["payload"] is not None and not f["repeat"]]
    for form in forms:
        if form["learned"] or form["payload"] is None:
            continue
        best: tuple[int, list[list[Any]], dict[str, Any]] | None = None
        for donor in (d for d in learned if d["srv"] == form["srv"]):
            fitting = [b for b in donor["bind"] if _fits(form["payload"], donor["payload"], b[0])]
            if len(fitting) == len(donor["bind"]) and any(not b[1].startswith("@") for b in fitting) \
                    and (best is None or len(fitting) > best[0]):
                best = (len(fitting), fitting, donor)
        if best is None:
            continue
        own = {json.dumps(b[0]) for b in best[1]}
        form["bind"] = best[1] + [b for b in form["bind"] if json.dumps(b[0]) not in own]
        form["learned"] = True
        form["template"] = best[2]["template"]


def service_use_cases(table: list[dict[str, Any]], templates: dict[str, tuple[str, DuisRequest]],
                      stems: dict[str, dict[str, Path]], codes: list[str],
                      catalogue: Catalogue) -> dict[str, list[str]]:
    """GBCS use cases per Service Reference / SRV: the use-case table's rows, and for rows that
    say "See GBCS" the RTDS and template names, which tie a use case to its SRV."""
    service: dict[str, list[str]] = {}
    for row in table:
        for sr in str(row.get("Service Reference") or "").replace(";", ",").split(","):
            sr = sr.strip()
            if sr and sr[0].isdigit():
                service.setdefault(sr, []).append(str(row["Code"]))
    named = [(n.split("_")[0], r.service_reference_variant) for n, (_, r) in templates.items()]
    named += [(s.split("_")[0], s.split("_")[1]) for s in stems]
    for variant, srv in named:
        code = next((c for c in codes if variant.startswith(c)), None)
        if code is not None and srv in catalogue and code not in service.get(srv, []):
            service.setdefault(srv, []).append(code)
    return service


def learn_command_forms(reference: Path) -> CommandTables:
    """The command tables learned from the reference folder `reference` (not cached)."""
    return tables_from_data(learn_command_data(reference))


# ---------------------------------------------------------------------------------------------
# Learned once per reference folder: kept in memory, and on disk when learning is slow.

#: The packages whose code shapes what is learned (the transform itself, and the DUIS, GBCS
#: and key-store code it reads the reference with): a change to any file is a new cache key.
_CODE_ROOTS = ("core/transform", "duis", "gbcs", "smki/keystore.py")


def _inputs(reference: Path) -> list[Path]:
    files = [*sorted((reference / TEMPLATES).glob("*.XML")),
             *sorted((reference / RTDS).glob("*/*COMMAND_GBCS.HEX")),
             reference / USE_CASE_TABLE, reference / CATALOGUE]
    for keys in (reference / "keys", reference / "gbcs" / "keystore"):
        if keys.is_dir():
            files += sorted(p for p in keys.rglob("*") if p.is_file())
    return [p for p in files if p.is_file()]


def cache_key(reference: Path) -> str:
    """A hash of the names and sizes of the files learned from, and of the learning code."""
    digest = hashlib.sha256()
    for p in _inputs(reference):
        digest.update(f"{p.relative_to(reference).as_posix()}\0{p.stat().st_size}\n".encode())
    package = Path(__file__).resolve().parents[2]
    for root in _CODE_ROOTS:
        path = package / root
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(hashlib.sha256(source.read_bytes()).digest())
    return digest.hexdigest()[:32]


def cache_path(reference: Path) -> Path:
    """Where the learned tables of `reference` are kept between runs."""
    return data_dir() / "cache" / f"transform-commands-{cache_key(reference)}.json"


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("forms"), list) else None


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a concurrent reader sees the old file or the whole new one); a
    cache folder that cannot be written only costs the next run the learning time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".transform-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, separators=(",", ":"))
        os.replace(tmp, path)
        for stale in path.parent.glob("transform-commands-*.json"):
            if stale != path:  # learned from other inputs or older code
                stale.unlink(missing_ok=True)
    except OSError:
        return


def load_command_data(reference: Path) -> tuple[dict[str, Any], float]:
    """The learned tables' data for `reference` (from the cache folder when there), and the
    seconds spent learning (0 when read from the cache)."""
    if not (reference / RTDS).is_dir() or not (reference / TEMPLATES).is_dir():
        raise CommandFormsUnavailable(
            f"no RTDS vectors / DUIS templates under {reference}: the GBCS command forms are "
            "learned from them; set OPENDCC_REFERENCE to the reference folder")
    path = cache_path(reference)
    cached = _read_cache(path)
    if cached is not None:
        return cached, 0.0
    started = time.perf_counter()
    data = learn_command_data(reference)
    took = time.perf_counter() - started
    if took > CACHE_AFTER_S:
        _write_cache(path, data)
    return data, took
