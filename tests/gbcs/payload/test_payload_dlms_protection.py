"""GBCS protected DLMS data (get protected attributes, billing data log alerts): found in the
decoded tree, opened with the reference keys, and decoded as A-XDR Data."""

from __future__ import annotations

from pathlib import Path

import pytest
from payload_vectors import read_message, read_payload, vector_paths

from opendcc.gbcs import decode, security
from opendcc.gbcs.codec import encryption_key
from opendcc.gbcs.payload import PayloadKind, decode_payload, sniff_kind
from opendcc.gbcs.payload.axdr import decode_data, encode_data
from opendcc.gbcs.payload.dlms_protection import protected_data
from opendcc.smki.keystore import KeyStore

PROTECTED = [p for p in vector_paths()
             if sniff_kind(read_payload(p)) == PayloadKind.DLMS
             and protected_data(decode_payload(PayloadKind.DLMS, read_payload(p)))]


def test_protected_dlms_vectors_exist() -> None:
    assert len(PROTECTED) >= 10


@pytest.mark.parametrize("path", PROTECTED, ids=lambda p: p.name)
def test_protected_attributes_open_and_decode_as_data(path: Path, keys: KeyStore) -> None:
    msg = decode(read_message(path), keys)
    # The key of every encrypted part (GBCS §4.3.3.3, CRA flag 4): for a message to an
    # unknown remote party, its Supplementary Remote Party and Originator Counter.
    key = encryption_key(msg.apdu, keys)
    assert key is not None, "no key agreement pair for this vector"
    tree = decode_payload(PayloadKind.DLMS, read_payload(path))
    for part in protected_data(tree):
        assert part.cra_flag == security.ENCRYPTION_FLAG
        assert part.originator_system_title == bytes(msg.apdu.originator)
        plain = security.decrypt(key, msg.apdu.originator,
                                 part.ciphertext + part.authentication_tag, part.security_header)
        assert plain is not None, "authentication tag does not verify"
        assert encode_data(decode_data(plain)) == plain
