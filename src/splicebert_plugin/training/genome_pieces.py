"""The genome pieces of the data bundle the training recipes use (demo corpus, CPU fine-tuning).

The bundle holds slices of real genomes with their annotation in SpliceAI-table layout, whose
rows carry the slice file and the slice's first base (columns 8 and 9: ``PIECE``, 1-based
``PIECE_START``). The helpers here move such rows into slice coordinates, so a slice becomes a
small genome of its own. Shared by ``training/make_demo_model.py``,
``training/evaluate_demo.py`` and ``training/prepare_hg19_pieces.py``.
"""

from __future__ import annotations

from pathlib import Path

from ..io.fasta import read_fasta

#: hg19 slices never used in the demo corpus: the human evaluation set of the demo model card
HOLD_OUT = ("hg19_chr4.103M.fa.gz", "hg19_chr5.124M.fa.gz")
TABLE_HEADER = "#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END"


def read_piece(path: str | Path) -> tuple[str, str]:
    """``(name, sequence)`` of a one-record (gzip) FASTA slice."""
    return next(read_fasta(path))


def table_rows(table: str | Path) -> list[list[str]]:
    """The rows (fields) of a pieces annotation table, header skipped."""
    return [line.split("\t") for line in Path(table).read_text().splitlines()[1:] if line.strip()]


def piece_offset(rows: list[list[str]]) -> int:
    """0-based genomic position of index 0 of the slice these rows belong to."""
    return int(rows[0][8]) - 1


def shifted_rows(rows: list[list[str]], offset: int) -> list[str]:
    """SpliceAI-table rows (as lines) with coordinates moved by ``-offset`` (to slice coordinates)
    and ``chr`` prefixed to the contig."""

    def shift(text: str) -> str:
        return ",".join(str(int(x) - offset) for x in text.split(",") if x) + ","

    return ["\t".join([row[0], "chr" + row[1], row[2], str(int(row[3]) - offset), str(int(row[4]) - offset),
                       shift(row[5]), shift(row[6])]) for row in rows]
