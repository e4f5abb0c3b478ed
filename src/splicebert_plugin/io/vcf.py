"""VCF reading and writing that keeps every record byte for byte.

Records are read as text (plain, gzip or bgzip VCF; BCF through cyvcf2) and written back as
text with only the INFO column changed, so nothing the scorer does not own is reformatted.
``.vcf.gz`` output is BGZF (readable by htslib, indexable by tabix).
"""

from __future__ import annotations

import gzip
import io
import struct
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator


class VcfFormatError(ValueError):
    """A VCF file or line is malformed; the message names the file, the line and the fix."""


@dataclass(frozen=True)
class VcfRecord:
    """One data line. ``pos`` is 1-based, as in VCF."""

    lineno: int
    chrom: str
    pos: int  # 1-based
    id: str
    ref: str
    alts: tuple[str, ...]
    fields: tuple[str, ...]  # all columns, unchanged


class VcfReader:
    """Header lines, then records, from a VCF path or ``-`` (standard input)."""

    def __init__(self, path: str):
        self.path = path
        self.header: list[str] = []
        self._lines = self._open()
        self._lineno = 0
        self._pending: str | None = None
        for line in self._lines:
            self._lineno += 1
            if line.startswith("##"):
                self.header.append(line)
                continue
            if line.startswith("#CHROM"):
                self.header.append(line)
                break
            raise VcfFormatError(
                f"{path} line {self._lineno}: expected the '#CHROM' header line before records; is this a VCF?"
            )
        else:
            if not self.header or not self.header[-1].startswith("#CHROM"):
                raise VcfFormatError(f"{path} has no '#CHROM' header line; is this a VCF?")

    def _open(self) -> Iterator[str]:
        if self.path == "-":
            return (line.rstrip("\r\n") for line in sys.stdin)
        path = Path(self.path)
        if not path.is_file():
            raise VcfFormatError(f"VCF {path} does not exist; pass the variants with -I")
        with open(path, "rb") as handle:
            magic = handle.read(4)
        if path.suffix == ".bcf" or magic[:3] == b"BCF":
            return self._bcf_lines(path)
        if magic[:2] == b"\x1f\x8b":
            handle = gzip.open(path, "rt")
            probe = handle.read(3)
            handle.seek(0)
            if probe == "BCF":
                handle.close()
                return self._bcf_lines(path)
            return self._text_lines(handle)
        return self._text_lines(open(path))

    @staticmethod
    def _text_lines(handle) -> Iterator[str]:
        with handle:
            for line in handle:
                yield line.rstrip("\r\n")

    @staticmethod
    def _bcf_lines(path: Path) -> Iterator[str]:
        try:
            from cyvcf2 import VCF
        except ImportError:
            raise VcfFormatError(f"{path} is BCF; reading BCF needs cyvcf2: pip install 'splicebert-plugin[vcf]'") from None
        vcf = VCF(str(path))
        yield from vcf.raw_header.rstrip("\n").split("\n")
        for variant in vcf:
            yield str(variant).rstrip("\n")
        vcf.close()

    @property
    def contigs(self) -> list[str]:
        """Contig names declared in the header (``##contig=<ID=...>``)."""
        names = []
        for line in self.header:
            if line.startswith("##contig=<"):
                for item in line[len("##contig=<") : -1].split(","):
                    if item.startswith("ID="):
                        names.append(item[3:])
        return names

    def __iter__(self) -> Iterator[VcfRecord]:
        for line in self._lines:
            self._lineno += 1
            if not line.strip():
                continue
            yield parse_record(line, self._lineno, self.path)


def parse_record(line: str, lineno: int, path: str) -> VcfRecord:
    """A :class:`VcfRecord` from one data line, or a :class:`VcfFormatError` naming the line."""
    fields = line.split("\t")
    if len(fields) < 8:
        hint = " (spaces instead of tabs?)" if len(line.split()) >= 8 else ""
        raise VcfFormatError(
            f"{path} line {lineno}: a VCF record needs at least 8 tab-separated columns, found {len(fields)}{hint}; "
            "fix or remove the line"
        )
    chrom, pos, vid, ref, alt = fields[:5]
    try:
        pos_value = int(pos)
    except ValueError:
        raise VcfFormatError(f"{path} line {lineno}: POS {pos!r} is not an integer; fix the line") from None
    if pos_value < 0 or not ref:
        raise VcfFormatError(f"{path} line {lineno}: POS {pos_value} / REF {ref!r} are invalid; fix the line")
    return VcfRecord(lineno, chrom, pos_value, vid, ref, tuple(alt.split(",")), tuple(fields))


def with_info(record: VcfRecord, entries: dict[str, str]) -> str:
    """The record's line with ``entries`` set in INFO (replacing same-named keys); nothing else changes."""
    fields = list(record.fields)
    keys = set(entries)
    kept = [item for item in fields[7].split(";") if item and item != "." and item.split("=", 1)[0] not in keys]
    kept.extend(f"{key}={value}" if value is not None else key for key, value in entries.items())
    fields[7] = ";".join(kept) if kept else "."
    return "\t".join(fields)


def with_header_lines(header: list[str], new_lines: list[str]) -> list[str]:
    """Header with ``new_lines`` inserted before ``#CHROM`` (same-ID INFO lines replaced)."""
    ids = {line.split("ID=", 1)[1].split(",", 1)[0] for line in new_lines if "ID=" in line}
    kept = [
        line
        for line in header[:-1]
        if not (line.startswith("##INFO=<ID=") and line[len("##INFO=<ID=") :].split(",", 1)[0] in ids)
    ]
    return kept + new_lines + header[-1:]


class BgzfWriter(io.RawIOBase):
    """Minimal BGZF (blocked gzip) text writer, as htslib and tabix expect."""

    _BLOCK = 0xFF00
    _EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")

    def __init__(self, path: str):
        self._handle = open(path, "wb")
        self._buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer.extend(data.encode() if isinstance(data, str) else data)
        while len(self._buffer) >= self._BLOCK:
            self._flush_block(bytes(self._buffer[: self._BLOCK]))
            del self._buffer[: self._BLOCK]
        return len(data)

    def _flush_block(self, data: bytes) -> None:
        compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
        body = compressor.compress(data) + compressor.flush()
        header = struct.pack("<BBBBIBBHBBHH", 31, 139, 8, 4, 0, 0, 255, 6, 66, 67, 2, len(body) + 25)
        self._handle.write(header + body + struct.pack("<II", zlib.crc32(data), len(data)))

    def close(self) -> None:
        if not self._handle.closed:
            if self._buffer:
                self._flush_block(bytes(self._buffer))
                self._buffer.clear()
            self._handle.write(self._EOF)
            self._handle.close()
        super().close()


def open_output(path: str):
    """Text sink for ``path``: ``-`` = standard output, ``*.gz`` = BGZF, else plain text."""
    if path == "-":
        return _NoClose(sys.stdout)
    if path.endswith((".gz", ".bgz")):
        return io.TextIOWrapper(io.BufferedWriter(BgzfWriter(path)), encoding="utf-8", newline="\n")
    return open(path, "w", encoding="utf-8", newline="\n")


class _NoClose:
    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(text)

    def close(self) -> None:
        self._stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
