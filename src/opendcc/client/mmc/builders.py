"""SMETSData builders, registered by the names `tables.json` gives them.

Most SRVs need no code of their own: `tables.json` lists, per use case, field specs
`[element path, source, conversion]` that the `fields` builder applies in schema order.

Sources (over the payload's decrypted JSON view):
  `d:0.1.2`     DLMS: access-response data item 0, then structure/array elements 1 and 2
  `d:0.-1`      DLMS: negative positions count from the end; `d:0[9].2` reads element 2
                only when element 0 has 9 elements (the twin-element layout of a structure)
  `d:0.1.*`     DLMS: every element of that array (a repeated element; `#` in its path = 1..n)
  `d:0.1.rows`  DLMS: the rows of a log (compact array or array of structures), applied with
                the conversion `each:Child=column:conversion;...` (one element per row,
                `each[3]:` at most 3;
                a conversion ending in `?` is optional: an empty or unknown value is left out)
  `c:name.rows` GBZ/ZCL: the records of a response command field, columns named by key
  `z:1794:0`    GBZ/ZCL: attribute 0x0000 of cluster 0x0702 (1794) in a read-attributes response
  `z:1794:1,2`  GBZ/ZCL: attributes 1 and 2, as a repeated element
  `c:name`      GBZ/ZCL: field `name` of a cluster-specific response command (`c:name.a.0.b`:
                a dotted path into it)
  `s:1794:name` GBZ/ZCL: one row per response command of cluster 0x0702 (1794) whose fields
                have `name` (e.g. a snapshot per component); columns are dotted field paths
                (`snapshot_sub_payload.tier_summation_delivered.0.summation`)
  `c:samples.series:sample_start_time:sample_request_interval`  GBZ/ZCL sampled data: one
                row {"time", "value"} per sample, the time stepped by the interval (a field
                name or a number of seconds)
  `a:0`         ASN.1: element 0 of the top SEQUENCE (`a:0.rows`: its elements, as log rows
                whose columns are dotted paths such as `elements.0.value`)
  `k:1`         a constant (a position the schema numbers, e.g. a phase)
  `n:3.0.1`     DLMS alert: data-notification body element 3, then 0 and 1 (as `d:`)
  `g:other_info` GBZ alert: a field of the alert content
  `-`           not mapped yet (the document is counted partial)
Conversions: `int`, `utc2000` (seconds since 2000), `hex:4` (a number as 4 hex digits),
  `meaning` (event code description), `ascii` (or `ascii:0-13`, a slice), `hex`, `eui`, `datetime` (COSEM date-time octets),
  `map:1=Enabled,0=Disabled` (enumerations), `metering:1794` (ZCL value x multiplier / divisor;
  `metering:1794:0x0B12:0x0B13` names the multiplier and divisor attributes),
  `trailing:1792:0x0303` (ZCL value / 10^(trailing-digit attribute bits 4-7)),
  `text` (a ZCL string, or `text:0-8` a slice, trailing spaces dropped), `gentime` (ASN.1
  GeneralizedTime), `time` (COSEM time octets), `minutes` (ZCL minutes since midnight),
  `bit:1:Credit/Prepayment` (a bit of a bitmap), `wild:0+1900:SpecifiedYear:NonSpecifiedYear`
  (octet 0 of a ZCL date, plus 1900, or the empty "not specified" element when 0xFF; `0-2`
  a COSEM year; a last `:FE=LastDayOfMonth` names special values), `date` (COSEM date as
  xs:date), `bitof:6:Sunday` (the word when bit 6 of a bit string is set, else left out).
  A conversion ending in `?` is optional: a value it cannot render is left out.
Element paths: `Electricity/ActiveImportRegister/Value`, attributes as `Name[index=1]`;
  `#` in a path is a repeated element's position, `$` the raw value (e.g. a ResponseCode),
  `+Name` starts a new element rather than reusing the last one of that name.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from lxml import etree

from opendcc.client.mmc.document import SmetsValues, smets_data
from opendcc.client.mmc.render import (
    Renderable,
    alert_builder,
    builder,
    ra,
    says_nothing,
    xml_datetime,
)
from opendcc.client.mmc.tables import tables
from opendcc.gbcs.date_time import DateTime
from opendcc.ids import EUI64

Json = dict[str, Any]
_STEP = re.compile(r"^(\w+)(?:\[(\w+)=([^\]]+)\])?$")
_CHOICE = "\x1f"  # separates a chosen element's name from its text (conversion `wild`)
_DLMS_STEP = re.compile(r"^(-?\d+)(?:\[(\d+)\])?$")
_LIMIT = re.compile(r"^each\[(\d+)\]:")
# `Child[attr=v]/Leaf=column:conversion`: the child path may itself hold an `=` in brackets.
_COLUMN = re.compile(r"^((?:[^=\[]|\[[^\]]*\])+)=(.*)$")
_ZCL_MULTIPLIER, _ZCL_DIVISOR = 0x0301, 0x0302
_EPOCH_2000 = datetime(2000, 1, 1, tzinfo=UTC)


class _Rows(list[Any]):
    """The rows of a log: lists of values (DLMS) or dictionaries of named fields (ZCL)."""


@builder("outcome")
def outcome(msg: Renderable, el: etree._Element) -> bool:
    """ra:ServiceRequestBaseType: only MessageSuccess, set by the renderer from the outcome."""
    return msg.outcome.known


def _dlms(view: Json, path: str) -> Any:
    data = view.get("access_response_list_of_data")
    if not isinstance(data, list):
        return None
    node: Any = {"elements": data}
    if path.endswith(".rows"):
        whole = _dlms(view, path[:-5])
        rows = whole.get("contents", whole.get("elements")) if isinstance(whole, dict) else None
        if not isinstance(rows, list):
            return None
        return _Rows([[e.get("value", e.get("bits")) for e in row.get("elements", [])] for row in rows
                      if isinstance(row, dict)])
    if ".*" in path:  # `0.2.*` every element's value; `0.2.*.1` element 1 of each
        prefix, _, inner = path.partition(".*")
        whole = _dlms(view, prefix)
        elements = whole.get("elements") if isinstance(whole, dict) else None
        if not isinstance(elements, list):
            return None
        if inner:
            return [_dlms({"access_response_list_of_data": [e]}, "0" + inner) for e in elements]
        return [e.get("value") if isinstance(e, dict) else None for e in elements]
    for step in path.split("."):
        # (a compact array holds its rows as `contents`)
        elements = node.get("elements", node.get("contents")) if isinstance(node, dict) else None
        m = _DLMS_STEP.match(step)
        if m is None or not isinstance(elements, list) or not -len(elements) <= int(m.group(1)) < len(elements):
            return None
        node = elements[int(m.group(1))]
        members = node.get("elements", node.get("contents")) if isinstance(node, dict) else None
        if m.group(2) and (not isinstance(members, list) or len(members) != int(m.group(2))):
            return None  # `2[9]`: only when element 2 has 9 elements (a variant's layout)
    if not isinstance(node, dict) or node.get("@type") == "null-data":
        return None
    return node.get("value", node)


def _zcl_records(view: Json, cluster: int) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for component in view.get("components", []):
        if component.get("extended_header_cluster_id") != cluster:
            continue
        payload = component.get("zcl_frame", {}).get("payload", {})
        for record in payload.get("read_attribute_status_records", []):
            value = record.get("attribute_value")
            if record.get("status") == 0 and isinstance(value, dict):
                out[int(record["attribute_identifier"])] = value.get("value")
    return out


def _zcl_command_field(view: Json, name: str) -> Any:
    for component in view.get("components", []):
        payload = component.get("zcl_frame", {}).get("payload", {})
        fields = payload.get("fields")
        if isinstance(fields, dict) and name in fields:
            return fields[name]
    return None


def _command_rows(view: Json, cluster: int, name: str) -> _Rows | None:
    rows = _Rows()
    for component in view.get("components", []):
        if component.get("extended_header_cluster_id") != cluster:
            continue
        fields = component.get("zcl_frame", {}).get("payload", {}).get("fields")
        if isinstance(fields, dict) and name in fields:
            rows.append(fields)
    return rows if rows else None


def _series(view: Json, where: str) -> _Rows | None:
    name, start_field, step = where.split(":")
    samples = _zcl_command_field(view, name.removesuffix(".series"))
    start = _zcl_command_field(view, start_field)
    interval = int(step) if step.isdigit() else _zcl_command_field(view, step)
    if not isinstance(samples, list) or not isinstance(start, int) or not isinstance(interval, int):
        return None
    return _Rows({"time": start + i * interval, "value": sample.get("sample")}
                 for i, sample in enumerate(samples) if isinstance(sample, dict))


def _cell(row: Any, column: str) -> Any:
    """A column of a log row: an index into a list row, or a dotted path into a dict row."""
    if not isinstance(row, dict):
        return row[int(column)] if int(column) < len(row) else None
    node: Any = row
    for step in column.split("."):
        if isinstance(node, dict):
            node = node.get(step)
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return None
    return node


def _asn1_node(view: Json, path: str) -> Any:
    node: Any = view
    for step in filter(None, path.split(".")):
        elements = node.get("elements") if isinstance(node, dict) else None
        if not isinstance(elements, list) or int(step) >= len(elements):
            return None
        node = elements[int(step)]
    return node


def _asn1(view: Json, path: str) -> Any:
    node = _asn1_node(view, path)
    return node.get("value") if isinstance(node, dict) else None


def resolve(view: Json, source: str) -> Any:
    """The value a field spec's source names in the payload view (None when absent)."""
    kind, _, where = source.partition(":")
    if kind == "d":
        return _dlms(view, where)
    if kind == "z":
        cluster, _, attribute = where.partition(":")
        records = _zcl_records(view, int(cluster))
        if "," in attribute:
            return [records.get(int(a, 0)) for a in attribute.split(",")]
        return records.get(int(attribute, 0))
    if kind == "s":
        cluster, _, name = where.partition(":")
        return _command_rows(view, int(cluster), name.removesuffix(".rows"))
    if kind == "c":
        if ".series:" in where:
            return _series(view, where)
        if where.endswith(".rows"):
            rows = _zcl_command_field(view, where[:-5])
            return _Rows(rows) if isinstance(rows, list) else None
        name, _, inner = where.partition(".")
        value = _zcl_command_field(view, name)
        return _cell(value, inner) if inner and isinstance(value, dict) else value
    if kind == "a":
        if where.endswith(".rows"):
            node = _asn1_node(view, where[:-5])
            elements = node.get("elements") if isinstance(node, dict) else None
            return _Rows(elements) if isinstance(elements, list) else None
        return _asn1(view, where)
    if kind == "k":
        return where
    if kind == "n":  # DLMS alert: the data-notification body
        body = view.get("notification_body")
        return _dlms({"access_response_list_of_data": body.get("elements")}, where) if isinstance(body, dict) else None
    if kind == "g":  # GBZ alert: a field of its content
        return _cell(view.get("content") or {}, where)
    raise ValueError(f"unknown source {source!r}")


