"""What to score for each VCF record: the first step of the scoring pipeline (no model).

The pipeline runs one way, each step a function of the previous step's output::

    plan(record) -> RecordPlan        (this module: genome + annotation, no model)
    score_pairs(runner, pairs)        (scoring: model passes -> score arrays)
    assemble(plan, scores)            (scoring: -> RecordResult, written once)

A :class:`RecordPlan` lists, for every ALT allele x overlapping gene, either a :class:`Pair`
(the WT and MT windows to run through the model, in transcript orientation) or a
:class:`Skip` (the reason it cannot be scored). A record that cannot be scored at all (contig
not in the genome, REF differs from it, no gene) carries that reason instead. Nothing is ever
dropped: every ALT of every record ends up in the output. Windows, strands and indels:
``docs/scoring.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from . import variant_effect, windows
from ..io.annotation import Gene, GeneIndex
from ..io.contigs import ContigMap
from ..io.genome import Genome
from ..io.vcf import VcfRecord
from ..errors import UserError

MODES = ("variant", "exon")

# Why a record or an allele was not scored (written to the output, never dropped)
CONTIG_NOT_IN_FASTA = "CONTIG_NOT_IN_FASTA"
REF_MISMATCH = "REF_MISMATCH"
NO_OVERLAPPING_GENE = "NO_OVERLAPPING_GENE"
UNSUPPORTED_ALLELE = "UNSUPPORTED_ALLELE"
EVENT_TOO_LONG = "EVENT_TOO_LONG"
OUTSIDE_WINDOW = "OUTSIDE_WINDOW"
# Scored, with a caveat
OFF_CONTIG = "OFF_CONTIG"  # part of the window lies beyond the contig end and reads as N
PARTIAL_CONTEXT = "PARTIAL_CONTEXT"  # some context positions fell outside the window

REASONS = {
    CONTIG_NOT_IN_FASTA: "the variant's contig is not in the genome FASTA",
    REF_MISMATCH: "REF differs from the genome at this position",
    NO_OVERLAPPING_GENE: "no annotated gene overlaps the variant",
    UNSUPPORTED_ALLELE: "symbolic, breakend, missing, spanning-deletion or non-nucleotide ALT, or ALT equal to REF",
    EVENT_TOO_LONG: "REF or ALT is longer than the window leaves room for around the context",
    OUTSIDE_WINDOW: "exon-centred mode: the variant lies outside the window around its nearest exon",
    OFF_CONTIG: "scored, but the window runs off the contig end; those positions read as N",
    PARTIAL_CONTEXT: "scored, but part of the +-context fell outside the window (the other side was used)",
}


@dataclass(frozen=True)
class Pair:
    """One ALT allele x gene to score: WT and MT windows of ``width`` nt, transcript orientation."""

    allele: str  # the ALT as written in the VCF
    gene: str
    strand: str  # the gene's strand, "+" or "-"
    wt_key: tuple  # (contig, window start, strand): pairs with the same key share one WT window
    wt: str
    mt: str
    v: int  # window index of the event's first base (transcript orientation)
    ref_len: int  # nucleotides replaced (after trimming shared bases)
    alt_len: int  # nucleotides inserted
    ref: str  # trimmed REF bases, transcript orientation
    alt: str  # trimmed ALT bases, transcript orientation
    donor: int | None  # window index of the nearest exon's donor dinucleotide, None if it has none
    acceptor: int | None  # likewise for its acceptor
    window_start: int  # 0-based genomic start of the window
    notes: tuple[str, ...] = ()  # caveats known before scoring (OFF_CONTIG)

    @property
    def is_snv(self) -> bool:
        return self.ref_len == 1 and self.alt_len == 1


@dataclass(frozen=True)
class Skip:
    """One ALT allele x gene that cannot be scored, and why (a code of :data:`REASONS`)."""

    allele: str
    gene: str
    strand: str
    reason: str


Item = Union[Pair, Skip]


@dataclass(frozen=True)
class RecordPlan:
    """Everything to compute for one record. ``reason`` set: nothing of it can be scored."""

    record: VcfRecord
    items: tuple[Item, ...] = ()
    reason: str | None = None

    @property
    def pairs(self) -> list[Pair]:
        return [item for item in self.items if isinstance(item, Pair)]


def unsupported_allele(ref: str, alt: str) -> bool:
    """True for ALTs the model cannot score: symbolic, breakends, missing, ``*``, non-nucleotide
    characters, or equal to REF."""
    if alt in (".", "*", "") or alt.startswith("<") or "[" in alt or "]" in alt:
        return True
    valid = set("ACGTNacgtn")
    return not (set(alt) <= valid and set(ref) <= valid) or alt.upper() == ref.upper()


class Planner:
    """Turns VCF records into :class:`RecordPlan` s against a genome and an annotation.

    Parameters
    ----------
    genome, genes
        The opened genome and the annotation; contig names are reconciled with the genome's
        (``chr1`` <-> ``1``).
    width
        Window width in nucleotides (the model's length: 510 for a 510-nt model).
    mode
        ``"variant"`` (the event at index ``width // 2``) or ``"exon"`` (the paper's window
        centred on the nearest exon).
    context
        Nucleotides of context on each side that the scores use (100 as published).
    """

    def __init__(self, genome: Genome, genes: GeneIndex, *, width: int, mode: str = "variant",
                 context: int = variant_effect.CONTEXT):
        if mode not in MODES:
            raise UserError(f"window mode {mode!r} is unknown; choose one of {MODES}")
        if width < 2 * context + 2:
            raise UserError(f"window width {width} leaves no room for +-{context} nt of context; "
                             f"use at least {2 * context + 2}")
        self.genome, self.genes = genome, genes
        self.width, self.mode, self.context = width, mode, context
        self.fasta_names = ContigMap(genome.contigs, f"genome {genome.path.name}")
        self.gene_names = ContigMap(genes.contigs, f"annotation {genes.source}")
        self.fasta_names.require_overlap(genes.contigs, f"annotation {genes.source}")
        # the longest event that keeps the whole context inside the window
        self.max_event = width - width // 2 - context - 1

    def check_vcf_contigs(self, names, label: str) -> None:
        """Raise :class:`~.io.contigs.ContigMismatchError` if no contig of ``names`` is in the genome."""
        self.fasta_names.require_overlap(names, label)

    def plan(self, record: VcfRecord) -> RecordPlan:
        """The plan of one record. The genome is read once: one interval covering the REF and
        every window the record needs."""
        contig = self.fasta_names.get(record.chrom)
        if contig is None:
            return RecordPlan(record, reason=CONTIG_NOT_IN_FASTA)
        start = record.pos - 1  # 0-based
        gene_contig = self.gene_names.get(record.chrom)
        genes = self.genes.overlapping(gene_contig, start, start + len(record.ref)) if gene_contig else []
        layouts = [(alt, gene, self._layout(record, alt, gene)) for alt in record.alts for gene in genes]
        spans = [(start, start + len(record.ref))] + [layout[1] for _, _, layout in layouts if isinstance(layout, tuple)]
        lo, hi = min(s for s, _ in spans), max(e for _, e in spans)
        region, _ = self.genome.fetch(contig, lo, hi)
        if region[start - lo : start - lo + len(record.ref)] != record.ref.upper():
            return RecordPlan(record, reason=REF_MISMATCH)
        if not genes:
            return RecordPlan(record, reason=NO_OVERLAPPING_GENE)
        length = self.genome.lengths[contig]
        items = []
        for alt, gene, layout in layouts:
            if isinstance(layout, str):
                items.append(Skip(alt, gene.name, gene.strand, layout))
                continue
            (window, allele, v, exon_index), (a, b) = layout
            items.append(self._pair(contig, alt, gene, window, allele, v, exon_index,
                                    region[a - lo : b - lo], off_contig=a < 0 or b > length))
        return RecordPlan(record, tuple(items))

    def _layout(self, record: VcfRecord, alt: str, gene: Gene):
        """The window of one ALT x gene and the genomic interval it reads, or a reason code."""
        if unsupported_allele(record.ref, alt):
            return UNSUPPORTED_ALLELE
        allele = windows.normalise_allele(record.pos, record.ref, alt)
        if max(len(allele.ref), len(allele.alt)) > self.max_event:
            return EVENT_TOO_LONG
        exon_index = gene.nearest_exon(allele.start)
        if self.mode == "variant":
            window = windows.variant_centred_window(allele, gene.strand, self.width)
        else:
            window = windows.exon_centred_window(*gene.exons[exon_index], gene.strand, self.width)
        v = window.event_index(allele)
        if v < 0 or v + max(len(allele.ref), len(allele.alt)) > self.width:
            return OUTSIDE_WINDOW
        # a deletion pulls in as many bases past the window's 3' end as it removes
        extra = max(0, len(allele.ref) - len(allele.alt))
        return (window, allele, v, exon_index), window.oriented_interval(extra)

    def _pair(self, contig, alt, gene, window, allele, v, exon_index, genomic: str, *, off_contig: bool) -> Pair:
        extended = windows.orient(genomic, gene.strand)  # oriented: the window, then the extra bases
        ref_t, alt_t = windows.oriented_alleles(allele, gene.strand)
        donor, acceptor = windows.splice_site_indices(
            window, *gene.exons[exon_index],
            first_exon=gene.is_first_exon(exon_index), last_exon=gene.is_last_exon(exon_index),
        )
        return Pair(
            allele=alt, gene=gene.name, strand=gene.strand, wt_key=(contig, window.start, gene.strand),
            wt=extended[: self.width], mt=windows.mutant_window(extended, v, ref_t, alt_t, self.width),
            v=v, ref_len=len(allele.ref), alt_len=len(allele.alt), ref=ref_t, alt=alt_t,
            donor=donor, acceptor=acceptor, window_start=window.start,
            notes=(OFF_CONTIG,) if off_contig else (),
        )
