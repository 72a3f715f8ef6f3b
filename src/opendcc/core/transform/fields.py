"""The values of a DUIS request body as (path, text) pairs: the left-hand side of every
command-table binding.

A path is the chain of local names below the SRV's body element, e.g.
`ElecTariffElements/ThresholdMatrix/Thresholds[2]/BlockThreshold`. A step carries its item
number (the `index` attribute DUIS numbers repeated items with, else the 1-based position
among same-named siblings) when that number is not 1, so a one-item list and the first item
of a longer one have the same path. Attributes other than `index` are leaves too, as
`@name` (e.g. `@auxiliaryControllerN` of the body element), and so are empty elements, with
the text "" (their presence can be the request, e.g. ReadSecurityDetails).
"""

from __future__ import annotations

from lxml import etree


def _steps(parent: etree._Element) -> list[tuple[str, etree._Element]]:
    children = [c for c in parent if isinstance(c.tag, str)]
    names = [etree.QName(c).localname for c in children]
    seen: dict[str, int] = {}
    out = []
    for child, name in zip(children, names, strict=True):
        seen[name] = seen.get(name, 0) + 1
        index = (child.get("index") or "").strip()
        number = int(index) if index.isdigit() else seen[name]
        out.append((name if number == 1 else f"{name}[{number}]", child))
    return out


def split_step(step: str) -> tuple[str, int]:
    """A path step as (name, item number): "Thresholds[2]" -> ("Thresholds", 2)."""
    if step.endswith("]") and "[" in step:
        name, number = step[:-1].split("[", 1)
        return name, int(number)
    return step, 1


def join_step(name: str, number: int) -> str:
    """The inverse of split_step."""
    return name if number == 1 else f"{name}[{number}]"


def leaves(body: etree._Element) -> dict[str, str]:
    """Every leaf element (and attribute) below `body`, by path, in document order."""
    out: dict[str, str] = {}

    def walk(el: etree._Element, prefix: str) -> None:
        for name, value in el.attrib.items():
            local = etree.QName(name).localname
            if local != "index" and value.strip():
                out[f"{prefix}/@{local}" if prefix else f"@{local}"] = value.strip()
        for step, child in _steps(el):
            path = f"{prefix}/{step}" if prefix else step
            if len(child):
                walk(child, path)
            else:
                out[path] = (child.text or "").strip()
                walk(child, path)

    walk(body, "")
    return out


def elements(body: etree._Element) -> set[str]:
    """The paths of every element below `body`, with or without text (for presence tests)."""
    out: set[str] = set()

    def walk(el: etree._Element, prefix: str) -> None:
        for step, child in _steps(el):
            path = f"{prefix}/{step}" if prefix else step
            out.add(path)
            walk(child, path)

    walk(body, "")
    return out


def element_at(body: etree._Element, path: str) -> etree._Element | None:
    """The element a path names below `body` (None if absent)."""
    node: etree._Element | None = body
    for step in path.split("/"):
        if node is None:
            return None
        node = next((child for s, child in _steps(node) if s == step), None)
    return node
