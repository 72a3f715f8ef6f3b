"""Bad input: each kind of damage gets its typed error naming the field and the offset."""

from __future__ import annotations

import contextlib
import random

import pytest
from gbcs_vectors import read_vector, vector_paths

from opendcc.gbcs import codec
from opendcc.gbcs.counters import CounterGuard
from opendcc.gbcs.errors import (
    BadLength,
    BadMac,
    BadSignature,
    CounterReplay,
    GbcsError,
    Malformed,
    Oversize,
    Truncated,
    UnknownUseCase,
)
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.reader import MAX_APDU_SIZE
from opendcc.smki.keystore import KeyStore


def _first(prefix: str, *, signed: bool = False) -> bytes:
    """The first vector whose hex starts with `prefix` (DD: MAC Header, DF: General Signing)."""
    for path in vector_paths():
        data = read_vector(path)
        if data.hex().upper().startswith(prefix):
            apdu = codec.decode_frame(data)
            inner = apdu.apdu if isinstance(apdu, GeneralCiphering) else apdu
            if not signed or (inner.signature and len(inner.signature) == 64):
                return data
    raise AssertionError(f"no vector starts with {prefix}")


MACED = _first("DD")
SIGNED = _first("DF", signed=True)
SIGNED_AND_MACED = _first("DD", signed=True)


@pytest.mark.parametrize("cut", [1, 2, 7, 8, 12, 20, 30, 40, -13, -1])
def test_truncated_apdu_is_rejected(cut: int) -> None:
    with pytest.raises((Truncated, BadLength)) as err:
        codec.decode(MACED[:cut])
    assert err.value.field and 0 <= err.value.offset <= len(MACED)


def test_every_truncation_of_a_signed_message_is_a_typed_error() -> None:
    # Cutting exactly the whole signature trailer leaves a well-formed unsigned APDU.
    for cut in (c for c in range(len(SIGNED)) if c != len(SIGNED) - 65):
        with pytest.raises(GbcsError):
            codec.decode(SIGNED[:cut])


def test_wrong_ciphered_content_length_is_rejected() -> None:
    bad = bytearray(MACED)
    bad[8 if MACED[7] == 0x81 else 7 if MACED[7] < 0x80 else 9] ^= 0x01
    with pytest.raises(BadLength) as err:
        codec.decode(bytes(bad))
    assert err.value.field == "Ciphered Content Length"
    assert err.value.offset == 7


def test_wrong_transaction_id_length_is_rejected() -> None:
    bad = bytearray(SIGNED)
    bad[1] = 8
    with pytest.raises(BadLength) as err:
        codec.decode(bytes(bad))
    assert (err.value.field, err.value.offset) == ("Transaction ID Length", 1)


def test_extra_octets_after_the_signature_are_rejected() -> None:
    with pytest.raises(BadLength) as err:
        codec.decode(SIGNED + b"\x00")
    assert err.value.offset == len(SIGNED)


def test_unknown_use_case_is_rejected_in_strict_mode() -> None:
    msg = codec.decode(SIGNED)
    frame = codec.decode_frame(SIGNED)
    assert not isinstance(frame, GeneralCiphering)
    import dataclasses

    other = dataclasses.replace(frame.other_information, message_code=0x7FFE)
    data = bytes(dataclasses.replace(frame, other_information=other))
    with pytest.raises(UnknownUseCase) as err:
        codec.decode(data, strict=True)
    assert err.value.field == "Message Code"
    assert data[err.value.offset : err.value.offset + 2] == b"\x7f\xfe"
    lenient = codec.decode(data)
    assert not lenient.use_case.known and msg.use_case.known


def test_bad_mac_is_rejected(keys: KeyStore) -> None:
    bad = bytearray(MACED)
    bad[-1] ^= 0x80
    with pytest.raises(BadMac) as err:
        codec.decode(bytes(bad), keys)
    assert (err.value.field, err.value.offset) == ("MAC", len(MACED) - 12)


def test_tampered_payload_fails_the_mac(keys: KeyStore) -> None:
    bad = bytearray(MACED)
    bad[-20] ^= 0x01
    with pytest.raises((BadMac, BadSignature)):
        codec.decode(bytes(bad), keys)


def test_bad_signature_is_rejected(keys: KeyStore) -> None:
    bad = bytearray(SIGNED)
    bad[-5] ^= 0x01
    with pytest.raises(BadSignature) as err:
        codec.decode(bytes(bad), keys)
    assert err.value.field == "Signature"
    assert err.value.offset == len(SIGNED) - 65


def test_replayed_counter_is_rejected(keys: KeyStore) -> None:
    guard = CounterGuard()
    first = codec.decode(MACED, keys, counters=guard)
    with pytest.raises(CounterReplay) as err:
        codec.decode(MACED, keys, counters=guard)
    assert err.value.field == "Originator Counter"
    at = err.value.offset
    assert int.from_bytes(MACED[at : at + 8], "big") == first.apdu.originator_counter
    assert guard.last(first.apdu.originator, int(first.apdu.cra_flag)) == first.apdu.originator_counter


def test_rejected_message_does_not_advance_the_counter(keys: KeyStore) -> None:
    guard = CounterGuard()
    bad = bytearray(MACED)
    bad[-1] ^= 0x80
    with pytest.raises(BadMac):
        codec.decode(bytes(bad), keys, counters=guard)
    codec.decode(MACED, keys, counters=guard)  # the good one is still accepted


def test_oversize_input_is_rejected() -> None:
    with pytest.raises(Oversize) as err:
        codec.decode(b"\xdf" + bytes(MAX_APDU_SIZE))
    assert err.value.offset == 0


def test_three_octet_length_form_is_oversize() -> None:
    with pytest.raises(Oversize) as err:
        codec.decode(bytes.fromhex("DD000000000000830100000000"))
    assert (err.value.field, err.value.offset) == ("Ciphered Content Length", 7)


def test_unknown_tag_is_malformed() -> None:
    with pytest.raises(Malformed) as err:
        codec.decode(b"\x30\x03\x02\x01\x00")
    assert (err.value.field, err.value.offset) == ("APDU Tag", 0)


def test_random_bytes_give_only_typed_errors() -> None:
    rng = random.Random(4)
    for _ in range(2000):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 120)))
        if data and rng.random() < 0.5:
            data = bytes((rng.choice((0xDD, 0xDF, 0xE0)),)) + data[1:]
        with contextlib.suppress(GbcsError):
            codec.decode(data)
