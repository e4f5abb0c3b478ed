"""Splice-site classification data (docs/training.md): annotated sites vs GT/AG decoys.

An equivalent of the Spliceator sets built from a genome FASTA + annotation. For each kind
(``donor`` or ``acceptor``):

- positives: every annotated site of every transcript (an intron's 5' end for donors, its 3'
  end for acceptors), once each;
- decoys: positions on the transcribed strand inside annotated transcripts that carry the
  site's dinucleotide (GT after a donor boundary, AG before an acceptor boundary, in transcript
  orientation) but are not an annotated site of that kind; ``decoys_per_site`` decoys per
  positive are drawn at random (seeded) from all such candidates.

A site is identified by its boundary: the 0-based genomic coordinate ``b`` such that the
exon/intron boundary lies between ``b - 1`` and ``b``. Its example is the ``width``-nt window
``[b - width/2, b + width/2)`` in transcript orientation (reverse complement on ``-``), so the
boundary always sits between window indices ``width/2 - 1`` and ``width/2``: a donor's GT at
``[width/2, width/2 + 2)``, an acceptor's AG at ``[width/2 - 2, width/2)``, for positives and
decoys alike. Windows reaching past a contig end are not used; their number is reported.

Examples are grouped by locus (annotated transcripts of one strand merged where they overlap),
and cross-validation folds are whole loci, so that no test window shares sequence with a
training window of the same gene.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ...scoring.windows import reverse_complement
from ...errors import UserError

KINDS = ("donor", "acceptor")
# (kind, strand) -> (motif on the + strand of the genome, offset of the motif from the boundary)
_MOTIFS = {
    ("donor", "+"): ("GT", 0),
    ("donor", "-"): ("AC", -2),
    ("acceptor", "+"): ("AG", -2),
    ("acceptor", "-"): ("CT", 0),
}


@dataclass(frozen=True)
class SiteExample:
    kind: str  # "donor" or "acceptor"
    chrom: str  # the genome's contig name
    boundary: int  # 0-based genomic coordinate: the boundary lies between boundary - 1 and boundary
    strand: str
    label: int  # 1 = annotated site, 0 = decoy
    locus: str  # cross-validation group: "chrom:strand:start-end" of the merged transcripts
    sequence: str  # ``width`` nt in transcript orientation


@dataclass
class SiteSet:
    examples: list[SiteExample]
    skipped: Counter = field(default_factory=Counter)  # reason -> count (never silently dropped)


def site_boundaries(transcript) -> dict[str, list[int]]:
    """``{"donor": [...], "acceptor": [...]}`` boundaries of one transcript (an ``io.annotation.Gene``)."""
    exons = transcript.exons
    left = [end for _, end in exons[:-1]]  # intron starts (genomic)
    right = [start for start, _ in exons[1:]]  # intron ends (exclusive)
    if transcript.strand == "+":
        return {"donor": left, "acceptor": right}
    return {"donor": right, "acceptor": left}


def transcripts_on_genome(source, transcripts) -> list[tuple[str, object]]:
    """``(genome contig, transcript)`` of the transcripts whose contig the genome has (a
    ``io.genome.WindowSource``; the others are counted in its ``skipped``)."""
    usable = []
    for t in transcripts:
        contig = source.contig(t.chrom, prefix="transcript ")
        if contig is not None:
            usable.append((contig, t))
    return usable


def merged_loci(transcripts) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """Transcript spans merged per (chrom, strand)."""
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for t in sorted(transcripts, key=lambda t: (t.chrom, t.strand, t.start, t.end)):
        merged = spans.setdefault((t.chrom, t.strand), [])
        if merged and t.start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], t.end))
        else:
            merged.append((t.start, t.end))
    return spans


def splice_site_examples(genome, transcripts, kind: str, *, width: int = 400, decoys_per_site: float = 1.0,
                         seed: int = 0) -> SiteSet:
    """Positives and decoys of one ``kind`` from ``genome`` (``io.genome.Genome``) and
    ``transcripts`` (``io.annotation.read_transcripts``)."""
    from ...io.genome import WindowSource

    if kind not in KINDS:
        raise UserError(f"kind {kind!r}: choose one of {KINDS}")
    if width < 4 or width % 2:
        raise UserError(f"width must be an even number >= 4, got {width}")
    source = WindowSource(genome)
    names, skipped = source.names, source.skipped
    half = width // 2

    annotated: dict[tuple[str, str], set[int]] = {}
    usable = transcripts_on_genome(source, transcripts)
    for contig, t in usable:
        annotated.setdefault((contig, t.strand), set()).update(site_boundaries(t)[kind])
    usable = [t for _, t in usable]

    def window(contig, strand, boundary, prefix):
        sequence = source.fetch(contig, boundary - half, boundary + half, prefix=prefix)
        if sequence is None:
            return None
        return reverse_complement(sequence) if strand == "-" else sequence

    positives, candidates = [], []  # candidates: (contig, strand, locus, boundaries array)
    for (chrom, strand), spans in merged_loci(usable).items():
        contig = names.get(chrom)
        motif, offset = _MOTIFS[(kind, strand)]
        sites = np.array(sorted(annotated.get((contig, strand), ())), dtype=np.int64)
        for start, end in spans:
            locus = f"{contig}:{strand}:{start}-{end}"
            inside = sites[(sites > start) & (sites < end)]
            positives.extend((contig, strand, int(b), locus) for b in inside)
            body = np.frombuffer(genome.fetch(contig, start, end)[0].encode(), dtype=np.uint8)
            hits = np.flatnonzero((body[:-1] == ord(motif[0])) & (body[1:] == ord(motif[1])))
            boundaries = start + hits - offset
            candidates.append((contig, strand, locus, boundaries[~np.isin(boundaries, inside)]))

    rng = np.random.default_rng(seed)
    sizes = np.array([len(c[3]) for c in candidates], dtype=np.int64)
    wanted = min(int(sizes.sum()), int(round(decoys_per_site * len(positives))))
    chosen = np.sort(rng.choice(int(sizes.sum()), size=wanted, replace=False))
    owner = np.searchsorted(np.cumsum(sizes), chosen, side="right")
    offsets = chosen - np.r_[0, np.cumsum(sizes)][owner]
    decoys = [(candidates[o][0], candidates[o][1], int(candidates[o][3][i]), candidates[o][2])
              for o, i in zip(owner, offsets)]
    examples = []
    for label, items in ((1, positives), (0, decoys)):
        for contig, strand, boundary, locus in items:
            sequence = window(contig, strand, boundary, "site " if label else "decoy ")
            if sequence is None:
                continue
            examples.append(SiteExample(kind, contig, boundary, strand, label, locus, sequence))
    return SiteSet(examples, skipped)


def grouped_folds(groups: list[str], folds: int, seed: int = 0) -> np.ndarray:
    """Fold index per item: whole groups, largest first, each to the fold with the fewest items
    so far (ties broken by a seeded shuffle), so folds are balanced and deterministic."""
    counts = Counter(groups)
    if folds < 3 or len(counts) < folds:
        raise UserError(f"need at least 3 folds and a group per fold; got {folds} fold(s) for {len(counts)} group(s)")
    names = sorted(counts)
    np.random.default_rng(seed).shuffle(names)
    names.sort(key=lambda name: -counts[name])  # stable: the shuffle breaks ties
    sizes = np.zeros(folds, dtype=np.int64)
    fold_of = {}
    for name in names:
        fold_of[name] = int(np.argmin(sizes))
        sizes[fold_of[name]] += counts[name]
    return np.array([fold_of[g] for g in groups], dtype=np.int64)
