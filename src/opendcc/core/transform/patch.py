"""Filling a payload skeleton quickly: the skeleton's typed tree is built once per form, and
each request only rebuilds the nodes on the paths its bindings change (frozen dataclasses
replaced along the path), instead of rebuilding the whole tree from JSON.

The result is the same tree `Payload.from_json` would build from the edited JSON view; the
tests compare both for every template.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from opendcc.gbcs.payload.tree import Node, load

Path = tuple[str | int, ...]


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


_INIT_FIELDS: dict[type, tuple[str, ...]] = {}


def _replace(node: Node, name: str, value: Any) -> Node:
    """`dataclasses.replace(node, name=value)`, its field names looked up once per class
    (payload nodes have no `__post_init__` or init-only fields: the same node results)."""
    cls = type(node)
    names = _INIT_FIELDS.get(cls)
    if names is None:
        names = _INIT_FIELDS[cls] = tuple(f.name for f in dataclasses.fields(node) if f.init)
    kwargs = {n: getattr(node, n) for n in names}
    kwargs[name] = value
    return cls(**kwargs)


_ITEM_HINTS: dict[Any, Any] = {}


def _tuple_item_hint(hint: Any) -> Any:
    """The item type of a `tuple[X, ...]` hint (inside an optional union, too)."""
    item = _ITEM_HINTS.get(hint)
    if item is None:
        item = _ITEM_HINTS[hint] = _find_item_hint(hint)
    return item


def _find_item_hint(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        for option in typing.get_args(hint):
            if typing.get_origin(option) is tuple:
                return typing.get_args(option)[0]
    if typing.get_origin(hint) is tuple:
        return typing.get_args(hint)[0]
    raise TypeError(f"{hint} is not a tuple type")


def patched(node: Any, path: Path, value: Any, hint: Any = None) -> Any:
    """`node` with the value at `path` (JSON view steps) replaced by `value` (JSON view form)."""
    if not path:
        return load(hint, value, "binding")
    step = path[0]
    if isinstance(node, tuple):
        if not isinstance(step, int):
            raise TypeError(f"{step!r} indexes no list")
        items = list(node)
        items[step] = patched(items[step], path[1:], value, _tuple_item_hint(hint))
        return tuple(items)
    if isinstance(node, Node) and isinstance(step, str) and dataclasses.is_dataclass(node):
        field_hint = _hints(type(node))[step]
        return _replace(node, step, patched(getattr(node, step), path[1:], value, field_hint))
    raise TypeError(f"cannot follow {step!r} into a {type(node).__name__}")
