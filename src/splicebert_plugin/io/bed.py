"""BED and BEDPE sites (0-based starts, half-open), as the analysis tools read them.

A *site* is one nucleotide: a BED interval of length 1 (longer intervals give their first base
in transcript order and are flagged). BED: ``chrom start end [name [score [strand]]]``; BEDPE:
``chrom1 start1 end1 chrom2 start2 end2 [name [score [strand1 [strand2]]]]``. Strand ``.`` or a
missing column is ``+``. Plain or gzip, ``#``/``track``/``browser`` lines skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .text import lines as text_lines
from ..errors import UserError


class BedError(UserError):
    """A BED/BEDPE line is malformed; the message names the file and the line."""


@dataclass(frozen=True)
class Site:
    chrom: str
    position: int  # 0-based
    strand: str  # "+" or "-"
    name: str


@dataclass(frozen=True)
class SitePair:
    """Two sites on one contig and strand (BEDPE), e.g. the donor and acceptor of one intron."""

    chrom: str
    first: int  # 0-based, as written in columns 2-3
    second: int  # 0-based, as written in columns 5-6
    strand: str
    name: str

    @property
    def distance(self) -> int:
        return abs(self.second - self.first)


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    if not path.is_file():
        raise BedError(f"{path} does not exist")
    for lineno, line in text_lines(path, BedError):
        if not line.strip() or line.startswith(("#", "track", "browser")):
            continue
        yield lineno, line.split("\t")


def _site(path, lineno, chrom, start, end, strand) -> tuple[int, str]:
    try:
        start, end = int(start), int(end)
    except ValueError:
        raise BedError(f"{path} line {lineno}: start/end {start!r}/{end!r} are not integers") from None
    if start < 0 or end <= start:
        raise BedError(f"{path} line {lineno}: need 0 <= start < end, got {start}-{end}")
    strand = "+" if strand in (".", "") else strand
    if strand not in ("+", "-"):
        raise BedError(f"{path} line {lineno}: strand {strand!r} is not +, - or .")
    return (start if strand == "+" else end - 1), strand


def read_sites(path: str | Path) -> Iterator[Site]:
    """The sites of a BED file (a line's first base in transcript order)."""
    path = Path(path)
    for lineno, fields in _records(path):
        if len(fields) < 3:
            raise BedError(f"{path} line {lineno}: a BED line needs at least 3 tab-separated columns")
        name = fields[3] if len(fields) > 3 else f"{fields[0]}:{fields[1]}"
        position, strand = _site(path, lineno, fields[0], fields[1], fields[2], fields[5] if len(fields) > 5 else "+")
        yield Site(fields[0], position, strand, name)


def read_pairs(path: str | Path) -> Iterator[SitePair]:
    """The site pairs of a BEDPE file; both ends must be on one contig and strand."""
    path = Path(path)
    for lineno, fields in _records(path):
        if len(fields) < 6:
            raise BedError(f"{path} line {lineno}: a BEDPE line needs at least 6 tab-separated columns")
        strands = (fields[8] if len(fields) > 8 else "+", fields[9] if len(fields) > 9 else "+")
        first, strand = _site(path, lineno, fields[0], fields[1], fields[2], strands[0])
        second, strand2 = _site(path, lineno, fields[3], fields[4], fields[5], strands[1])
        if fields[0] != fields[3] or strand != strand2:
            raise BedError(f"{path} line {lineno}: the two sites must share contig and strand "
                           f"({fields[0]}{strand} vs {fields[3]}{strand2})")
        name = fields[6] if len(fields) > 6 else f"{fields[0]}:{fields[1]}-{fields[4]}"
        yield SitePair(fields[0], first, second, strand, name)


def read_intervals(path: str | Path) -> Iterator[tuple[str, int, int]]:
    """``(chrom, start, end)`` of every line of a BED file (0-based, half-open; other columns ignored)."""
    path = Path(path)
    for lineno, fields in _records(path):
        if len(fields) < 3:
            raise BedError(f"{path} line {lineno}: a BED line needs at least 3 tab-separated columns")
        try:
            start, end = int(fields[1]), int(fields[2])
        except ValueError:
            raise BedError(f"{path} line {lineno}: start/end {fields[1]!r}/{fields[2]!r} are not integers") from None
        if start < 0 or end <= start:
            raise BedError(f"{path} line {lineno}: need 0 <= start < end, got {start}-{end}")
        yield fields[0], start, end
