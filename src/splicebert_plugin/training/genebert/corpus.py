"""The GeneBERT pretraining corpus: accessible regions, the DNA each shows, and its motif matrix.

Layout of a corpus folder (memory-mapped arrays; everything a sample needs, nothing computed
at training time but the k-mers)::

    meta.json       inputs, settings, JASPAR release, background, per-track counts and densities
    motifs.json     the motifs in column order (``genebert.motifs``): ids, names, PWMs, thresholds
    contigs.json    contig names (regions.npy refers to them by index)
    regions.npy     one row per unique region: contig, start, end (0-based, half-open), shown
                    (0-based start of the ``region_bp`` window the text encoder sees)
    tokens.bin      uint8 ASCII of every shown window, ``region_bp`` bytes per region
    counts.npy      uint8 motif hits per region and motif (clipped at 255), scanned over the
                    shown window on both strands
    maxscore.npy    float16 best window score (log2 odds) per region and motif (-inf: none fits)
    tracks/<name>.npy  the region ids of one track ("cell type"), in genome order (the name
                    percent-encoded: ``track_file_stem``)

Each region's matrix row describes exactly the DNA the text encoder sees (the shown window
centred on the region) [ours: the paper scans whole peaks; ``scan="region"`` is not offered
yet]. The background of the thresholds is the nucleotide frequency of all shown windows. A
folder whose ``meta.json`` records the same inputs and settings is reused; otherwise it is
rebuilt (written under a temporary name and renamed when complete).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from ...errors import UserError

REGION_DTYPE = np.dtype([("contig", "<i4"), ("start", "<i8"), ("end", "<i8"), ("shown", "<i8")])
KINDS = ("bed", "cpg_islands", "tiles")


class GeneBertCorpusError(UserError):
    """The corpus inputs or folder cannot be used; the message says which and why."""


@dataclass(frozen=True)
class TrackInput:
    """One track: ``bed`` (a peak file: one cell type's accessible regions), or regions computed
    from the genome sequence as label-free stand-ins: ``cpg_islands`` (Takai-Jones) or ``tiles``
    (consecutive ``region_bp`` windows)."""

    name: str
    kind: str
    path: str | None = None


@dataclass(frozen=True)
class CorpusSettings:
    region_bp: int = 50
    jaspar_release: str = "JASPAR2018"
    collection: str = "CORE"
    tax_group: str = "vertebrates"
    p_value: float = 5e-5
    pseudocount: float = 0.8
    max_n_fraction: float = 0.1  # shown windows with more N are left out (counted)


def _fingerprint(genome: str, tracks: Sequence[TrackInput], settings: CorpusSettings, exclude: str | None) -> str:
    digest = hashlib.sha256()
    for path in [genome] + [t.path for t in tracks if t.path] + ([exclude] if exclude else []):
        stat = os.stat(path)
        digest.update(f"{Path(path).resolve()}:{stat.st_size}:{int(stat.st_mtime)}".encode())
    digest.update(json.dumps([asdict(t) for t in tracks], sort_keys=True).encode())
    digest.update(json.dumps(asdict(settings), sort_keys=True).encode())
    return digest.hexdigest()


def _track_regions(genome, track: TrackInput, region_bp: int) -> list[tuple[str, int, int]]:
    from .regions import cpg_islands, read_bed_regions, tiles
    from ...io.contigs import ContigMap

    if track.kind == "bed":
        names = ContigMap(genome.contigs, f"genome {genome.path.name}")
        regions = []
        for region in read_bed_regions(track.path):
            contig = names.get(region.chrom)
            if contig is not None:
                regions.append((contig, region.start, region.end))
        return regions
    out = []
    for contig in genome.contigs:
        length = genome.lengths[contig]
        if track.kind == "tiles":
            out.extend((contig, s, e) for s, e in tiles(length, region_bp))
        else:
            sequence, _ = genome.fetch(contig, 0, length)
            out.extend((contig, s, e) for s, e in cpg_islands(sequence))
    return out


def _excluded(genome, path: str) -> dict[str, np.ndarray]:
    """Per genome contig, the sorted (start, end) intervals of the BED ``path``."""
    from .regions import read_bed_regions
    from ...io.contigs import ContigMap

    names = ContigMap(genome.contigs, f"genome {genome.path.name}")
    by_contig: dict = {}
    for region in read_bed_regions(path):
        contig = names.get(region.chrom)
        if contig is not None:
            by_contig.setdefault(contig, []).append((region.start, region.end))
    return {contig: np.array(sorted(v), dtype=np.int64).reshape(-1, 2) for contig, v in by_contig.items()}


def _overlaps(intervals: np.ndarray | None, start: int, end: int) -> bool:
    if intervals is None or not len(intervals):
        return False
    before = np.searchsorted(intervals[:, 0], end)  # intervals starting before ``end``
    return bool(before) and bool((intervals[:before, 1] > start).any())


def build_genebert_corpus(genome_path: str, tracks: Sequence[TrackInput], out: str | Path, *,
                          settings: CorpusSettings = CorpusSettings(), motifs_raw=None, exclude: str | None = None,
                          progress: bool = True) -> Path:
    """Build (or reuse) the corpus folder ``out``; returns it.

    ``motifs_raw``: motifs to use instead of JASPAR's (anything ``genebert.motifs.build_motifs``
    takes; for tests and custom motif sets). ``exclude``: a BED file; regions overlapping it are
    left out (counted), e.g. the windows of a downstream test. Raises
    :class:`GeneBertCorpusError` for bad inputs.
    """
    from tqdm import tqdm

    from .motif_scan import MotifBank, region_matrix
    from .motifs import build_motifs, load_jaspar, write_motifs
    from ...io.genome import Genome

    out = Path(out)
    if not tracks:
        raise GeneBertCorpusError("no track given: name at least one peak file or a computed track")
    names = [t.name for t in tracks]
    if len(set(names)) != len(names):
        raise GeneBertCorpusError(f"track names must be unique, got {names}")
    for track in tracks:
        if track.kind not in KINDS:
            raise GeneBertCorpusError(f"track {track.name}: kind {track.kind!r} is not one of {KINDS}")
        if track.kind == "bed" and (track.path is None or not Path(track.path).is_file()):
            raise GeneBertCorpusError(f"track {track.name}: peak file {track.path} does not exist")
    if not Path(genome_path).is_file():
        raise GeneBertCorpusError(f"genome FASTA {genome_path} does not exist")
    if exclude is not None and not Path(exclude).is_file():
        raise GeneBertCorpusError(f"exclusion BED {exclude} does not exist")
    fingerprint = _fingerprint(genome_path, tracks, settings, exclude)
    meta_file = out / "meta.json"
    if meta_file.is_file() and json.loads(meta_file.read_text()).get("fingerprint") == fingerprint:
        return out
    staging = out.with_name(out.name + ".building")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "tracks").mkdir(parents=True)
    bp = settings.region_bp
    with Genome(genome_path) as genome:
        per_track = {t.name: _track_regions(genome, t, bp) for t in tracks}
        unique = sorted({r for regions in per_track.values() for r in regions},
                        key=lambda r: (genome.contigs.index(r[0]), r[1], r[2]))
        contigs = list(genome.contigs)
        excluded = _excluded(genome, exclude) if exclude else {}
        windows, kept = [], []
        skipped = {"window past a contig end": 0, "too many N": 0, "overlaps an excluded interval": 0}
        for contig, start, end in tqdm(unique, desc="regions", unit=" regions", file=sys.stderr,
                                       disable=not progress):
            if _overlaps(excluded.get(contig), start, end):
                skipped["overlaps an excluded interval"] += 1
                continue
            shown = (start + end) // 2 - bp // 2
            sequence, off_contig = genome.fetch(contig, shown, shown + bp)
            if off_contig:
                skipped["window past a contig end"] += 1
                continue
            if sequence.count("N") > settings.max_n_fraction * bp:
                skipped["too many N"] += 1
                continue
            windows.append(sequence)
            kept.append((contigs.index(contig), start, end, shown))
    if not windows:
        raise GeneBertCorpusError(f"no usable region (skipped: {skipped})")
    text = "".join(windows)
    background = np.array([text.count(b) for b in "ACGT"], dtype=np.float64)
    background = (background / background.sum()).tolist()
    raw = motifs_raw if motifs_raw is not None else load_jaspar(settings.jaspar_release, settings.collection,
                                                                 settings.tax_group)
    motifs = build_motifs(raw, background, p=settings.p_value, pseudocount=settings.pseudocount)
    bank = MotifBank.from_motifs(motifs)
    counts = np.lib.format.open_memmap(staging / "counts.npy", mode="w+", dtype=np.uint8,
                                       shape=(len(windows), len(motifs)))
    best = np.lib.format.open_memmap(staging / "maxscore.npy", mode="w+", dtype=np.float16,
                                     shape=(len(windows), len(motifs)))
    step = 2048
    bar = tqdm(total=len(windows), desc="motif scan", unit=" regions", file=sys.stderr, disable=not progress)
    for first in range(0, len(windows), step):
        hits, top = region_matrix(bank, windows[first : first + step])
        counts[first : first + step] = np.minimum(hits, 255)
        best[first : first + step] = np.where(np.isfinite(top), top / motifs[0].scale, -np.inf)
        bar.update(min(step, len(windows) - first))
    bar.close()
    counts.flush()
    best.flush()
    del counts, best
    regions = np.array(kept, dtype=REGION_DTYPE)
    np.save(staging / "regions.npy", regions)
    (staging / "tokens.bin").write_bytes(text.encode("ascii"))
    index = {(contigs[c], s, e): i for i, (c, s, e, _) in enumerate(kept)}
    summary = {}
    hits = np.load(staging / "counts.npy", mmap_mode="r")
    for name, track_regions in per_track.items():
        ids = np.array(sorted({index[r] for r in track_regions if r in index}), dtype=np.int64)
        np.save(staging / "tracks" / f"{track_file_stem(name)}.npy", ids)
        rows = hits[ids] if len(ids) else np.zeros((0, len(motifs)), dtype=np.uint8)
        summary[name] = {"regions": int(len(ids)), "given": len(track_regions),
                         "hits_per_region": float(rows.sum(axis=1).mean()) if len(ids) else 0.0,
                         "match_density": float((rows > 0).mean()) if len(ids) else 0.0}
    write_motifs(staging / "motifs.json", motifs, {**asdict(settings), "background": background})
    (staging / "contigs.json").write_text(json.dumps(contigs) + "\n")
    meta = {"fingerprint": fingerprint, "genome": str(Path(genome_path).resolve()),
            "exclude": str(Path(exclude).resolve()) if exclude else None,
            "tracks": [asdict(t) for t in tracks], "settings": asdict(settings), "background": background,
            "regions": int(len(regions)), "motifs": len(motifs),
            "unreachable_p": [m.matrix_id for m in motifs if not m.p_reachable], "skipped": skipped,
            "summary": summary}
    (staging / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(staging, out)
    return out


def track_file_stem(name: str) -> str:
    """A file name for a track name: percent-encoded, so that cell types such as
    ``Astrocytes/Oligodendrocytes`` or names with spaces stay one file (letters, digits and
    ``_.-~`` unchanged; the encoding is reversible and tells names apart)."""
    from urllib.parse import quote

    stem = quote(name, safe="")
    if stem in ("", ".", ".."):  # not file names of their own
        return stem.replace(".", "%2E") or "%00"
    return stem


class GeneBertCorpus:
    """A built corpus folder, memory-mapped."""

    def __init__(self, path: str | Path):
        from .motifs import read_motifs

        self.path = Path(path)
        if not (self.path / "meta.json").is_file():
            raise GeneBertCorpusError(f"{self.path} is not a GeneBERT corpus folder (no meta.json); build one first")
        self.meta = json.loads((self.path / "meta.json").read_text())
        self.region_bp = self.meta["settings"]["region_bp"]
        self.regions = np.load(self.path / "regions.npy")
        self.contigs = json.loads((self.path / "contigs.json").read_text())
        self.tokens = np.memmap(self.path / "tokens.bin", dtype=np.uint8, mode="r")
        self.counts = np.load(self.path / "counts.npy", mmap_mode="r")
        self.max_scores = np.load(self.path / "maxscore.npy", mmap_mode="r")
        self.motifs, self.motif_settings = read_motifs(self.path / "motifs.json")
        self.tracks = {}
        for name in self.meta.get("summary", {}):  # the track names, in the order given
            path = self.path / "tracks" / f"{track_file_stem(name)}.npy"
            if not path.is_file():  # a corpus from before names were encoded
                path = self.path / "tracks" / f"{name}.npy"
            self.tracks[name] = np.load(path)

    def __len__(self) -> int:
        return len(self.regions)

    def window(self, region: int) -> str:
        """The DNA region ``region`` shows (``region_bp`` nt, genome + strand)."""
        start = region * self.region_bp
        return bytes(self.tokens[start : start + self.region_bp]).decode("ascii")

    @property
    def tf_ids(self) -> list[str]:
        return [m.matrix_id for m in self.motifs]
