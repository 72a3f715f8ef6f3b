"""General Block Transfer (Green Book §9.3.5): split, reassemble, decode."""

from __future__ import annotations

import pytest
from gbcs_vectors import read_vector, vector_paths

from opendcc.gbcs import block_transfer, codec
from opendcc.gbcs.errors import Malformed
from opendcc.gbcs.reader import Reader


def test_blocks_round_trip_and_reassemble_into_the_message() -> None:
    data = read_vector(vector_paths()[0])
    blocks = block_transfer.split(data, 100)
    encoded = [bytes(b) for b in blocks]
    assert [block_transfer.decode(Reader(e)) for e in encoded] == blocks
    assert blocks[-1].last_block and not blocks[0].last_block
    assert codec.encode(codec.decode_blocks(encoded)) == data


def test_a_missing_block_is_malformed() -> None:
    blocks = block_transfer.split(bytes(300), 100)
    with pytest.raises(Malformed):
        block_transfer.reassemble([blocks[0], blocks[2]])
    with pytest.raises(Malformed):
        block_transfer.reassemble(blocks[:2])


def test_a_block_is_not_a_message() -> None:
    with pytest.raises(Malformed) as err:
        codec.decode(bytes(block_transfer.split(b"abc", 10)[0]))
    assert err.value.field == "APDU Tag"
