"""Promoter-core classification data (DNABERT's Prom-core convention) and TFBS controls.

Positives: the 70 nt from TSS - 34 to TSS + 35 on the transcript's strand (TSS = the transcript
start on ``+``, its last base ``end - 1`` on ``-``), once per distinct (contig, TSS, strand).
Two negative sets, one negative per positive, drawn with a seeded generator:

- ``deepromoter`` (DNABERT's Prom-core negatives, after DeePromoter): the positive cut into 20
  consecutive parts, 8 kept at random, the other 12 replaced by random bases. Half of such a
  window is random sequence, about 50 % GC: composition alone separates much of it.
- ``genomic``: 70-nt windows of the same contig, at least ``min_distance`` (2 kb) from every
  annotated TSS, without N, whose GC fraction is within ``gc_tolerance`` (0.05) of the
  positive's, on a random strand: the honest set.

Folds are whole contigs (leave one contig out). Windows that reach past a contig end or hold
N are not used, and a positive for which no genomic negative is found in ``max_tries`` draws
keeps no partner there; both are counted in ``skipped``.

``dinucleotide_shuffle`` (Altschul-Erickson): a random sequence with exactly the dinucleotide
counts and the first and last base of its input; peaks against their shuffles are the TFBS task.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ...scoring.windows import reverse_complement
from ...errors import UserError

NEGATIVE_SETS = ("deepromoter", "genomic")
UPSTREAM, DOWNSTREAM = 34, 35


@dataclass(frozen=True)
class PromoterExample:
    chrom: str
    start: int  # 0-based genomic interval of the window
    end: int
    strand: str
    label: int  # 1 = TSS window, 0 = negative
    source: str  # "tss", "deepromoter" or "genomic"
    name: str  # the gene (its negatives carry the same name)
    sequence: str  # in transcript orientation (the strand's 5' -> 3')


@dataclass
class PromoterSet:
    examples: list[PromoterExample]
    skipped: Counter = field(default_factory=Counter)


def gc_fraction(sequence: str) -> float:
    sequence = sequence.upper()
    return (sequence.count("G") + sequence.count("C")) / max(len(sequence), 1)


def tss_of(gene) -> int:
    """0-based TSS: the transcript start on ``+``, its last base on ``-``."""
    return gene.start if gene.strand == "+" else gene.end - 1


def _oriented(genome, chrom: str, start: int, end: int, strand: str) -> str | None:
    """The window in transcript orientation, or None when it leaves the contig or holds N."""
    sequence, off_contig = genome.fetch(chrom, start, end)
    if off_contig or "N" in sequence.upper():
        return None
    sequence = sequence.upper()
    return reverse_complement(sequence) if strand == "-" else sequence


def promoter_positives(genome, genes, *, upstream: int = UPSTREAM, downstream: int = DOWNSTREAM) -> PromoterSet:
    """One window per distinct (contig, TSS, strand), in genome order."""
    from ...io.genome import CONTIG_NOT_IN_GENOME, WindowSource

    out, seen = [], set()
    source = WindowSource(genome)
    for gene in sorted(genes, key=lambda g: (g.chrom, tss_of(g), g.strand, g.name)):
        tss, chrom = tss_of(gene), source.names.get(gene.chrom)  # the genome's name (chr19 <-> 19)
        key = (chrom or gene.chrom, tss, gene.strand)
        if key in seen:
            source.skipped["same TSS as another transcript"] += 1
            continue
        seen.add(key)
        if chrom is None:
            source.skipped[CONTIG_NOT_IN_GENOME] += 1
            continue
        start, end = (tss - upstream, tss + downstream + 1) if gene.strand == "+" else (tss - downstream,
                                                                                         tss + upstream + 1)
        sequence = source.fetch(chrom, start, end, no_n=True)
        if sequence is None:
            continue
        sequence = sequence.upper()
        sequence = reverse_complement(sequence) if gene.strand == "-" else sequence
        out.append(PromoterExample(chrom, start, end, gene.strand, 1, "tss", gene.name, sequence))
    return PromoterSet(out, source.skipped)


def deepromoter_negative(sequence: str, rng: np.random.Generator, *, parts: int = 20, keep: int = 8) -> str:
    """``sequence`` cut into ``parts`` consecutive parts, ``keep`` of them kept (chosen at random),
    the others replaced by uniformly random bases."""
    bounds = np.linspace(0, len(sequence), parts + 1).round().astype(int)
    kept = set(rng.choice(parts, size=keep, replace=False).tolist())
    pieces = []
    for index in range(parts):
        piece = sequence[bounds[index] : bounds[index + 1]]
        pieces.append(piece if index in kept else "".join(rng.choice(list("ACGT"), len(piece))))
    return "".join(pieces)


def genomic_negative(genome, positive: PromoterExample, tss_by_contig: dict, rng: np.random.Generator, *,
                     min_distance: int = 2000, gc_tolerance: float = 0.05, max_tries: int = 2000):
    """A GC-matched window of the positive's contig, ``min_distance`` from every TSS; None if
    ``max_tries`` draws find none."""
    width = positive.end - positive.start
    length = genome.lengths[positive.chrom]
    tss = tss_by_contig.get(positive.chrom, np.zeros(0, dtype=np.int64))
    target = gc_fraction(positive.sequence)
    for _ in range(max_tries):
        start = int(rng.integers(0, length - width + 1))
        end = start + width
        if len(tss) and np.min(np.maximum(np.maximum(tss - (end - 1), start - tss), 0)) < min_distance:
            continue
        strand = "+" if rng.random() < 0.5 else "-"
        sequence = _oriented(genome, positive.chrom, start, end, strand)
        if sequence is None or abs(gc_fraction(sequence) - target) > gc_tolerance:
            continue
        return PromoterExample(positive.chrom, start, end, strand, 0, "genomic", positive.name, sequence)
    return None


def promoter_examples(genome, genes, negatives: str, *, seed: int = 0, min_distance: int = 2000,
                      gc_tolerance: float = 0.05) -> PromoterSet:
    """Positives and one negative each of the set ``negatives`` (``deepromoter`` or ``genomic``)."""
    if negatives not in NEGATIVE_SETS:
        raise UserError(f"negatives {negatives!r}: choose one of {NEGATIVE_SETS}")
    genes = list(genes)
    positives = promoter_positives(genome, genes)
    rng = np.random.default_rng([seed, NEGATIVE_SETS.index(negatives)])
    from ...io.contigs import ContigMap

    names = ContigMap(genome.contigs, "genome")
    tss_by_contig: dict = {}
    for gene in genes:
        tss_by_contig.setdefault(names.get(gene.chrom), []).append(tss_of(gene))
    tss_by_contig = {chrom: np.array(sorted(set(v)), dtype=np.int64) for chrom, v in tss_by_contig.items()}
    examples, skipped = [], Counter(positives.skipped)
    for positive in positives.examples:
        examples.append(positive)
        if negatives == "deepromoter":
            sequence = deepromoter_negative(positive.sequence, rng)
            examples.append(PromoterExample(positive.chrom, positive.start, positive.end, positive.strand, 0,
                                            "deepromoter", positive.name, sequence))
            continue
        negative = genomic_negative(genome, positive, tss_by_contig, rng, min_distance=min_distance,
                                    gc_tolerance=gc_tolerance)
        if negative is None:
            skipped["no GC-matched genomic window found"] += 1
        else:
            examples.append(negative)
    return PromoterSet(examples, skipped)


def dinucleotide_shuffle(sequence: str, rng: np.random.Generator) -> str:
    """Altschul-Erickson: a uniformly random sequence with the dinucleotide counts, first base and
    last base of ``sequence`` (a random Eulerian walk over its dinucleotide graph)."""
    sequence = sequence.upper()
    if len(sequence) < 3:
        return sequence
    edges: dict = {}
    for a, b in zip(sequence, sequence[1:]):
        edges.setdefault(a, []).append(b)
    last = sequence[-1]
    # a random arborescence towards the last base: every other vertex gets a random last exit edge
    while True:
        last_exit = {}
        for vertex, outs in edges.items():
            if vertex != last:
                last_exit[vertex] = outs[rng.integers(len(outs))]
        if _reaches(last_exit, last):
            break
    order = {}
    for vertex, outs in edges.items():
        rest = list(outs)
        if vertex in last_exit:
            rest.remove(last_exit[vertex])
        rest = [rest[i] for i in rng.permutation(len(rest))]
        order[vertex] = rest + ([last_exit[vertex]] if vertex in last_exit else [])
    walk, vertex = [sequence[0]], sequence[0]
    position = {v: 0 for v in order}
    for _ in range(len(sequence) - 1):
        following = order[vertex][position[vertex]]
        position[vertex] += 1
        walk.append(following)
        vertex = following
    return "".join(walk)


def _reaches(last_exit: dict, root: str) -> bool:
    """Every vertex's chain of last exits ends at ``root`` (the exits form a tree, no cycle)."""
    for start in last_exit:
        seen, vertex = set(), start
        while vertex != root:
            if vertex in seen or vertex not in last_exit:
                return False
            seen.add(vertex)
            vertex = last_exit[vertex]
    return True
