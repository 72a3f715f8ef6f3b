"""The typed payload tree: frozen dataclasses that print as JSON and rebuild from it.

Every node class names itself with `TYPE` (the specification's term, e.g. "access-request");
`to_json()` gives {"@type": TYPE, field: value...} with bytes as hex, and `from_json()` finds
the class by "@type" and rebuilds each field from the class's type hints.
"""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar, TypeVar

from opendcc.gbcs.payload.errors import InvalidTree

N = TypeVar("N", bound="Node")

#: The JSON key of a node's notes for people: never read back.
NOTES = "#"

_REGISTRY: dict[str, type[Node]] = {}
_HINTS: dict[type[Node], dict[str, Any]] = {}


@dataclass(frozen=True)
class Node:
    """Base of every payload tree node."""

    TYPE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("TYPE")
        if name:
            if name in _REGISTRY:
                raise TypeError(f"payload node type {name!r} defined twice")
            _REGISTRY[name] = cls

    def notes(self) -> dict[str, str]:
        """Names and readings of this node's codes, for people; ignored when rebuilding."""
        return {}

    def to_json(self) -> dict[str, Any]:
        """This node as JSON-ready data; fields left at their default are omitted, and
        notes for people (names of codes, times as text) go under "#"."""
        out: dict[str, Any] = {"@type": self.TYPE}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.default is not MISSING and value == f.default:
                continue
            out[f.name] = dump(value)
        notes = self.notes()
        if notes:
            out[NOTES] = notes
        return out

    @classmethod
    def from_json(cls: type[N], obj: Any) -> N:
        """Rebuild a node (of this class or a subclass) from `to_json()` output."""
        if not isinstance(obj, dict) or not isinstance(obj.get("@type"), str):
            raise InvalidTree(cls.__name__, f"expected an object with '@type', got {obj!r:.60}")
        target = _REGISTRY.get(obj["@type"])
        if target is None or not issubclass(target, cls):
            raise InvalidTree(cls.__name__, f"'@type' {obj['@type']!r} is not one of its kinds")
        try:
            return target._from_fields(obj)
        except RecursionError:
            raise InvalidTree(cls.__name__, "nested too deeply") from None

    @classmethod
    def _from_fields(cls: type[N], obj: dict[str, Any]) -> N:
        hints = _HINTS.get(cls)
        if hints is None:
            hints = _HINTS[cls] = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        known = {f.name for f in fields(cls)} | {"@type", NOTES}
        unknown = sorted(set(obj) - known)
        if unknown:
            raise InvalidTree(cls.TYPE, f"unknown field(s) {', '.join(unknown)}")
        for f in fields(cls):
            if f.name in obj:
                kwargs[f.name] = load(hints[f.name], obj[f.name], f.name)
            elif f.default is MISSING:
                raise InvalidTree(cls.TYPE, f"field {f.name!r} missing")
        return cls(**kwargs)


def dump(value: Any) -> Any:
    """One field value as JSON-ready data."""
    if isinstance(value, Node):
        return value.to_json()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, tuple):
        return [dump(v) for v in value]
    if isinstance(value, enum.Enum):
        return value.value
    return value


def load(hint: Any, value: Any, name: str) -> Any:
    """One field value rebuilt from JSON data according to its type hint."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return load(option, value, name)
            except (InvalidTree, ValueError, TypeError):
                continue
        raise InvalidTree(name, f"{value!r:.60} fits none of {hint}")
    if origin is tuple:
        if not isinstance(value, list):
            raise InvalidTree(name, "expected a list")
        (item, _ellipsis) = typing.get_args(hint)
        return tuple(load(item, v, name) for v in value)
    if isinstance(hint, type):
        if issubclass(hint, Node):
            return hint.from_json(value)
        if issubclass(hint, enum.Enum):
            return hint(value)
        if hint is bytes:
            if not isinstance(value, str):
                raise InvalidTree(name, "expected hex text")
            try:
                return bytes.fromhex(value)
            except ValueError as exc:
                raise InvalidTree(name, f"bad hex {value!r:.40}") from exc
        if hint is bool:
            if not isinstance(value, bool):
                raise InvalidTree(name, "expected true/false")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidTree(name, "expected an integer")
            return value
        if hint is str:
            if not isinstance(value, str):
                raise InvalidTree(name, "expected text")
            return value
        if hint is float:
            if not isinstance(value, int | float):
                raise InvalidTree(name, "expected a number")
            return float(value)
    raise InvalidTree(name, f"cannot rebuild a {hint}")
