"""Property tests: decode(encode(x)) == x for generated frames; the decoder, fed random or
mutated vectors, answers with a message or a GbcsError, nothing else."""

from __future__ import annotations

import contextlib
from dataclasses import replace

from gbcs_vectors import read_vector, vector_paths
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opendcc.gbcs import codec
from opendcc.gbcs.date_time import DateTime
from opendcc.gbcs.errors import GbcsError
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.general_signing import CraFlag, GeneralSigning, OtherInformation
from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

eui = st.binary(min_size=8, max_size=8).map(EUI64.from_bytes)
u64 = st.integers(0, 2**64 - 1)
date_times = st.builds(DateTime, st.integers(0, 0xFFFF), *(st.integers(0, 255) for _ in range(7)),
                       st.integers(-0x8000, 0x7FFF), st.integers(0, 255))
other_info = st.one_of(
    st.builds(OtherInformation, st.integers(0, 0xFFFF)),
    st.builds(OtherInformation, st.integers(0, 0xFFFF), eui),
    st.builds(OtherInformation, st.integers(0, 0xFFFF), eui, u64),
    st.builds(OtherInformation, st.integers(0, 0xFFFF), eui, u64, u64),
    st.builds(OtherInformation, st.integers(0, 0xFFFF), eui, u64, st.none(),
              st.binary(min_size=9, max_size=400)),
)
signing = st.builds(
    GeneralSigning, st.sampled_from(CraFlag), u64, eui, eui, st.none() | date_times, other_info,
    st.binary(max_size=600), st.none() | st.just(b"") | st.binary(min_size=64, max_size=64),
)
# Inside a MAC Header the General Signing APDU always has its trailer (empty or signed).
ciphering = st.builds(GeneralCiphering,
                      signing.map(lambda a: a if a.signature is not None else replace(a, signature=b"")),
                      st.binary(min_size=12, max_size=12), st.just(0x11), st.integers(0, 2**32 - 1))

VECTORS = [read_vector(p) for p in vector_paths()]
KEYS = KeyStore.from_reference()


@SETTINGS
@given(signing)
def test_general_signing_round_trips(apdu: GeneralSigning) -> None:
    assert codec.decode_frame(bytes(apdu)) == apdu


@SETTINGS
@given(ciphering)
def test_general_ciphering_round_trips(frame: GeneralCiphering) -> None:
    data = bytes(frame)
    assert codec.decode_frame(data) == frame
    assert codec.encode(codec.decode(data)) == data


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_raise_a_gbcs_error(data: bytes) -> None:
    with contextlib.suppress(GbcsError):
        codec.decode(data)


@SETTINGS
@given(st.integers(0, max(len(VECTORS) - 1, 0)), st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)),
                                                       min_size=1, max_size=4))
def test_mutated_vectors_decode_or_raise_a_gbcs_error(index: int, edits: list[tuple[int, int]]) -> None:
    data = bytearray(VECTORS[index])
    for at, value in edits:
        data[at % len(data)] = value
    try:
        msg = codec.decode(bytes(data), KEYS)
    except GbcsError:
        return
    assert codec.encode(msg) == bytes(data)