def convert(value: Any, conversion: str, view: Json) -> str | None:
    """The text of a value under a field spec's conversion (None when it does not apply)."""
    name, _, arg = conversion.partition(":")
    if name == "int":
        return str(int(value))
    if name == "hex":
        if isinstance(value, int):
            digits = f"{value:0{int(arg) if arg else 2}X}"
            return digits if len(digits) % 2 == 0 else "0" + digits
        return str(value).upper()
    if name == "meaning":  # GBCS event/alert code -> description, when tabled
        code = int(value)
        known = tables().alert_descriptions.get(code)
        return known
    if name == "text":
        text = str(value)
        if arg:
            start, _, end = arg.partition("-")
            text = text[int(start) : int(end) if end else None]
        return text.rstrip(" ") or None
    if name == "gentime":  # ASN.1 GeneralizedTime YYYYMMDDhhmmssZ
        return xml_datetime(datetime.strptime(str(value), "%Y%m%d%H%M%SZ").replace(tzinfo=UTC))
    if name == "time":  # COSEM time: hour, minute, second, hundredths
        raw = bytes.fromhex(str(value))
        if len(raw) != 4 or max(raw[:3]) == 0xFF:
            return None
        return f"{raw[0]:02d}:{raw[1]:02d}:{raw[2]:02d}"
    if name == "minutes":  # ZCL: minutes since midnight
        return f"{int(value) // 60:02d}:{int(value) % 60:02d}:00"
    if name == "wild":  # a date field that may be "not specified": a choice of elements
        # `wild:0-2:SpecifiedYear:NonSpecifiedYear` (octets 0-1, 0xFFFF unspecified),
        # `wild:0+1900:...` (one octet plus 1900), `...:FE=LastDayOfMonth` (special values)
        at, specified, unspecified, *special = arg.split(":")
        span, _, add = at.partition("+")
        start, _, end = span.partition("-")
        raw = _octets(value)[int(start) : int(end) if end else int(start) + 1]
        number = int.from_bytes(raw, "big")
        named = dict(pair.split("=", 1) for pair in special[0].split(",")) if special else {}
        if f"{number:02X}" in named:
            return f"{named[f'{number:02X}']}{_CHOICE}"
        if number == (1 << 8 * len(raw)) - 1:
            return f"{unspecified}{_CHOICE}"
        return f"{specified}{_CHOICE}{number + int(add or 0)}"
    if name == "date":  # COSEM date octets (no wildcards) as xs:date
        raw = _octets(value)
        return f"{int.from_bytes(raw[:2], 'big'):04d}-{raw[2]:02d}-{raw[3]:02d}"
    if name == "bitof":  # `bitof:6:Sunday`: the word when bit 6 of a bit string is set
        position, _, word = arg.partition(":")
        bits = str(value)
        return word if int(position) < len(bits) and bits[int(position)] == "1" else None
    if name == "bit":
        position, _, words = arg.partition(":")
        clear, _, set_ = (words or "false/true").partition("/")
        return set_ if int(value) >> int(position) & 1 else clear
    if name == "trailing":  # ZCL trailing digit: bits 4-7 count the decimal places
        cluster, _, attribute = arg.partition(":")
        places = int(_zcl_records(view, int(cluster)).get(int(attribute, 0)) or 0) >> 4
        return _decimal_text(Decimal(int(value)).scaleb(-places))
    if name == "base64":
        return base64.b64encode(_octets(value)).decode("ascii")
    if name == "certusage":  # a GBCS trust anchor cell: key usage bits, and cell usage if any
        return _certificate_usage(value)
    if name == "ascii":
        text = bytes.fromhex(str(value)).decode("ascii", errors="replace")
        if arg:
            start, _, end = arg.partition("-")
            text = text[int(start) : int(end) if end else None]
        return text or None
    if name == "eui":
        raw = _octets(value)
        if arg:
            start, _, end = arg.partition("-")
            raw = raw[int(start) : int(end) if end else None]
        return EUI64.from_bytes(raw).hyphenated
    if name == "datetime":
        when = DateTime.from_bytes(bytes.fromhex(str(value))).to_datetime()
        return xml_datetime(when) if when is not None else None
    if name == "utc2000":  # GBCS log timestamps: seconds since 2000-01-01T00:00:00Z
        return xml_datetime(_EPOCH_2000 + timedelta(seconds=int(value)))
    if name == "map":
        table = dict(pair.split("=", 1) for pair in arg.split(","))
        return table.get(str(value))
    if name == "metering":
        cluster, *factors = arg.split(":")
        records = _zcl_records(view, int(cluster))
        mult_at, div_at = (int(f, 0) for f in factors) if factors else (_ZCL_MULTIPLIER, _ZCL_DIVISOR)
        multiplier = Decimal(records.get(mult_at) or 1)
        divisor = Decimal(records.get(div_at) or 1)
        return _decimal_text(Decimal(int(value)) * multiplier / divisor)
    raise ValueError(f"unknown conversion {conversion!r}")


