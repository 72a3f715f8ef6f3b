"""Every RTDS vector's payload decodes into a typed tree and re-encodes to the same bytes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from payload_vectors import read_payload, vector_paths

from opendcc.gbcs.payload import (
    Payload,
    PayloadKind,
    decode_payload,
    encode_payload,
    kind_of,
    sniff_kind,
)
from opendcc.gbcs.payload.asn1 import Primitive
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
    tree = decode_payload(kind, data)
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
        nodes = _nodes(decode_payload(kind, data))
        raw = [n for n in nodes if isinstance(n, RAW_NODES)]
        ciphered = any(isinstance(n, CipheredZclPayload) for n in nodes)
        counts[kind, "kept-raw" if raw else "ciphered" if ciphered else "decoded"] += 1
        raw_kinds.update(type(n).TYPE for n in raw)
    with capsys.disabled():
        print("\npayload vectors:", dict(sorted((f"{k}/{s}", n) for (k, s), n in counts.items())))
        print("raw nodes:", dict(raw_kinds))
    assert sum(counts.values()) == len(VECTORS)
