"""Encrypted GBZ parts, once the framing codec opens them, decode like plaintext ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from payload_vectors import read_payload, vector_paths

from opendcc.gbcs import decode, decrypt_payload
from opendcc.gbcs.payload import (
    PayloadKind,
    decode_deciphered_zcl,
    decode_payload,
    encode_zcl_payload,
)
from opendcc.gbcs.payload.gbz import (
    CipheredZclPayload,
    GbzAlertComponents,
    GbzAlertPayload,
    GbzComponent,
    GbzPayload,
)
from opendcc.gbcs.payload.zcl import ClusterCommandPayload, ZclCommandPayload
from opendcc.gbcs.payload.zcl_clusters import ClusterCommand
from opendcc.smki.keystore import KeyStore


def _encrypted_components(data: bytes) -> list[GbzComponent]:
    tree = decode_payload(PayloadKind.ZCL, data)
    if isinstance(tree, GbzAlertPayload):
        components = tree.content.components if isinstance(tree.content, GbzAlertComponents) else ()
    else:
        assert isinstance(tree, GbzPayload)
        components = tree.components
    return [c for c in components if isinstance(c.zcl_frame.payload, CipheredZclPayload)]


ENCRYPTED = [p for p in vector_paths()
             if read_payload(p)[:2] == b"\x01\x09" and _encrypted_components(read_payload(p))]


def test_some_vectors_have_encrypted_parts() -> None:
    assert len(ENCRYPTED) >= 20


@pytest.mark.parametrize("path", ENCRYPTED, ids=lambda p: p.name)
def test_deciphered_zcl_payload_decodes_fully_and_reencodes(path: Path, keys: KeyStore) -> None:
    message = bytes.fromhex("".join(path.read_text().split()))
    plaintexts = decrypt_payload(decode(message, keys), keys)
    components = _encrypted_components(read_payload(path))
    assert len(plaintexts) == len(components)
    for component, plain in zip(components, plaintexts, strict=True):
        payload = decode_deciphered_zcl(component, plain)
        assert not isinstance(payload, ClusterCommandPayload), plain.hex()
        assert encode_zcl_payload(payload) == plain
        assert ZclCommandPayload.from_json(payload.to_json()) == payload
        if isinstance(payload, ClusterCommand):
            sub_payload = dict(payload.fields).get("snapshot_sub_payload")
            assert not isinstance(sub_payload, bytes), "snapshot sub-payload not decoded"
