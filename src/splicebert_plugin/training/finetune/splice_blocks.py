"""Per-nucleotide splice-site data in SpliceAI's formulation (``docs/training.md``).

Every nucleotide of an annotated locus (transcripts of one strand merged where they overlap)
gets one of SpliceAI's three classes: 1 = acceptor, 2 = donor, 0 = neither. A site's label sits
on the exon nucleotide next to the intron, in transcript orientation: the last exon nucleotide
before an intron is a donor, the first exon nucleotide after it an acceptor (SpliceAI's
``JN_START`` / ``JN_END``: exon ends and starts). Sites of every annotated transcript of the
locus count.

The locus is cut, in transcript orientation from its 5' end, into blocks of ``block`` labelled
nucleotides; the model sees each block with ``context / 2`` nucleotides of genome on each side
(SpliceAI-80nt: 40 + 40), so every labelled nucleotide has at least that much sequence around
it. Positions of the last block past the locus end keep their genome sequence but carry no
label (-100), as does all context; sequence off a contig end is N. Blocks are reverse
complemented on the minus strand (labels reversed with them).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from ...errors import UserError
from ...scoring.windows import reverse_complement
from .splice_sites import merged_loci, site_boundaries, transcripts_on_genome

NEITHER, ACCEPTOR, DONOR = 0, 1, 2
IGNORED = -100


@dataclass(frozen=True)
class SpliceBlock:
    chrom: str  # the genome's contig name
    strand: str
    locus: str  # "chrom:strand:start-end" of the merged transcripts (the cross-validation group)
    first: int  # 0-based genomic coordinate of labelled index 0 (index i lies at first + i on +, first - i on -)
    sequence: str  # context / 2 + block + context / 2 nt, transcript orientation
    labels: np.ndarray  # (block,) int64 in transcript orientation: 0, 1, 2 or -100 past the locus end

    def position(self, index) -> np.ndarray | int:
        """Genomic 0-based coordinate(s) of labelled index(es) ``index``."""
        return self.first + index if self.strand == "+" else self.first - index


@dataclass
class BlockSet:
    blocks: list[SpliceBlock]
    skipped: Counter = field(default_factory=Counter)  # reason -> count (never silently dropped)


def site_nucleotides(transcript) -> dict[int, int]:
    """``{genomic 0-based position: ACCEPTOR or DONOR}`` of one transcript (an ``io.annotation.Gene``):
    the exon nucleotide on the exon side of each boundary, in transcript orientation."""
    boundaries = site_boundaries(transcript)
    # boundary b lies between b - 1 and b; the exon is on the left of a donor on +, on the right on -
    # (and the other way round for acceptors)
    exon_left = {"donor": transcript.strand == "+", "acceptor": transcript.strand == "-"}
    out = {}
    for kind, label in (("acceptor", ACCEPTOR), ("donor", DONOR)):
        for b in boundaries[kind]:
            out[b - 1 if exon_left[kind] else b] = label
    return out


def splice_blocks(genome, transcripts, *, block: int, context: int) -> BlockSet:
    """:class:`SpliceBlock` s of every locus of ``transcripts`` (``io.annotation.read_transcripts``)
    in ``genome`` (``io.genome.Genome``); transcripts on contigs the genome lacks are counted."""
    from ...io.genome import WindowSource

    if block < 1:
        raise UserError(f"block must be >= 1 nt, got {block}")
    if context < 0 or context % 2:
        raise UserError(f"context must be an even number >= 0 (half on each side), got {context}")
    source = WindowSource(genome)
    flank = context // 2
    sites: dict[tuple[str, str], dict[int, int]] = {}
    usable = transcripts_on_genome(source, transcripts)
    for contig, t in usable:
        found = sites.setdefault((contig, t.strand), {})
        for position, label in site_nucleotides(t).items():
            if found.setdefault(position, label) != label:
                raise UserError(f"{contig}:{position + 1} ({t.strand}) is an acceptor in one transcript and a "
                                f"donor in another: the annotation contradicts itself")
    blocks = []
    for (chrom, strand), spans in merged_loci([t for _, t in usable]).items():
        contig = source.names.get(chrom)
        labelled = sites.get((contig, strand), {})
        for start, end in spans:
            locus = f"{contig}:{strand}:{start}-{end}"
            for offset in range(0, end - start, block):
                # the block's genomic span [lo, lo + block), walked from the locus' 5' end
                lo = start + offset if strand == "+" else end - offset - block
                sequence, _ = genome.fetch(contig, lo - flank, lo + block + flank)
                positions = np.arange(lo, lo + block)
                labels = np.array([labelled.get(int(p), NEITHER) for p in positions], dtype=np.int64)
                labels[(positions < start) | (positions >= end)] = IGNORED
                if strand == "-":
                    sequence, labels = reverse_complement(sequence), labels[::-1].copy()
                first = lo if strand == "+" else lo + block - 1
                blocks.append(SpliceBlock(contig, strand, locus, first, sequence, labels))
    return BlockSet(blocks, source.skipped)


def token_labels(blocks: list[SpliceBlock], tokens: int, context: int) -> np.ndarray:
    """``(N, tokens)`` labels for models whose token ``1 + j`` starts at nucleotide ``j`` of the
    input (nucleotide tokens, and overlapping k-mers: a nucleotide's label goes to the k-mer it
    starts): the block's labels at tokens ``1 + context / 2 ...``, -100 elsewhere."""
    out = np.full((len(blocks), tokens), IGNORED, dtype=np.int64)
    if not blocks:
        return out
    first = 1 + context // 2
    width = len(blocks[0].labels)
    if first + width > tokens - 1:
        raise UserError(f"a {width}-nt block after {context // 2} nt of context needs {first + width + 1} tokens "
                        f"([CLS] ... [SEP]); the model's input has {tokens}")
    out[:, first : first + width] = np.stack([b.labels for b in blocks])
    return out
