"""Fuzzing: random and mutated payloads give a typed GBCS error or an exact round trip."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from payload_vectors import read_payload, vector_paths

from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.payload import PayloadKind, decode_payload, encode_payload, sniff_kind
from opendcc.gbcs.payload.gbcs_asn1 import SHAPES

PAYLOADS = [read_payload(p) for p in vector_paths()]


USE_CASES = [None, *SHAPES]


def _decode_or_typed_error(kind: PayloadKind, data: bytes, use_case: str | None = None) -> None:
    """Either a GbcsError, or a tree that encodes back to exactly these bytes."""
    try:
        tree = decode_payload(kind, data, use_case=use_case)
    except GbcsError:
        return
    assert encode_payload(tree) == data


def _mutations(data: bytes, rng: random.Random) -> list[bytes]:
    cut = rng.randrange(len(data))
    spot = rng.randrange(len(data))
    flipped = bytearray(data)
    flipped[spot] ^= 1 << rng.randrange(8)
    replaced = bytearray(data)
    replaced[spot] = rng.randrange(256)
    return [data[:cut], bytes(flipped), bytes(replaced),
            data[:spot] + bytes([rng.randrange(256)]) + data[spot:],
            data[:spot] + data[spot + 1 :]]


@pytest.mark.timeout(120)
def test_mutated_vector_payloads_give_typed_errors_or_round_trip() -> None:
    rng = random.Random(20261123)
    for data in PAYLOADS:
        for mutated in _mutations(data, rng):
            for kind in PayloadKind:
                _decode_or_typed_error(kind, mutated, rng.choice(USE_CASES))
            assert sniff_kind(mutated) in PayloadKind


@pytest.mark.timeout(120)
@settings(max_examples=400, deadline=None)
@given(st.sampled_from(list(PayloadKind)), st.binary(max_size=200))
def test_random_bytes_give_typed_errors_or_round_trip(kind: PayloadKind, data: bytes) -> None:
    _decode_or_typed_error(kind, data)


@pytest.mark.timeout(120)
@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\xd9", b"\xda", b"\x0f", b"\x01\x09\x01", b"\x01\x09\x01\x8f\x66",
                        b"\x30\x82", b"\xc4\x01"]),
       st.binary(max_size=120))
def test_random_bodies_after_real_headers_give_typed_errors(head: bytes, body: bytes) -> None:
    _decode_or_typed_error(sniff_kind(head), head + body)
