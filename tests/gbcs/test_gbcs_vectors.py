"""Acceptance: every RTDS vector decodes, names its use case and message type, re-encodes
byte-identical (directly and through JSON), and verifies where the keystore holds the key."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from gbcs_vectors import named_kind, read_vector, vector_paths

from opendcc.gbcs import codec
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.smki.keystore import KeyStore

VECTORS = vector_paths()


def _family(code: str) -> str:
    """ECS17b -> ECS17, CS04AC -> CS04: the use case number without its variant letters."""
    m = re.match(r"[A-Z]+[0-9]+", code)
    return m.group(0) if m else code


def test_the_reference_vectors_are_present() -> None:
    assert len(VECTORS) > 0, "no *_GBCS.HEX found under the reference gbcs/rtds folder"


@pytest.mark.parametrize("path", VECTORS, ids=lambda p: p.name)
def test_vector_decodes_reencodes_and_verifies(path: Path, keys: KeyStore) -> None:
    data = read_vector(path)
    msg = codec.decode(data, keys, strict=True)

    assert msg.use_case.known
    assert msg.use_case.message_type, f"no message type for {msg.use_case.code}"
    named = named_kind(path)
    if named is not None:
        assert msg.kind is MessageKind(named)
    if msg.kind is not MessageKind.ALERT:
        # Folders are <SRV>_<use case>: commands and responses belong to that use case's family.
        folder = path.parent.name.split("_", 1)[1]
        assert _family(folder) == _family(msg.use_case.code), (folder, msg.use_case.code)
    assert codec.encode(msg) == data
    assert codec.encode(codec.from_json(codec.to_json(msg))) == data
    # A bad signature or MAC raises; what remains is verified, lacking a key, or unprotected.
    if msg.kind is MessageKind.PRECOMMAND:
        assert msg.verification is Verification.NOT_APPLICABLE
    else:
        assert msg.verification in (Verification.VERIFIED, Verification.NO_KEY)


def test_most_protected_vectors_verify(keys: KeyStore) -> None:
    """Report verified vs total; only the PPMID-GSME MACs (device keys) may lack a key."""
    counts: Counter[str] = Counter()
    lacking = set()
    for path in VECTORS:
        msg = codec.decode(read_vector(path), keys)
        counts[msg.verification.value] += 1
        if msg.verification is Verification.NO_KEY:
            lacking.add(msg.use_case.message_type)
    print(f"\nGBCS vectors: {len(VECTORS)}, verified {counts['verified']}, "
          f"no key {counts['no key']}, unprotected (pre-commands) {counts['n.a.']}")
    assert counts["verified"] >= len(VECTORS) - counts["n.a."] - counts["no key"]
    assert lacking <= {"SME.C.PPMID-GSME"}
