"""bgzipped, tabix-indexed tables through pysam (htslib): writing, indexing and position queries.

Used for precomputed scores (``scoring.precompute``): rows sorted by contig (in the order they
are written) and 1-based position in column 2; ``#`` lines are the header.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import UserError

TABIX = {"seq_col": 0, "start_col": 1, "end_col": 1, "meta_char": "#", "zerobased": False}


def _pysam():
    try:
        import pysam
    except ImportError:
        raise UserError("bgzip/tabix files need pysam: pip install 'splicebert-plugin[vcf]' (or pip install pysam)"
                        ) from None
    return pysam


def compress(text_file: str | Path, target: str | Path) -> None:
    """bgzip ``text_file`` into ``target`` (htslib's BGZF: readable by gzip, seekable by tabix)."""
    _pysam().tabix_compress(str(text_file), str(target), force=True)


def index(path: str | Path) -> Path:
    """Write ``path.tbi`` (sequence column 1, position column 2, ``#`` header); returns it."""
    try:
        _pysam().tabix_index(str(path), force=True, **TABIX)
    except (OSError, ValueError) as error:
        raise UserError(f"cannot index {path}: {error} (rows must be sorted by contig and position)") from None
    return Path(f"{path}.tbi")


class TabixTable:
    """Rows of a bgzipped, tabix-indexed table by position (its ``##`` header lines kept)."""

    def __init__(self, path: str | Path):
        pysam = _pysam()
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"{self.path} does not exist")
        if not Path(f"{self.path}.tbi").is_file():
            raise UserError(f"{self.path} has no tabix index ({self.path}.tbi): index it with "
                            f"tabix -s 1 -b 2 -e 2 {self.path}")
        try:
            self._file = pysam.TabixFile(str(self.path))
        except OSError as error:
            raise UserError(f"{self.path} is not a bgzipped, tabix-indexed file: {error}") from None
        self.header = [line for line in self._file.header]
        self.contigs = set(self._file.contigs)

    def rows(self, contig: str, position: int) -> list[Sequence[str]]:
        """The rows at 1-based ``position`` of ``contig`` (none for a contig the file lacks)."""
        if contig not in self.contigs:
            return []
        return [line.split("\t") for line in self._file.fetch(contig, position - 1, position)]

    def close(self) -> None:
        self._file.close()
