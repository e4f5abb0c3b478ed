"""Variant scoring pipeline: VCF records + genome + annotation + model -> scores per ALT x gene.

Joins the I/O layer (``io``), the window geometry (``windows``) and the score math
(``variant_effect``). Records stream through in chunks: every WT window is run once per chunk
and shared by all ALT alleles and genes that use it; MT windows are batched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

from . import tokenization, variant_effect, windows
from .io.annotation import Gene, GeneIndex
from .io.contigs import ContigMap
from .io.genome import Genome
from .io.vcf import VcfRecord

ALL_SCORES = ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL", "DELTA_P")
DEFAULT_SCORES = ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL")
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
class ScoringOptions:
    """What to compute. ``width`` None = the model's full length (510 for a 510-nt model)."""

    width: int | None = None
    mode: str = "variant"
    scores: tuple[str, ...] = DEFAULT_SCORES
    batch_size: int = 16
    context: int = variant_effect.CONTEXT
    chunk_size: int = 256

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"window mode {self.mode!r} is unknown; choose one of {MODES}")
        unknown = [s for s in self.scores if s not in ALL_SCORES]
        if unknown:
            raise ValueError(f"unknown score(s) {unknown}; choose from {ALL_SCORES}")
        if self.batch_size < 1 or self.chunk_size < 1:
            raise ValueError("batch_size and chunk_size must be positive")


@dataclass
class AlleleScore:
    """One ALT allele x gene: the scores, or the reason there are none."""

    allele: str
    gene: str
    strand: str
    scores: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    window_start: int | None = None  # 0-based genomic start of the window
    variant_index: int | None = None  # transcript-orientation index of the event in the window

    @property
    def note(self) -> str:
        """The reason it was not scored, or its notes joined with ``&`` (empty when neither)."""
        return self.reason or "&".join(self.notes)


@dataclass
class RecordResult:
    record: VcfRecord
    alleles: list[AlleleScore]
    reason: str | None = None  # set when nothing of the record could be scored


# ---------------------------------------------------------------------------------------------
# model passes


class ProbabilityModel:
    """Batched nucleotide probabilities from a SpliceBERT masked-LM model (inference mode)."""

    def __init__(self, model, batch_size: int = 16):
        self.model = model
        self.batch_size = batch_size
        self.device = next(model.parameters()).device

    def _logits(self, ids: np.ndarray) -> torch.Tensor:
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else _null()
        with torch.inference_mode(), autocast:
            out = self.model(input_ids=torch.from_numpy(ids).to(self.device), output_hidden_states=False)
        return out.logits.float()

    def nucleotide_probabilities(self, sequences: Sequence[str]) -> np.ndarray:
        """``(N, W, 4)`` float64 A/C/G/T probabilities of unmasked sequences of equal length."""
        if len(sequences) == 0:
            return np.zeros((0, 0, 4))
        return self.nucleotide_probabilities_of_ids(tokenization.encode_batch(sequences))

    def nucleotide_probabilities_of_ids(self, ids: np.ndarray) -> np.ndarray:
        """The same for token ids, ``(N, W + 2)`` with ``[CLS]``/``[SEP]``, in batches."""
        chunks = []
        for i in range(0, len(ids), self.batch_size):
            logits = self._logits(np.ascontiguousarray(ids[i : i + self.batch_size]))
            chunks.append(variant_effect.nucleotide_probabilities(logits.cpu().numpy(), tokenization.NUCLEOTIDE_IDS))
        return np.concatenate(chunks) if chunks else np.zeros((0, 0, 4))

    def masked_probabilities(self, sequences: Sequence[str], positions: Sequence[int]) -> np.ndarray:
        """``(N, vocab)`` probabilities at ``positions`` (0-based nt) masked in ``sequences``."""
        chunks = []
        for i in range(0, len(sequences), self.batch_size):
            ids = tokenization.encode_batch(sequences[i : i + self.batch_size])
            pos = np.asarray(positions[i : i + self.batch_size]) + 1
            ids[np.arange(len(pos)), pos] = tokenization.MASK_ID
            logits = self._logits(ids)[torch.arange(len(pos)), torch.from_numpy(pos)]
            chunks.append(variant_effect.softmax(logits.cpu().numpy()))
        return np.concatenate(chunks) if chunks else np.zeros((0, 10))


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# ---------------------------------------------------------------------------------------------
# sequence pairs


