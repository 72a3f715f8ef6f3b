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
#: Per node class, once: each field's name, default (MISSING if none) and type hint, and the
#: JSON keys it accepts. dataclasses.fields() and the hints cost more than the rebuild itself.
_SPECS: dict[type[Node], tuple[tuple[tuple[str, Any, Any], ...], frozenset[str]]] = {}
#: Type hint -> (typing.get_origin, typing.get_args), asked for every value rebuilt.
_ORIGINS: dict[Any, tuple[Any, tuple[Any, ...]]] = {}


def _spec(cls: type[Node]) -> tuple[tuple[tuple[str, Any, Any], ...], frozenset[str]]:
    spec = _SPECS.get(cls)
    if spec is None:
        hints = typing.get_type_hints(cls)
        rows = tuple((f.name, f.default, hints[f.name]) for f in fields(cls))
        spec = _SPECS[cls] = (rows, frozenset(name for name, _, _ in rows) | {"@type", NOTES})
    return spec


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
        for name, default, _hint in _spec(type(self))[0]:
            value = getattr(self, name)
            if default is not MISSING and value == default:
                continue
            out[name] = dump(value)
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
        rows, known = _spec(cls)
        kwargs: dict[str, Any] = {}
        if not known.issuperset(obj):
            unknown = sorted(set(obj) - known)
            raise InvalidTree(cls.TYPE, f"unknown field(s) {', '.join(unknown)}")
        for name, default, hint in rows:
            if name in obj:
                kwargs[name] = load(hint, obj[name], name)
            elif default is MISSING:
                raise InvalidTree(cls.TYPE, f"field {name!r} missing")
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
    known = _ORIGINS.get(hint)
    if known is None:
        known = _ORIGINS[hint] = (typing.get_origin(hint), typing.get_args(hint))
    origin, args = known
    if origin in (typing.Union, types.UnionType):
        options = args
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
        (item, _ellipsis) = args
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