def _certificate_usage(cell: Any) -> str | None:
    """GBCS TrustAnchorCell: digitalSignature / keyAgreement / keyCertSign key usage bits; a
    cell whose cellUsage is prePaymentTopUp (1) holds the top-up key agreement certificate."""
    elements = cell.get("elements") if isinstance(cell, dict) else None
    if not isinstance(elements, list):
        return None
    usage = next((e.get("octets") for e in elements if isinstance(e, dict) and "octets" in e), None)
    top_up = any(isinstance(e, dict) and e.get("name") == "cellUsage" and e.get("value") == 1
                 for e in elements)
    kind = tables().certificate_usage.get(str(usage).upper())
    return f"{kind}TopUp" if kind == "KeyAgreement" and top_up else kind


def _decimal_text(number: Decimal) -> str:
    """xs:decimal text: no exponent, no trailing zeros (200, 1.5)."""
    return format(number.normalize(), "f")


def _octets(value: Any) -> bytes:
    """Octets of a value the codec shows as hex text, or as a ZCL string (one char per octet)."""
    text = str(value)
    if re.fullmatch(r"(?:[0-9A-Fa-f]{2})*", text):
        return bytes.fromhex(text)
    return text.encode("latin-1")


def _step(step: str) -> tuple[str, str | None, str | None]:
    m = _STEP.match(step)
    if m is None:
        raise ValueError(f"bad element path step {step!r}")
    tag, attr, attr_value = m.groups()
    return tag, attr, attr_value


