"""Every RTDS vector's payload decodes into a typed tree and re-encodes to the same bytes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from payload_vectors import read_payload, use_case_of, vector_paths

from opendcc.gbcs.payload import (
    Payload,
    PayloadKind,
    decode_payload,
    encode_payload,
    kind_of,
    sniff_kind,
)
from opendcc.gbcs.payload.asn1 import Asn1Value, Primitive
from opendcc.gbcs.payload.gbcs_asn1 import SHAPES, Shape
from opendcc.gbcs.payload.gbz import CipheredZclPayload, UseCaseSpecificContent
from opendcc.gbcs.payload.tree import Node
from opendcc.gbcs.payload.zcl import ClusterCommandPayload

VECTORS = vector_paths()
RAW_NODES = (ClusterCommandPayload, UseCaseSpecificContent, Primitive)


def _nodes(value: object) -> list[Node]:
    found: list[Node] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Node):
            found.append(item)
            stack.extend(vars(item).values())
        elif isinstance(item, tuple):
            stack.extend(item)
    return found


def test_the_reference_vectors_are_there() -> None:
    assert len(VECTORS) > 800


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_payload_decodes_and_reencodes_byte_identical(path: Path) -> None:
    data = read_payload(path)
    kind = sniff_kind(data)
    tree = decode_payload(kind, data, use_case=use_case_of(path))
    assert kind_of(tree) == kind
    assert encode_payload(tree) == data
    text = json.dumps(tree.to_json())
    assert Payload.from_json(json.loads(text)) == tree


def test_decoded_and_kept_raw_counts_per_kind(capsys: pytest.CaptureFixture[str]) -> None:
    """Reports, per kind, how many payloads decode fully and how many keep some raw octets."""
    counts: Counter[tuple[PayloadKind, str]] = Counter()
    raw_kinds: Counter[str] = Counter()
    for path in VECTORS:
        data = read_payload(path)
        kind = sniff_kind(data)
        nodes = _nodes(decode_payload(kind, data, use_case=use_case_of(path)))
        raw = [n for n in nodes if isinstance(n, RAW_NODES)
               and not (isinstance(n, Primitive) and n.name)]  # named: typed by GBCS's module
        ciphered = any(isinstance(n, CipheredZclPayload) for n in nodes)
        counts[kind, "kept-raw" if raw else "ciphered" if ciphered else "decoded"] += 1
        raw_kinds.update(type(n).TYPE for n in raw)
    with capsys.disabled():
        print("\npayload vectors:", dict(sorted((f"{k}/{s}", n) for (k, s), n in counts.items())))
        print("raw nodes:", dict(raw_kinds))
    assert sum(counts.values()) == len(VECTORS)


# GBCS ASN.1 payloads the reference parser does not name either (no published structure).
UNNAMED_ASN1_USE_CASES = {"CS02f", "CS09"}


@pytest.mark.parametrize("path", [p for p in VECTORS if sniff_kind(read_payload(p)) == PayloadKind.ASN1],
                         ids=lambda p: p.name)
def test_asn1_payload_is_named_after_its_use_case(path: Path) -> None:
    use_case = use_case_of(path)
    tree = decode_payload(PayloadKind.ASN1, read_payload(path), use_case=use_case)
    assert isinstance(tree, Asn1Value)
    if use_case in UNNAMED_ASN1_USE_CASES:
        assert tree.name is None
    else:
        assert tree.name, f"{use_case} payload fits none of its GBCS shapes"
        assert all(n.name for n in _named_part(tree)), "half-named tree"


def _opaque_names() -> set[str]:
    """Names of values kept whole (certificates): their insides are X.509's, not GBCS's."""
    names: set[str] = set()
    stack: list[Shape] = [s for shapes in SHAPES.values() for s in shapes]
    while stack:
        shape = stack.pop()
        if shape.kind == "any":
            names.add(shape.name)
        stack.extend(shape.fields)
        if shape.element:
            stack.append(shape.element)
    return names


OPAQUE = _opaque_names()


def _named_part(tree: Asn1Value) -> list[Asn1Value]:
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        if node.name not in OPAQUE:
            stack.extend(getattr(node, "elements", ()))
    return out
