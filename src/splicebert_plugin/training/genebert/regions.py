"""Accessible regions for GeneBERT: peak files per cell type, pseudo-bulk of single-cell peak
counts, and label-free stand-ins computed from sequence (CpG islands, genome tiles).

A *track* is one cell type's set of accessible regions (the paper: 17 cell types of the
Descartes fetal cerebrum scATAC atlas, pseudo-bulk per Seurat cell type, binarised). Coordinates
are 0-based, half-open; regions of a track are kept per contig and sorted, since a GeneBERT
sample is ten *consecutive* regions of one track on one contig.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from ...errors import UserError


@dataclass(frozen=True)
class Region:
    chrom: str
    start: int  # 0-based
    end: int  # exclusive


class RegionError(UserError):
    """A region file is malformed; the message names the file and the line."""


def read_bed_regions(path: str | Path) -> list[Region]:
    """The intervals of a BED file (plain or gzip), sorted by contig and start."""
    from ...io.bed import read_intervals

    return sorted((Region(chrom, start, end) for chrom, start, end in read_intervals(path)),
                  key=lambda r: (r.chrom, r.start, r.end))


def parse_peak_name(name: str) -> Region:
    """``chr1_1000_1500``, ``chr1:1000-1500`` or ``chr1-1000-1500`` (the layouts of peak-count matrices)."""
    for separators in ((":", "-"), ("_", "_"), ("-", "-")):
        head, sep, tail = name.rpartition(separators[1])
        chrom, sep2, start = head.rpartition(separators[0])
        if sep and sep2 and start.isdigit() and tail.isdigit():
            return Region(chrom, int(start), int(tail))
    raise RegionError(f"peak name {name!r} is not chrom:start-end, chrom_start_end or chrom-start-end")


def pseudo_bulk(matrix, peak_names: Sequence[str], cell_types: Sequence[str], *,
                min_cells: int = 1) -> dict[str, list[Region]]:
    """Tracks from a peaks x cells count matrix: counts summed over the cells of each cell type,
    binarised (a region is accessible in a type when at least ``min_cells`` of its cells have a
    read in it) [the paper binarises the pseudo-bulk; the cell threshold is ours]."""
    import scipy.sparse

    matrix = scipy.sparse.csr_matrix(matrix)
    if matrix.shape != (len(peak_names), len(cell_types)):
        raise RegionError(f"the matrix is {matrix.shape[0]} peaks x {matrix.shape[1]} cells, but there are "
                          f"{len(peak_names)} peak names and {len(cell_types)} cell labels")
    regions = [parse_peak_name(name) for name in peak_names]
    tracks = {}
    for cell_type in sorted(set(cell_types)):
        columns = np.flatnonzero(np.asarray(cell_types) == cell_type)
        cells_with_reads = (matrix[:, columns] > 0).sum(axis=1).A.ravel()
        chosen = [regions[i] for i in np.flatnonzero(cells_with_reads >= min_cells)]
        tracks[cell_type] = sorted(chosen, key=lambda r: (r.chrom, r.start, r.end))
    return tracks


def read_mtx_tracks(mtx: str | Path, peaks: str | Path, cells: str | Path, *, min_cells: int = 1) -> dict:
    """Tracks from a Matrix Market peaks x cells file, its peak names (one per line) and a
    cell table (``cell<TAB>cell_type`` per line, in the matrix's column order)."""
    import scipy.io

    from ...io.text import lines as text_lines

    for path in (mtx, peaks, cells):
        if not Path(path).is_file():
            raise RegionError(f"{path} does not exist")
    matrix = scipy.io.mmread(str(mtx))
    names = [line.split("\t")[0] for _, line in text_lines(Path(peaks), RegionError) if line.strip()]
    types = []
    for lineno, line in text_lines(Path(cells), RegionError):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise RegionError(f"{cells} line {lineno}: expected cell<TAB>cell_type")
        types.append(fields[1])
    return pseudo_bulk(matrix, names, types, min_cells=min_cells)


def cpg_islands(sequence: str, *, window: int = 500, min_gc: float = 0.55, min_ratio: float = 0.65,
                offset: int = 0) -> list[tuple[int, int]]:
    """CpG islands by the Takai-Jones criteria: windows of ``window`` nt with GC fraction >=
    ``min_gc`` and observed/expected CpG >= ``min_ratio`` (``CpG * L / (C * G)``), merged where
    they overlap, each merged island checked again over its whole length. ``(start, end)``
    intervals (0-based, + ``offset``)."""
    text = np.frombuffer(sequence.upper().encode("ascii", errors="replace"), dtype=np.uint8)
    n = len(text)
    if n < window:
        return []
    is_c, is_g = text == ord("C"), text == ord("G")
    is_cg = np.zeros(n, dtype=bool)
    is_cg[:-1] = is_c[:-1] & is_g[1:]

    def sums(flags):
        return np.concatenate([[0], np.cumsum(flags, dtype=np.int64)])

    c, g, cg = sums(is_c), sums(is_g), sums(is_cg)

    def passes(start, end):
        length = end - start
        cs, gs = c[end] - c[start], g[end] - g[start]
        cgs = cg[end - 1] - cg[start]  # dinucleotides starting inside [start, end - 1)
        gc_ok = (cs + gs) >= min_gc * length
        ratio_ok = cgs * length >= min_ratio * np.maximum(cs * gs, 1) - 1e-9
        return gc_ok & ratio_ok & (cs * gs > 0)

    starts = np.arange(n - window + 1)
    good = passes(starts, starts + window)
    edges = np.diff(np.concatenate([[0], good.astype(np.int8), [0]]))
    islands = []
    for first, last in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1, strict=True):
        start, end = int(first), int(last) + window  # the union of a run of passing windows
        if islands and start <= islands[-1][1]:
            start = islands.pop()[0]
        islands.append((start, end))
    islands = [(s, e) for s, e in islands if passes(np.array([s]), np.array([e]))[0]]
    return [(s + offset, e + offset) for s, e in islands]


def tiles(length: int, size: int, *, offset: int = 0) -> list[tuple[int, int]]:
    """Consecutive ``size``-nt tiles of a contig of ``length`` (the last partial tile dropped)."""
    return [(offset + s, offset + s + size) for s in range(0, length - size + 1, size)]


def tss_windows(genes: Iterable, upstream: int, downstream: int) -> list[tuple[str, int, int, str, str]]:
    """``(chrom, start, end, strand, name)`` of the window ``TSS - upstream ... TSS + downstream``
    on each gene's strand (genomic interval; TSS = transcript start on ``+``, ``end - 1`` on ``-``)."""
    out = []
    for gene in genes:
        if gene.strand == "+":
            tss = gene.start
            out.append((gene.chrom, tss - upstream, tss + downstream + 1, "+", gene.name))
        else:
            tss = gene.end - 1
            out.append((gene.chrom, tss - downstream, tss + upstream + 1, "-", gene.name))
    return out
