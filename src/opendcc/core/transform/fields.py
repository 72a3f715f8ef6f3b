"""The values of a DUIS request body as (path, text) pairs: the left-hand side of every
command-table binding.

A path is the chain of local names below the SRV's body element, e.g.
`ElecTariffElements/ThresholdMatrix/Thresholds[2]/BlockThreshold[1]`; attributes other than
`index` are leaves too, as `@name` (e.g. `@auxiliaryControllerN` of the body element), and
so are empty elements, with the text "" (their presence can be the request, e.g.
ReadSecurityDetails). A step carries an
index when the element has an `index` attribute (DUIS numbers repeated items that way) or,
failing that, when it has same-named siblings (its 1-based position among them).
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
        index = child.get("index")
        if index:
            out.append((f"{name}[{index}]", child))
        elif names.count(name) > 1:
            out.append((f"{name}[{seen[name]}]", child))
        else:
            out.append((name, child))
    return out


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
