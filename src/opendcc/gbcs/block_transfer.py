"""General Block Transfer (GBT) APDU, DLMS Green Book §9.3.5 (used by GBCS for long messages).

  E0 | block-control (last-block 0x80, streaming 0x40, window 0x3F) | block-number (2)
     | block-number-ack (2) | block-data (length | octets)

`reassemble` joins the block-data of consecutive blocks into the APDU they carry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from opendcc.gbcs.errors import BadLength, Malformed
from opendcc.gbcs.reader import Reader, sized

TAG = 0xE0


@dataclass(frozen=True, slots=True)
class BlockTransfer:
    """One GBT block."""

    last_block: bool
    streaming: bool
    window: int
    block_number: int
    block_number_ack: int
    block_data: bytes

    def __bytes__(self) -> bytes:
        control = (0x80 if self.last_block else 0) | (0x40 if self.streaming else 0) | (self.window & 0x3F)
        return (bytes((TAG, control)) + self.block_number.to_bytes(2, "big")
                + self.block_number_ack.to_bytes(2, "big") + sized(self.block_data))


def decode(r: Reader) -> BlockTransfer:
    """Decode one GBT block from `r`, which must end where the block ends."""
    r.expect(TAG, "General Block Transfer Tag")
    control = r.byte("Block Control")
    number = int.from_bytes(r.take(2, "Block Number"), "big")
    ack = int.from_bytes(r.take(2, "Block Number Ack"), "big")
    data = r.sized("Block Data")
    if r.remaining:
        raise BadLength("Block Data", r.pos, f"{r.remaining} octets follow the block")
    return BlockTransfer(bool(control & 0x80), bool(control & 0x40), control & 0x3F, number, ack, data)


def reassemble(blocks: Iterable[BlockTransfer]) -> bytes:
    """Green Book §9.3.5: blocks numbered from 1 without gaps, the last one flagged."""
    out = bytearray()
    expected = 1
    done = False
    for block in blocks:
        if done:
            raise Malformed("Block Number", 0, f"block {block.block_number} follows the last block")
        if block.block_number != expected:
            raise Malformed("Block Number", 0, f"expected block {expected}, got {block.block_number}")
        out += block.block_data
        expected += 1
        done = block.last_block
    if not done:
        raise Malformed("Block Control", 0, "the last block is missing")
    return bytes(out)


def split(apdu: bytes, block_size: int) -> list[BlockTransfer]:
    """Cut an APDU into GBT blocks of at most `block_size` octets of block-data."""
    if block_size <= 0:
        raise ValueError("block_size must be positive")
    chunks = [apdu[i : i + block_size] for i in range(0, len(apdu), block_size)] or [b""]
    return [BlockTransfer(i == len(chunks) - 1, False, 1, i + 1, 0, c) for i, c in enumerate(chunks)]