def _ensure(parent: etree._Element, path: str) -> etree._Element:
    """The element at `path` under `parent`, reusing the last child where it matches."""
    node = parent
    for step in filter(None, path.split("/")):
        fresh = step.startswith("+")
        tag, attr, attr_value = _step(step.lstrip("+"))
        last = node[-1] if len(node) and not fresh else None
        if last is not None and last.tag == ra(tag) and (attr is None or last.get(attr) == attr_value):
            node = last
        else:
            node = etree.SubElement(node, ra(tag), {attr: attr_value} if attr and attr_value else {})
    return node


def _place(parent: etree._Element, path: str, text: str) -> None:
    """Create the leaf of `path` (its ancestors reused or created) with `text`; a `wild`
    conversion's text names the chosen child element too (`Name<US>text`)."""
    if _CHOICE in text:
        chosen, _, text = text.partition(_CHOICE)
        path = f"{path}/{chosen}"
    ancestors, _, leaf = path.rpartition("/")
    tag, attr, attr_value = _step(leaf.lstrip("+"))
    node = etree.SubElement(_ensure(parent, ancestors), ra(tag),
                            {attr: attr_value} if attr and attr_value else {})
    node.text = text or None


def _each(el: etree._Element, path: str, rows: _Rows, columns: str, view: Json) -> bool:
    """One new element at `path` per log row, its children from `Child=column:conversion;...`."""
    specs = [(m.group(1), *m.group(2).split(":", 1)) for m in map(_COLUMN.match, columns.split(";")) if m]
    parent_path, _, leaf = path.rpartition("/")
    tag, attr, attr_column = _step(leaf)
    complete = True
    for row in rows:
        entry = etree.SubElement(_ensure(el, parent_path), ra(tag))
        if attr and attr_column:  # `SpecialDay[index=@0]`: the attribute from column 0
            entry.set(attr, str(_cell(row, attr_column[1:])) if attr_column.startswith("@") else attr_column)
        for child, column, conversion in specs:
            cell = _cell(row, column)
            if cell is None:
                continue
            optional = conversion.endswith("?")
            try:
                text = convert(cell, conversion.rstrip("?"), view)
            except (ValueError, TypeError, ArithmeticError):
                text = None
            if not text:
                complete &= optional
                continue
            _place(entry, child.replace("$", str(cell)), text)
    return complete


