"""Reference genome access through pyfaidx (indexed FASTA, plain or bgzip)."""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from ..errors import UserError

log = logging.getLogger(__name__)


class GenomeError(UserError):
    """The genome FASTA cannot be used; the message names the file and the fix."""


def index_problem(fasta: Path, index: Path) -> str | None:
    """Why the ``.fai`` ``index`` cannot be trusted for ``fasta`` (None when it can).

    An index is stale when it is older than the FASTA (by more than a second), or (plain FASTA) when its records do not
    fit the file: a contig that would end past the file's end, a record that does not start
    after a line break, or sequence left after the last indexed contig (contigs were added).
    """
    # a second of slack: a checkout or copy may write the two files in either order
    if index.stat().st_mtime < fasta.stat().st_mtime - 1.0:
        return f"{index.name} is older than the FASTA"
    try:
        entries = []
        for line in index.read_text().splitlines():
            if line.strip():
                name, length, offset, line_bases, line_width = line.split("\t")[:5]
                entries.append((name, int(length), int(offset), int(line_bases), int(line_width)))
    except (ValueError, UnicodeDecodeError):
        return f"{index.name} is not a FASTA index (expected 5 tab-separated columns per contig)"
    if not entries:
        return f"{index.name} lists no contig"
    with open(fasta, "rb") as handle:
        if handle.read(2) == b"\x1f\x8b":
            return None  # bgzip: offsets are in uncompressed coordinates; the age check is what we can do
        size = os.fstat(handle.fileno()).st_size
        previous_end = 0
        for name, length, offset, line_bases, line_width in entries:
            if line_bases < 1 or line_width < line_bases or offset < previous_end:
                return f"{index.name} does not fit the FASTA (record {name!r})"
            full, rest = divmod(length, line_bases)
            end = offset + full * line_width + rest
            handle.seek(max(offset - 1, 0))
            if end > size or (offset > 0 and handle.read(1) != b"\n"):
                return f"{index.name} does not fit the FASTA (contig {name!r} is not where the index says)"
            previous_end = end
        handle.seek(previous_end)
        tail = handle.read(1 << 16)
        if tail.strip() or size - previous_end > len(tail):
            return f"{index.name} does not list every contig of the FASTA"
    return None