def score_pair(
    p_wt: np.ndarray,
    p_mt: np.ndarray,
    v: int,
    ref_len: int = 1,
    alt_len: int = 1,
    *,
    donor: int | None = None,
    acceptor: int | None = None,
    context: int = variant_effect.CONTEXT,
) -> tuple[dict[str, float], int]:
    """KL-based scores of one WT/MT probability pair: ``({name: value}, incomplete_distances)``."""
    kl = variant_effect.aligned_kl(p_wt, p_mt, v, ref_len, alt_len)
    kl_context, incomplete = variant_effect.kl_context_score(kl, v, ref_len, context)
    scores = {
        "KL_CONTEXT": kl_context,
        "MAX_KL": variant_effect.max_context_kl(kl, v, ref_len, context),
        "SPLICE_SITE_KL": variant_effect.splice_site_kl(kl, donor, acceptor),
    }
    return scores, incomplete


def score_sequences(model, wt: str, mt: str, v: int, ref_len: int = 1, alt_len: int = 1, **kwargs) -> dict[str, float]:
    """Scores of one (WT, MT) pair of equal-length transcript-oriented sequences.

    >>> # score_sequences(model, wt_window, mt_window, v=255)["KL_CONTEXT"]
    """
    if len(wt) != len(mt):
        raise ValueError(f"WT and MT must have the same length, got {len(wt)} and {len(mt)}")
    probs = ProbabilityModel(model).nucleotide_probabilities([wt, mt])
    return score_pair(probs[0], probs[1], v, ref_len, alt_len, **kwargs)[0]


# ---------------------------------------------------------------------------------------------
# VCF records


def _allele_problem(ref: str, alt: str) -> bool:
    if alt in (".", "*", "") or alt.startswith("<") or "[" in alt or "]" in alt:
        return True
    valid = set("ACGTNacgtn")
    return not (set(alt) <= valid and set(ref) <= valid) or alt.upper() == ref.upper()


@dataclass
class _Task:
    result: AlleleScore
    wt_key: tuple
    mt: str
    v: int
    ref_len: int
    alt_len: int
    ref_t: str
    alt_t: str
    donor: int | None
    acceptor: int | None