@builder("fields")
def fields(msg: Renderable, el: etree._Element) -> bool:
    """Apply the use case's field specs from tables.json; complete when none failed to convert."""
    view = msg.decrypted.view
    specs = tables().smets_fields.get(msg.use_case, ())
    if view is None or not specs:
        return False
    return apply_specs(el, specs, view, complete=msg.outcome.known)


def apply_specs(el: etree._Element, specs: tuple[tuple[str, str, str], ...], view: Json, *,
                complete: bool) -> bool:
    """Fill `el` from field specs `[element path, source, conversion]` over a payload view;
    complete when `complete` and no value failed to convert."""
    for path, source, conversion in specs:
        if source == "-":  # a field the table does not map yet: the document stays partial
            complete = False
            continue
        value = resolve(view, source)
        if isinstance(value, _Rows):
            # `each[3]:` keeps at most 3 rows (the schema's maxOccurs): more leave it partial
            limit = _LIMIT.match(conversion)
            if limit and len(value) > int(limit.group(1)):
                value, complete = _Rows(value[: int(limit.group(1))]), False
            complete &= _each(el, path, value, conversion.split(":", 1)[1], view)
            continue
        # A list source fills a repeated element; `#` in its path is the 1-based position.
        items = list(enumerate(value, 1)) if isinstance(value, list) else [(0, value)]
        for position, item in items:
            if item is None:
                continue
            optional = conversion.endswith("?")
            try:
                text = convert(item, conversion.rstrip("?"), view)
            except (ValueError, TypeError, ArithmeticError):
                text = None
            if text is None:
                complete &= optional
                continue
            _place(el, path.replace("#", str(position)).replace("$", str(item)), text)
    return complete


