"""BGZF (blocked gzip), the compression htslib, bcftools and tabix read and index.

A BGZF file is a series of gzip members of at most 64 KiB of data each, every member carrying
its compressed size in a ``BC`` extra field, and an empty end-of-file member. The output of
:func:`bgzip_file` is deterministic (the same text gives the same bytes) and is checked in the
tests with htslib itself: a tabix index and a region query (``tests/test_outputs.py``).
"""

from __future__ import annotations

import io
import shutil
import struct
import zlib
from pathlib import Path

_BLOCK = 0xFF00  # uncompressed bytes per block, as bgzip writes them
_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")


class BgzfWriter(io.RawIOBase):
    """A binary sink writing BGZF blocks to ``path`` (wrap in ``io.TextIOWrapper`` for text)."""

    def __init__(self, path: str | Path):
        self._handle = open(path, "wb")
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer.extend(data)
        while len(self._buffer) >= _BLOCK:
            self._flush_block(bytes(self._buffer[:_BLOCK]))
            del self._buffer[:_BLOCK]
        return len(data)

    def _flush_block(self, data: bytes) -> None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = compressor.compress(data) + compressor.flush()
        # gzip header with FEXTRA: subfield 'BC', length 2, value = total block size - 1
        header = struct.pack("<BBBBIBBHBBHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(body) + 25)
        self._handle.write(header + body + struct.pack("<II", zlib.crc32(data), len(data)))

    def close(self) -> None:
        if not self._handle.closed:
            if self._buffer:
                self._flush_block(bytes(self._buffer))
                self._buffer.clear()
            self._handle.write(_EOF)
            self._handle.close()
        super().close()


def bgzip_file(source: str | Path, target: str | Path) -> None:
    """Compress the file ``source`` into the BGZF file ``target``."""
    writer = BgzfWriter(target)
    try:
        with open(source, "rb") as handle:
            shutil.copyfileobj(handle, writer, 1 << 20)
    finally:
        writer.close()