class VariantScorer:
    """Scores VCF records against a genome and an annotation with one model."""

    def __init__(self, model, genome: Genome, genes: GeneIndex, options: ScoringOptions = ScoringOptions()):
        self.model = model
        self.genome = genome
        self.genes = genes
        self.options = options
        if model is None:  # planning only (windows and tasks, no model passes)
            if options.width is None:
                raise ValueError("a scorer without a model needs options.width")
            limit = options.width
        else:
            limit = model.config.max_position_embeddings - 2
        self.width = options.width or limit
        if self.width > limit:
            raise ValueError(f"window width {self.width} exceeds the model's {limit} nucleotides")
        if self.width < 2 * options.context + 2:
            raise ValueError(f"window width {self.width} leaves no room for +-{options.context} nt of context")
        self.runner = ProbabilityModel(model, options.batch_size) if model is not None else None
        self.fasta_names = ContigMap(genome.contigs, f"genome {genome.path.name}")
        self.gene_names = ContigMap(genes.contigs, f"annotation {genes.source}")
        self.fasta_names.require_overlap(genes.contigs, f"annotation {genes.source}")
        # the longest event that keeps the whole context inside the window
        self.max_event = self.width - self.width // 2 - options.context - 1

    def check_vcf_contigs(self, names: Iterable[str], label: str) -> None:
        self.fasta_names.require_overlap(names, label)

    def score(self, records: Iterable[VcfRecord]) -> Iterator[RecordResult]:
        """Results in input order, chunk by chunk (memory does not grow with the input)."""
        for _, results in self.score_chunks(records):
            yield from results

    def score_chunks(self, records: Iterable[VcfRecord], keep=None) -> Iterator[tuple[int, list[RecordResult]]]:
        """``(index of the chunk's first record, results)`` per chunk of ``chunk_size`` records.

        ``keep(chunk_number)`` selects the chunks to score (one process's share of the input);
        the others are read and skipped.
        """
        chunk: list[VcfRecord] = []
        number, first = 0, 0
        for index, record in enumerate(records):
            if not chunk:
                first = index
            chunk.append(record)
            if len(chunk) >= self.options.chunk_size:
                if keep is None or keep(number):
                    yield first, self._score_chunk(chunk)
                chunk, number = [], number + 1
        if chunk and (keep is None or keep(number)):
            yield first, self._score_chunk(chunk)

    def _score_chunk(self, records: list[VcfRecord]) -> list[RecordResult]:
        results, tasks, wt_windows = [], [], {}
        for record in records:
            result, record_tasks = self.plan(record, wt_windows)
            results.append(result)
            tasks.extend(record_tasks)
        if tasks:
            self._run(tasks, wt_windows)
        return results

    def plan(self, record: VcfRecord, wt_windows: dict) -> tuple[RecordResult, list["_Task"]]:
        """One record's result skeleton and its scoring tasks; WT windows are added to ``wt_windows``
        (key -> sequence) so that tasks sharing a window share one model pass."""
        contig = self.fasta_names.get(record.chrom)
        if contig is None:
            return RecordResult(record, [], CONTIG_NOT_IN_FASTA), []
        start = record.pos - 1
        genome_ref, _ = self.genome.fetch(contig, start, start + len(record.ref))
        if genome_ref != record.ref.upper():
            return RecordResult(record, [], REF_MISMATCH), []
        gene_contig = self.gene_names.get(record.chrom)
        genes = self.genes.overlapping(gene_contig, start, start + len(record.ref)) if gene_contig else []
        if not genes:
            return RecordResult(record, [], NO_OVERLAPPING_GENE), []
        alleles, tasks = [], []
        for alt in record.alts:
            for gene in genes:
                entry = AlleleScore(allele=alt, gene=gene.name, strand=gene.strand)
                alleles.append(entry)
                if _allele_problem(record.ref, alt):
                    entry.reason = UNSUPPORTED_ALLELE
                    continue
                task = self._task(contig, record, alt, gene, entry, wt_windows)
                if task is not None:
                    tasks.append(task)
        return RecordResult(record, alleles), tasks

    def _task(self, contig: str, record: VcfRecord, alt: str, gene: Gene, entry: AlleleScore, wt_windows: dict):
        allele = windows.normalise_allele(record.pos, record.ref, alt)
        if max(len(allele.ref), len(allele.alt)) > self.max_event:
            entry.reason = EVENT_TOO_LONG
            return None
        exon_index = gene.nearest_exon(allele.start)
        exon_start, exon_end = gene.exons[exon_index]
        if self.options.mode == "variant":
            window = windows.variant_centred_window(allele, gene.strand, self.width)
        else:
            window = windows.exon_centred_window(exon_start, exon_end, gene.strand, self.width)
        v = window.event_index(allele)
        if v < 0 or v + len(allele.ref) > self.width or v + len(allele.alt) > self.width:
            entry.reason = OUTSIDE_WINDOW
            return None
        extra = max(0, len(allele.ref) - len(allele.alt))
        lo, hi = window.oriented_interval(extra)
        genomic, off_contig = self.genome.fetch(contig, lo, hi)
        extended = windows.orient(genomic, gene.strand)
        # oriented, the window comes first and the extra bases (what a deletion pulls in) after it
        wt_key = (contig, window.start, gene.strand)
        wt_windows.setdefault(wt_key, extended[: self.width])
        ref_t, alt_t = windows.oriented_alleles(allele, gene.strand)
        mt = windows.mutant_window(extended, v, ref_t, alt_t, self.width)
        donor, acceptor = windows.splice_site_indices(
            window,
            exon_start,
            exon_end,
            first_exon=gene.is_first_exon(exon_index),
            last_exon=gene.is_last_exon(exon_index),
        )
        entry.window_start, entry.variant_index = window.start, v
        if off_contig:
            entry.notes.append(OFF_CONTIG)
        return _Task(entry, wt_key, mt, v, len(allele.ref), len(allele.alt), ref_t, alt_t, donor, acceptor)

    def _run(self, tasks: list[_Task], wt_windows: dict) -> None:
        keys = list(dict.fromkeys(task.wt_key for task in tasks))
        row = {key: i for i, key in enumerate(keys)}
        p_wt = self.runner.nucleotide_probabilities([wt_windows[key] for key in keys])
        p_mt = self.runner.nucleotide_probabilities([task.mt for task in tasks])
        wanted = self.options.scores
        for i, task in enumerate(tasks):
            scores, incomplete = score_pair(
                p_wt[row[task.wt_key]], p_mt[i], task.v, task.ref_len, task.alt_len,
                donor=task.donor, acceptor=task.acceptor, context=self.options.context,
            )
            task.result.scores = {name: scores[name] for name in wanted if name in scores}
            if incomplete:
                task.result.notes.append(PARTIAL_CONTEXT)
        if "DELTA_P" in wanted:
            snvs = [t for t in tasks if t.ref_len == 1 and t.alt_len == 1]
            masked_keys = list(dict.fromkeys((t.wt_key, t.v) for t in snvs))
            probs = self.runner.masked_probabilities([wt_windows[k] for k, _ in masked_keys], [v for _, v in masked_keys])
            at = {key: probs[i] for i, key in enumerate(masked_keys)}
            for task in tasks:
                if task.ref_len == 1 and task.alt_len == 1:
                    p = at[(task.wt_key, task.v)]
                    value = variant_effect.delta_p(
                        p, ref_id=tokenization.TOKEN_TO_ID[task.ref_t.upper()], alt_id=tokenization.TOKEN_TO_ID[task.alt_t.upper()]
                    )
                    task.result.scores["DELTA_P"] = value
                else:
                    task.result.scores["DELTA_P"] = math.nan
