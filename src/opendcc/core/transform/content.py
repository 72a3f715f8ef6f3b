"""The payload of a command: a form's skeleton filled from the request (GBCS §7 payloads).

Repeat groups first (one array element per item of a repeated DUIS element), then every
binding whose source the request has. The fast path patches the skeleton's typed tree along
the bound paths (`patch.py`); the slow path edits the JSON view and rebuilds the whole tree.
Both give the same octets (tested for every template); the slow path also handles
whole-payload bindings and says which value does not fit.
"""

from __future__ import annotations

from typing import Any

from opendcc.core.transform import fields
from opendcc.core.transform.conversions import (
    ConversionError,
    UnknownEncoding,
    convert,
    takes_list,
)
from opendcc.core.transform.errors import BadRequestValue, CommandNotTabulated
from opendcc.core.transform.patch import patched
from opendcc.core.transform.tables import CommandForm, Repeat
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.payloads import encode_payload, payload_from_json


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


#: The last step of a repeat group's `at` that splices its items into a list in place of the
#: element before it (e.g. one GBZ component per DUIS item), instead of filling a field.
SPLICE = "*"


def _put_repeat(view: Any, at: tuple[str | int, ...], items: list[Any]) -> None:
    if at and at[-1] == SPLICE:
        parent, index = _get(view, at[:-2]), int(at[-2])
        parent[index:index + 1] = items
    else:
        _set(view, at, items)


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


def source_text(sources: dict[str, str], path: str, conversion: str) -> str | None:
    """The request's text for a binding: the leaf at `path`, or for list conversions the
    texts of every leaf below it, one per line (None when the request has neither)."""
    if not takes_list(conversion):
        return sources.get(path)
    prefix = f"{path}/"
    below = [t for p, t in sources.items() if p.startswith(prefix)]
    if not below and path not in sources:
        return None
    return "\n".join(below)


def build_repeat(repeat: Repeat, sources: dict[str, str], use_case: str) -> list[Any]:
    """The array of a repeat group: one element per item of the repeated DUIS element."""
    parent, _, name = repeat.over.rpartition("/")
    out = []
    for position, number in enumerate(items_of(repeat.over, sources)):
        item = f"{parent}/{fields.join_step(name, number)}" if parent else fields.join_step(name, number)
        numbering = {"@item": str(position + 1), "@position": str(position)}
        element = _copy(repeat.element)
        for b in repeat.bindings:
            text = numbering.get(b.source) or source_text(
                sources, f"{item}/{b.source}" if b.source else item, b.conversion)
            if text is None:
                continue
            try:
                element = _apply(element, b.at, b.conversion, text)
            except UnknownEncoding as exc:
                raise CommandNotTabulated(f"{item}/{b.source}: {exc} (use case {use_case})") from None
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
    if any(not b.at for b in form.bindings) or any(r.at[-1:] == (SPLICE,) for r in form.repeats):
        return None
    tree = _skeleton_tree(form)
    if tree is None:
        return None
    view = form.payload
    try:
        for repeat in form.repeats:
            tree = patched(tree, repeat.at, build_repeat(repeat, sources, form.use_case))
        for b in form.bindings:
            text = source_text(sources, b.source, b.conversion)
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
        _put_repeat(view, repeat.at, build_repeat(repeat, sources, form.use_case))
    whole: bytes | None = None
    for b in form.bindings:
        if b.at and not _exists(view, b.at):
            continue  # inside an array the request made shorter
        text = source_text(sources, b.source, b.conversion)
        if text is None:
            if b.source == "ExecutionDateTime" and b.at == ("date_time",):
                _set(view, b.at, "")  # xDLMS access-request: no date-time means "now"
            continue
        try:
            if not b.at:
                whole = bytes.fromhex(str(convert(b.conversion, text, None)))
                continue
            _set(view, b.at, convert(b.conversion, text, _get(view, b.at)))
        except UnknownEncoding as exc:
            raise CommandNotTabulated(f"{b.source}: {exc} (use case {form.use_case})") from None
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