# ---------------------------------------------------------------------------------------------
# DeviceAlertContent/Payload (MMC Schema V5.4 DeviceAlertMessagePayload)

def _notification_octets(view: Json, index: int) -> bytes | None:
    """DLMS alert: octet-string element `index` of the data-notification body structure."""
    body = view.get("notification_body")
    elements = body.get("elements") if isinstance(body, dict) else None
    if not isinstance(elements, list) or index >= len(elements):
        return None
    node = elements[index]
    if not isinstance(node, dict) or node.get("@type") != "octet-string":
        return None
    return bytes.fromhex(str(node.get("value", "")))


@alert_builder("future-dated")
def future_dated(msg: Renderable) -> tuple[etree._Element | None, bool]:
    """GBCS §9.2.2.6, alerts 0x8F66/0x8F67: which future-dated instruction ran (or failed)."""
    view = msg.decrypted.view or {}
    payload = etree.Element(ra("Payload"))
    outcome = etree.SubElement(payload, ra("FutureDatedCommandOutcomeDeviceAlert"))
    if view.get("@type") == "gbz-alert-payload":
        content = view.get("content") or {}
        if content.get("@type") != "future-dated-alert-payload":
            return None, False
        gbz = etree.SubElement(outcome, ra("GBZFutureDatedAlert"))
        etree.SubElement(gbz, ra("FutureDatedCommandMessageCode")).text = f"{content['message_code']:04X}"
        etree.SubElement(gbz, ra("FutureDatedCommandOriginatorCounter")).text = str(content["originator_counter"])
        ident = etree.SubElement(gbz, ra("GBZFDInstructionIdentification"))
        etree.SubElement(ident, ra("ExtendedHeaderClusterID")).text = f"{content['cluster_id']:04X}"
        etree.SubElement(ident, ra("FrameControl")).text = f"{content['frame_control']:02X}"
        etree.SubElement(ident, ra("CommandIdentifier")).text = f"{content['command_identifier']:02X}"
        return payload, True
    raw = _notification_octets(view, 2)
    if raw is None or len(raw) != 19:
        return None, False
    cosem = etree.SubElement(outcome, ra("COSEMFutureDatedAlert"))
    # message code (2) | originator counter (8) | class id (2) | instance id (6) | attribute (1)
    etree.SubElement(cosem, ra("FutureDatedCommandMessageCode")).text = raw[:2].hex().upper()
    etree.SubElement(cosem, ra("FutureDatedCommandOriginatorCounter")).text = str(int.from_bytes(raw[2:10], "big"))
    ident = etree.SubElement(cosem, ra("DLMSCOSEMFDInstructionIdentification"))
    etree.SubElement(ident, ra("ClassId")).text = raw[10:12].hex().upper()
    etree.SubElement(ident, ra("InstanceId")).text = raw[12:18].hex().upper()
    etree.SubElement(ident, ra("AttributeId")).text = raw[18:19].hex().upper()
    return payload, True


