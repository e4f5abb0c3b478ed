"""Branchpoint fine-tuning data (docs/training.md): Mercer et al. regions in 510-nt windows.

Each BED row is a branchpoint search region (18-44 nt upstream of an acceptor; 0-based start,
half-open) with one label per position in genomic + order: 1 = high-confidence branchpoint,
0 = not, -100 = low confidence (ignored). As in the SpliceBERT release, rows without a 1 are
dropped; the region is placed in a ``width``-nt window on the transcript strand with
``(width - L) // 2`` nucleotides upstream of it (reverse complement and reversed labels for
``-``); positions outside the region are -100.
"""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ...scoring.windows import reverse_complement
from ...errors import UserError


@dataclass(frozen=True)
class BranchpointWindow:
    chrom: str
    start: int  # 0-based genomic start of the window
    strand: str
    sequence: str  # transcript orientation, ``width`` nt
    labels: np.ndarray  # (width,) int64: 1, 0 or -100
    name: str


def read_branchpoint_bed(path: str | Path) -> Iterator[tuple[str, int, int, str, np.ndarray, str]]:
    """Rows ``(chrom, start, end, name, labels (genomic + order), strand)`` of a Mercer BED."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        for lineno, line in enumerate(handle, start=1):
            if not line.strip() or line.startswith(("#", "track")):
                continue
            fields = line.rstrip("\n").split("\t")
            try:
                chrom, start, end, name, labels, strand = fields[:6]
                values = np.array([int(x) for x in labels.split(",")], dtype=np.int64)
                start, end = int(start), int(end)
            except ValueError:
                raise UserError(f"{path} line {lineno}: expected chrom, start, end, name, labels, strand") from None
            if len(values) != end - start:
                raise UserError(f"{path} line {lineno}: {len(values)} labels for a {end - start}-nt region")
            yield chrom, start, end, name, values, strand


def branchpoint_windows(bed: str | Path, genome, *, width: int = 510, keep_without_positive: bool = False,
                        skipped: Counter | None = None):
    """:class:`BranchpointWindow` for every BED row whose contig is in ``genome`` (an
    ``io.genome.Genome``); rows that give no window are counted in ``skipped`` (reason -> rows)."""
    from ...io.genome import WindowSource

    source = WindowSource(genome, skipped)
    for chrom, start, end, name, labels, strand in read_branchpoint_bed(bed):
        if not keep_without_positive and not np.any(labels == 1):
            source.skipped["no branchpoint in the region"] += 1
            continue
        contig = source.contig(chrom)
        if contig is None:
            continue
        # centred in transcript orientation as the release does: (width - L) // 2 nt upstream
        flank = (width - (end - start)) // 2
        window_start = start - flank if strand == "+" else end + flank - width
        sequence = source.fetch(contig, window_start, window_start + width)
        if sequence is None:
            continue
        window_labels = np.full(width, -100, dtype=np.int64)
        window_labels[start - window_start : end - window_start] = labels
        if strand == "-":
            sequence, window_labels = reverse_complement(sequence), window_labels[::-1].copy()
        yield BranchpointWindow(chrom, window_start, strand, sequence, window_labels, name)