class Genome:
    """An indexed FASTA opened read-only; sequence outside a contig reads as ``N``.

    A plain FASTA without ``.fai`` gets one written beside it (with a log line) when its folder
    is writable; a bgzip FASTA needs its ``.fai`` and ``.gzi`` (``samtools faidx``). A stale
    ``.fai`` (see :func:`index_problem`) is rebuilt when its folder is writable and refused
    otherwise; it is never used silently.
    """

    def __init__(self, path: str | Path):
        import pyfaidx

        self.path = Path(path)
        if self.path.is_dir():
            raise GenomeError(f"genome FASTA {self.path} is a folder; pass the FASTA file with -R")
        if not self.path.is_file():
            raise GenomeError(f"genome FASTA {self.path} does not exist; pass the reference with -R")
        index = Path(f"{self.path}.fai")
        with open(self.path, "rb") as handle:
            magic = handle.read(3)
        if magic[:2] == b"\x1f\x8b" and not Path(f"{self.path}.gzi").is_file():
            raise GenomeError(
                f"genome FASTA {self.path} is gzip-compressed without a bgzip index (.gzi); recompress it with "
                f"'bgzip' and index it with 'samtools faidx', or decompress it"
            )
        if magic == b"\xef\xbb\xbf":
            raise GenomeError(f"genome FASTA {self.path} starts with a UTF-8 byte-order mark, which FASTA indexes "
                              "cannot describe; remove it (e.g. sed -i '1s/^\\xEF\\xBB\\xBF//') and re-index")
        if not index.is_file():
            self._build_index(index, compressed=magic[:2] == b"\x1f\x8b")
        problem = index_problem(self.path, index)
        if problem is not None:
            self._rebuild_index(index, problem, compressed=magic[:2] == b"\x1f\x8b")
        try:
            self._fasta = pyfaidx.Fasta(str(self.path), as_raw=True, rebuild=False, build_index=False)
        except Exception as error:  # pyfaidx raises several unrelated types for unreadable files
            raise GenomeError(f"cannot read genome FASTA {self.path}: {error}") from None
        self.lengths = {name: len(record) for name, record in self._fasta.records.items()}

    def _build_index(self, index: Path, *, compressed: bool) -> None:
        """Write the missing ``.fai`` beside the FASTA (as samtools, pyfaidx and SpliceAI do)."""
        import pyfaidx

        fix = f"create it with 'samtools faidx {self.path}' where you can write, or pass a FASTA in a writable folder"
        if compressed or not os.access(self.path.parent, os.W_OK):
            raise GenomeError(f"genome FASTA {self.path} has no index {index.name} and its folder cannot be "
                              f"written; {fix}")
        log.warning("genome FASTA %s has no index: writing %s (once)", self.path, index.name)
        try:
            pyfaidx.Faidx(str(self.path), build_index=True).close()
        except Exception as error:  # pyfaidx raises several unrelated types for unreadable files
            index.unlink(missing_ok=True)
            raise GenomeError(f"cannot index genome FASTA {self.path}: {error}; {fix}") from None

    def _rebuild_index(self, index: Path, problem: str, *, compressed: bool) -> None:
        import pyfaidx

        fix = f"rebuild it with 'samtools faidx {self.path}'"
        if compressed or not os.access(index.parent, os.W_OK) or not os.access(index, os.W_OK):
            raise GenomeError(f"the index of genome FASTA {self.path} is stale ({problem}); {fix}")
        log.warning("the index of %s is stale (%s): rebuilding it", self.path, problem)
        fresh = Path(f"{index}.rebuilding")
        try:
            index.replace(fresh)  # keep the old one aside until the new one is written
            pyfaidx.Faidx(str(self.path), build_index=True).close()
        except Exception as error:
            if fresh.exists() and not index.exists():
                fresh.replace(index)
            raise GenomeError(f"the index of genome FASTA {self.path} is stale ({problem}) and could not be "
                              f"rebuilt ({error}); {fix}") from None
        fresh.unlink(missing_ok=True)

    @property
    def contigs(self) -> list[str]:
        return list(self.lengths)

    def fetch(self, contig: str, start: int, end: int) -> tuple[str, bool]:
        """Upper-case sequence of ``contig[start:end]`` (0-based, half-open), N-padded off the contig.

        Returns ``(sequence, off_contig)``; ``off_contig`` tells that padding was needed.
        """
        length = self.lengths[contig]
        left, right = max(0, start), min(length, end)
        body = str(self._fasta[contig][left:right]).upper() if right > left else ""
        prefix = "N" * (min(end, 0) - start if start < 0 else 0)
        suffix = "N" * (end - max(length, start) if end > length else 0)
        sequence = prefix + body + suffix
        return sequence, bool(prefix or suffix)

    def close(self) -> None:
        self._fasta.close()

    def __enter__(self) -> "Genome":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: why a window cannot be taken from the genome: one text per reason, for every caller
CONTIG_NOT_IN_GENOME = "contig not in the genome"
PAST_CONTIG_END = "window past a contig end"
HAS_N = "window with N"


class WindowSource:
    """Windows of ``genome`` asked for by annotation contig names (``chr19`` <-> ``19``), with
    every window it cannot give counted in ``skipped`` under one of the reasons above (a
    ``prefix`` such as ``"decoy "`` tells kinds of windows apart). Sequences come back as stored
    (genome strand, case kept); orienting them is the caller's."""

    def __init__(self, genome, skipped: Counter | None = None):
        from .contigs import ContigMap

        self.genome = genome
        self.names = ContigMap(genome.contigs, f"genome {genome.path.name}")
        self.skipped = Counter() if skipped is None else skipped

    def contig(self, chrom: str, *, prefix: str = "") -> str | None:
        """The genome's name of ``chrom``, or None (counted) when the genome lacks it."""
        contig = self.names.get(chrom)
        if contig is None:
            self.skipped[prefix + CONTIG_NOT_IN_GENOME] += 1
        return contig

    def fetch(self, contig: str, start: int, end: int, *, no_n: bool = False, prefix: str = "") -> str | None:
        """``genome[contig][start:end]`` (0-based, half-open, the genome's contig name), or None
        (counted) when it runs past a contig end or, with ``no_n``, holds an N."""
        sequence, off_contig = self.genome.fetch(contig, start, end)
        if off_contig:
            self.skipped[prefix + PAST_CONTIG_END] += 1
            return None
        if no_n and "N" in sequence.upper():
            self.skipped[prefix + HAS_N] += 1
            return None
        return sequence