@alert_builder("command-not-supported")
def command_not_supported(msg: Renderable) -> tuple[etree._Element | None, bool]:
    """Alert 0x8F85: the message code and originator counter of the command not supported."""
    raw = _notification_octets(msg.decrypted.view or {}, 2)
    if raw is None or len(raw) != 10:
        return None, False
    payload = etree.Element(ra("Payload"))
    body = etree.SubElement(payload, ra("CommandNotSupportedbyDevice"))
    etree.SubElement(body, ra("MessageCodeofCommandReceived")).text = raw[:2].hex().upper()
    etree.SubElement(body, ra("OriginatorCounterfromCommandReceived")).text = str(int.from_bytes(raw[2:], "big"))
    return payload, True


@alert_builder("supply-outage")
def supply_outage(msg: Renderable) -> tuple[etree._Element | None, bool]:
    """Alerts 0x8F35-0x8F3C: when the supply was interrupted and when restored."""
    view = msg.decrypted.view or {}
    times = [_notification_octets(view, i) for i in (2, 3)]
    stamps = [DateTime.from_bytes(t).to_datetime() if t and len(t) == 12 else None for t in times]
    if stamps[0] is None or stamps[1] is None:
        return None, False
    payload = etree.Element(ra("Payload"))
    body = etree.SubElement(payload, ra("SupplyOutageRestoreAlert"))
    etree.SubElement(body, ra("interruptionValue")).text = xml_datetime(stamps[0])
    etree.SubElement(body, ra("restorationValue")).text = xml_datetime(stamps[1])
    return payload, True


@alert_builder("fields")
def alert_fields(msg: Renderable) -> tuple[etree._Element | None, bool]:
    """DeviceAlertContent/Payload from the use case's field specs (as for SMETSData); a GBZ
    alert's components are read as a response's."""
    view = msg.decrypted.view or {}
    content = view.get("content")
    if isinstance(content, dict) and "components" in content:
        view = content
    payload = etree.Element(ra("Payload"))
    complete = apply_specs(payload, tables().smets_fields.get(msg.use_case, ()), view, complete=True)
    return (payload if len(payload) else None), complete and len(payload) > 0


def smets_data_of(values: SmetsValues) -> etree._Element | None:
    """MMC `ResponsePayload/SMETSData` from values, placed as the field specs place them
    (for answers that do not come from GBCS, e.g. a SMETS1 service provider's); None when
    MMC has no element for the SRV or the answer says nothing its element could carry."""
    element = tables().element_for(values.srv)
    if element is None:
        return None
    smets, el = smets_data(element, values.success)
    for path, text in values.values:
        _place(el, path, text)
    if says_nothing(values.srv, el, success=values.success, complete=values.success):
        return None
    return smets
