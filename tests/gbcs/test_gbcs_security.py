"""GBCS §4.3 security: KDF, signing and MACs on encode, payload encryption, key caching."""

from __future__ import annotations

import dataclasses

import pytest
from gbcs_vectors import read_vector, vector_paths

from opendcc.gbcs import codec, security
from opendcc.gbcs.codec import MessageKind, Verification
from opendcc.gbcs.errors import BadMac, MissingKey
from opendcc.gbcs.general_ciphering import GeneralCiphering
from opendcc.gbcs.general_signing import GeneralSigning
from opendcc.ids import EUI64
from opendcc.smki.keystore import KeyStore

SUPPLIER = EUI64.parse("90-B3-D5-1F-30-01-00-00")
DEVICE = EUI64.parse("00-DB-12-34-56-78-90-A0")


def _messages(kind: MessageKind) -> list[bytes]:
    out = []
    for path in vector_paths():
        data = read_vector(path)
        if codec.decode(data).kind is kind:
            out.append(data)
    return out


def test_kdf_matches_the_acb_and_device_agreement(keys: KeyStore) -> None:
    """GBCS §4.3.3.3: Z from the ACB KA key and the device KA certificate, then the KDF."""
    cache = security.KeyCache(keys)
    z_acb = cache.agreed_secret(codec.DEFAULT_ACB, DEVICE)
    assert z_acb is not None
    key = security.kdf(z_acb, SUPPLIER, 1, 0x0000000100000000, DEVICE)
    assert key.hex().upper() == "6A93E360717394015DF93E031218C9A6"
    z_sup = cache.agreed_secret(SUPPLIER, DEVICE)
    assert z_sup is not None
    key = security.kdf(z_sup, DEVICE, 2, 0x0000000100000000, SUPPLIER)
    assert key.hex().upper() == "03FD30815577C49EB7E3834B63EF8302"


def test_shared_secrets_are_cached_per_key_lookup(keys: KeyStore) -> None:
    assert security.cache_for(keys) is security.cache_for(keys)
    cache = security.cache_for(keys)
    assert cache.agreed_secret(codec.DEFAULT_ACB, DEVICE) is cache.agreed_secret(codec.DEFAULT_ACB, DEVICE)


def test_encoding_with_keys_signs_and_macs_a_command(keys: KeyStore) -> None:
    signed = [d for d in _messages(MessageKind.COMMAND)
              if d[0] == 0xDD and len(codec.decode(d).apdu.signature or b"") == 64]
    msg = codec.decode(signed[0], keys)
    resealed = codec.encode(msg, keys)
    again = codec.decode(resealed, keys)
    assert again.signature_check is Verification.VERIFIED
    assert again.mac_check is Verification.VERIFIED
    assert again.apdu.header_and_content() == msg.apdu.header_and_content()


def test_the_dcc_adds_a_mac_header_to_a_precommand(keys: KeyStore) -> None:
    pre = codec.decode(_messages(MessageKind.PRECOMMAND)[0])
    assert isinstance(pre.frame, GeneralSigning)
    command = codec.add_mac_header(pre.frame, keys)
    msg = codec.decode(bytes(command), keys)
    assert msg.kind is MessageKind.COMMAND
    assert msg.mac_check is Verification.VERIFIED


def test_signing_without_the_private_key_is_refused(keys: KeyStore) -> None:
    responses = [d for d in _messages(MessageKind.RESPONSE) if len(codec.decode(d).apdu.signature or b"") == 64]
    msg = codec.decode(responses[0])  # signed by a device: opendcc holds no device DS key
    with pytest.raises(MissingKey):
        codec.encode(msg, keys)


def test_macs_of_responses_verify_with_the_recipient_key(keys: KeyStore) -> None:
    maced = [d for d in _messages(MessageKind.RESPONSE) if d[0] == 0xDD]
    for data in maced[:20]:
        assert codec.decode(data, keys).mac_check in (Verification.VERIFIED, Verification.NO_KEY)


def test_payload_encryption_round_trips_and_detects_tampering() -> None:
    key = bytes(range(16))
    sealed = security.encrypt(key, DEVICE, b"meter balance")
    assert security.decrypt(key, DEVICE, sealed) == b"meter balance"
    assert security.decrypt(key, DEVICE, sealed[:-1] + bytes((sealed[-1] ^ 1,))) is None
    assert security.decrypt(key, DEVICE, b"short") is None


def test_mac_header_changes_nothing_but_the_mac(keys: KeyStore) -> None:
    data = next(d for d in _messages(MessageKind.COMMAND) if d[0] == 0xDD)
    frame = codec.decode_frame(data)
    assert isinstance(frame, GeneralCiphering)
    remac = codec.mac_frame(dataclasses.replace(frame, mac=bytes(12)), keys)
    assert bytes(remac) == data


def test_every_encrypted_payload_part_decrypts(keys: KeyStore) -> None:
    """GBZ ciphered ZCL payloads and DLMS protected attributes (GBCS §4.3.3, CRA flag 4 key)
    open with the reference keys."""
    kinds = set()
    for path in vector_paths():
        msg = codec.decode(read_vector(path))
        parts = list(codec._ciphered_parts(msg.payload))
        if not parts:
            continue
        plain = codec.decrypt_payload(msg, keys)
        assert len(plain) == len(parts), path.name
        kinds.add(msg.payload_kind)
    assert kinds == {"dlms", "zcl"}


def test_a_tampered_encrypted_part_is_rejected(keys: KeyStore) -> None:
    for path in vector_paths():
        msg = codec.decode(read_vector(path))
        parts = [p for p in _nodes(msg.payload) if hasattr(p, "authentication_tag")]
        if parts:
            break
    else:
        pytest.fail("no encrypted GBZ payload part among the vectors")
    part = parts[0]
    bad = dataclasses.replace(part, authentication_tag=bytes(12))

    def swap(node: object) -> object:
        if node is part:
            return bad
        if dataclasses.is_dataclass(node) and not isinstance(node, type):
            return dataclasses.replace(node, **{f.name: swap(getattr(node, f.name))
                                                for f in dataclasses.fields(node) if f.init})
        if isinstance(node, tuple | list):
            return type(node)(swap(x) for x in node)
        return node

    tampered = codec.with_payload(msg, swap(msg.payload))
    with pytest.raises(BadMac):
        codec.decrypt_payload(tampered, keys)


def _nodes(node: object) -> list[object]:
    out = [node]
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        for f in dataclasses.fields(node):
            out += _nodes(getattr(node, f.name))
    elif isinstance(node, list | tuple):
        for item in node:
            out += _nodes(item)
    return out
