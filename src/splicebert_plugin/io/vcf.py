"""VCF reading and writing that keeps every record byte for byte.

Records are read as text (plain, gzip or bgzip VCF; BCF through cyvcf2) and written back as
text with only the INFO column changed, so nothing the scorer does not own is reformatted.
Writing files (atomically, BGZF for ``.vcf.gz``) is ``io.outputs``.
"""

from __future__ import annotations

import gzip
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .text import GZIP_MAGIC, stream_lines
from .text import lines as text_lines
from ..errors import UserError


class VcfFormatError(UserError):
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
    """Header lines, then records, from a VCF path or ``-`` (standard input).

    Plain, gzip and bgzip VCF are read as text (a UTF-8 byte-order mark is accepted; a byte that
    is not UTF-8 is an error naming the line), BCF through cyvcf2. A truncated or corrupt gzip
    stream is a :class:`VcfFormatError`, not a silently shorter input.
    """

    def __init__(self, path: str):
        self.path = path
        self.header: list[str] = []
        self._lines = self._open()
        self._lineno = 0
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
        columns = self.header[-1].split("\t")
        if columns[:8] != ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
            raise VcfFormatError(
                f"{path} line {self._lineno}: the column header must start with the 8 tab-separated VCF columns "
                f"#CHROM POS ID REF ALT QUAL FILTER INFO, found {columns[:8]}"
            )

    def _open(self) -> Iterator[str]:
        if self.path == "-":
            stream = getattr(sys.stdin, "buffer", None)
            if stream is None:  # a text stream without bytes underneath (tests, notebooks)
                return (line.rstrip("\r\n") for line in sys.stdin)
            return stream_lines(stream, VcfFormatError, "standard input")
        path = Path(self.path)
        if path.is_dir():
            raise VcfFormatError(f"VCF {path} is a folder; pass the VCF file with -I")
        if not path.is_file():
            raise VcfFormatError(f"VCF {path} does not exist; pass the variants with -I")
        with open(path, "rb") as handle:
            magic = handle.read(4)
        if path.suffix == ".bcf" or magic[:3] == b"BCF":
            return self._bcf_lines(path)
        if magic[:2] == GZIP_MAGIC:
            try:
                with gzip.open(path, "rb") as probe:
                    is_bcf = probe.read(3) == b"BCF"
            except (EOFError, OSError, zlib.error) as error:
                raise VcfFormatError(f"{path} is not readable gzip ({error}); check it with 'gzip -t {path}'") from None
            if is_bcf:
                return self._bcf_lines(path)
        return (line for _, line in text_lines(path, VcfFormatError))

    @staticmethod
    def _bcf_lines(path: Path) -> Iterator[str]:
        try:
            from cyvcf2 import VCF
        except ImportError:
            raise VcfFormatError(f"{path} is BCF; reading BCF needs cyvcf2: pip install 'splicebert-plugin[vcf]'") from None
        try:
            vcf = VCF(str(path))
        except OSError as error:
            raise VcfFormatError(f"{path}: cannot read it as BCF ({error})") from None
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


#: characters that cannot appear raw in an INFO value (VCF 4.3 section 1.2), and ``|``, which
#: separates the fields of our entries; each is written percent-encoded (``%3B`` for ``;``)
_INFO_UNSAFE = {char: f"%{ord(char):02X}" for char in "%;=, |\t\r\n"}
_INFO_TABLE = str.maketrans(_INFO_UNSAFE)


def info_safe(text: str) -> str:
    """``text`` with the characters INFO values cannot hold percent-encoded (``%`` first)."""
    return text.translate(_INFO_TABLE)


def with_info(record: VcfRecord, entries: dict[str, str], owned: tuple[str, ...] = ()) -> str:
    """The record's line with ``entries`` set in INFO; keys in ``entries`` or ``owned`` already
    there are removed first (so re-scoring leaves nothing stale). Nothing else changes."""
    fields = list(record.fields)
    drop = set(entries) | set(owned)
    kept = [item for item in fields[7].split(";") if item and item != "." and item.split("=", 1)[0] not in drop]
    kept.extend(f"{key}={value}" if value is not None else key for key, value in entries.items())
    fields[7] = ";".join(kept) if kept else "."
    return "\t".join(fields)


def with_header_lines(header: list[str], new_lines: list[str], owned_prefixes: tuple[str, ...] = ()) -> list[str]:
    """Header with ``new_lines`` inserted before ``#CHROM``; INFO lines with the same IDs and
    lines starting with one of ``owned_prefixes`` (an earlier run's) are removed."""
    ids = {line.split("ID=", 1)[1].split(",", 1)[0] for line in new_lines if "ID=" in line}
    kept = [
        line
        for line in header[:-1]
        if not (line.startswith("##INFO=<ID=") and line[len("##INFO=<ID=") :].split(",", 1)[0] in ids)
        and not line.startswith(owned_prefixes or ("\0",))
    ]
    return kept + new_lines + header[-1:]
