"""Model passes and scores: the second and third steps of the scoring pipeline.

``planning.Planner.plan(record)`` says what to compute; :func:`score_pairs` runs the model
once per distinct WT window and once per MT window and returns the scores as arrays;
:func:`assemble` joins a plan and its scores into a :class:`RecordResult`, built once and
never changed afterwards. :func:`score_records` streams records through the three steps in
chunks (memory does not grow with the input). The score math itself is
``variant_effect`` (pure arrays); the definitions are in ``docs/scoring.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch

from ..splicebert import tokenization
from . import variant_effect
from ..errors import UserError
from .precision import check_precision_name, forward_logits, prepare_model
from .plan import (  # noqa: F401  (re-exported: the reason codes belong to the scoring API)
    CONTIG_NOT_IN_FASTA, EVENT_TOO_LONG, MODES, NO_OVERLAPPING_GENE, OFF_CONTIG, OUTSIDE_WINDOW, PARTIAL_CONTEXT,
    REASONS, REF_MISMATCH, UNSUPPORTED_ALLELE, Pair, Planner, RecordPlan, Skip,
)

ALL_SCORES = ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL", "DELTA_P")
DEFAULT_SCORES = ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL")


@dataclass(frozen=True)
class ScoringOptions:
    """What to compute. ``width`` None = the model's full length (510 for a 510-nt model)."""

    width: int | None = None
    mode: str = "variant"
    scores: tuple[str, ...] = DEFAULT_SCORES
    batch_size: int = 16
    context: int = variant_effect.CONTEXT
    chunk_size: int = 256
    precision: str = "fp32"  # fp32 (exact), bf16, int8 (CPU): see scoring.precision

    def __post_init__(self):
        check_precision_name(self.precision)
        if self.mode not in MODES:
            raise UserError(f"window mode {self.mode!r} is unknown; choose one of {MODES}")
        unknown = [s for s in self.scores if s not in ALL_SCORES]
        if unknown:
            raise UserError(f"unknown score(s) {unknown}; choose from {ALL_SCORES}")
        if not self.scores:
            raise UserError(f"no score asked for; choose from {ALL_SCORES}")
        if self.batch_size < 1 or self.chunk_size < 1:
            raise UserError(f"batch size and chunk size must be >= 1, got {self.batch_size} and {self.chunk_size}")
        if self.context < 1:
            raise UserError(f"context must be >= 1, got {self.context}")
        if self.width is not None and self.width < 2 * self.context + 2:
            raise UserError(f"window width {self.width} leaves no room for +-{self.context} nt of context; "
                             f"use at least {2 * self.context + 2}")

    def width_for(self, model) -> int:
        """The window width with ``model``: ``width``, or the model's length; checked against it."""
        limit = model.config.max_position_embeddings - 2
        width = limit if self.width is None else self.width
        if width > limit:
            raise UserError(f"window width {width} exceeds the model's {limit} nucleotides")
        if width < 2 * self.context + 2:
            raise UserError(f"the model's {limit}-nt window leaves no room for +-{self.context} nt of context")
        return width


@dataclass(frozen=True)
class AlleleScore:
    """One ALT allele x gene: its scores, or the reason there are none."""

    allele: str
    gene: str
    strand: str
    scores: Mapping[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    reason: str | None = None
    window_start: int | None = None  # 0-based genomic start of the window
    variant_index: int | None = None  # transcript-orientation index of the event in the window

    @property
    def note(self) -> str:
        """The reason it was not scored, or its notes joined with ``&`` (empty when neither)."""
        return self.reason or "&".join(self.notes)


@dataclass(frozen=True)
class RecordResult:
    record: object  # the io.vcf.VcfRecord
    alleles: tuple[AlleleScore, ...]
    reason: str | None = None  # set when nothing of the record could be scored


# ---------------------------------------------------------------------------------------------
# model passes


class ProbabilityModel:
    """Batched nucleotide probabilities from a SpliceBERT masked-LM model (inference mode).

    The model is used as given: put it in eval mode and on its device before (``resolve_model``
    does both). ``precision`` (:mod:`.precision`): ``fp32`` (exact), ``bf16`` or ``int8`` (CPU);
    logits are float32 whatever the mode, and the model given is never changed.
    """

    def __init__(self, model, batch_size: int = 16, precision: str = "fp32"):
        self.device = next(model.parameters()).device
        self.model = prepare_model(model, precision)
        self.batch_size = batch_size
        self.precision = precision

    def _logits(self, ids: np.ndarray) -> torch.Tensor:
        with torch.inference_mode():
            return forward_logits(self.model, torch.from_numpy(ids).to(self.device), self.precision)

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
        return np.concatenate(chunks) if chunks else np.zeros((0, len(tokenization.VOCAB)))


# ---------------------------------------------------------------------------------------------
# scores of sequence pairs (pure)


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
    """KL-based scores of one WT/MT probability pair: ``({name: value}, incomplete_distances)``.

    ``p_wt``, ``p_mt``: ``(W, 4)`` nucleotide probabilities; the other arguments as in
    :class:`~.planning.Pair`.
    """
    kl = variant_effect.aligned_kl(p_wt, p_mt, v, ref_len, alt_len)
    kl_context, incomplete = variant_effect.kl_context_score(kl, v, ref_len, context)
    scores = {
        "KL_CONTEXT": kl_context,
        "MAX_KL": variant_effect.max_context_kl(kl, v, ref_len, context),
        "SPLICE_SITE_KL": variant_effect.splice_site_kl(kl, donor, acceptor),
    }
    return scores, incomplete


def score_sequences(model, wt: str, mt: str, v: int, ref_len: int = 1, alt_len: int = 1, *,
                    precision: str = "fp32", **kwargs) -> dict[str, float]:
    """Scores of one (WT, MT) pair of equal-length transcript-oriented sequences.

    >>> # score_sequences(model, wt_window, mt_window, v=255)["KL_CONTEXT"]
    """
    if len(wt) != len(mt):
        raise UserError(f"WT and MT must have the same length, got {len(wt)} and {len(mt)}")
    probs = ProbabilityModel(model, precision=precision).nucleotide_probabilities([wt, mt])
    return score_pair(probs[0], probs[1], v, ref_len, alt_len, **kwargs)[0]


@dataclass(frozen=True)
class PairScores:
    """Scores of a list of pairs: ``values`` ``(n_pairs, n_scores)`` in ``names`` order (NaN
    where a score is undefined, e.g. DELTA_P of an indel); ``incomplete`` ``(n_pairs,)`` True
    where part of the context fell outside the window."""

    names: tuple[str, ...]
    values: np.ndarray
    incomplete: np.ndarray


def score_pairs(runner: ProbabilityModel, pairs: Sequence[Pair], scores: Sequence[str] = DEFAULT_SCORES, *,
                context: int = variant_effect.CONTEXT) -> PairScores:
    """Run the model on the pairs' windows (each distinct WT window once) and score them."""
    names = tuple(scores)
    values = np.full((len(pairs), len(names)), np.nan)
    incomplete = np.zeros(len(pairs), dtype=bool)
    if not pairs:
        return PairScores(names, values, incomplete)
    keys = list(dict.fromkeys(pair.wt_key for pair in pairs))
    row = {key: i for i, key in enumerate(keys)}
    wt_of = {pair.wt_key: pair.wt for pair in pairs}
    p_wt = runner.nucleotide_probabilities([wt_of[key] for key in keys])
    p_mt = runner.nucleotide_probabilities([pair.mt for pair in pairs])
    column = {name: j for j, name in enumerate(names)}
    for i, pair in enumerate(pairs):
        computed, missing = score_pair(p_wt[row[pair.wt_key]], p_mt[i], pair.v, pair.ref_len, pair.alt_len,
                                       donor=pair.donor, acceptor=pair.acceptor, context=context)
        incomplete[i] = missing > 0
        for name, value in computed.items():
            if name in column:
                values[i, column[name]] = value
    if "DELTA_P" in column:
        snvs = [i for i, pair in enumerate(pairs) if pair.is_snv]
        sites = list(dict.fromkeys((pairs[i].wt_key, pairs[i].v) for i in snvs))
        masked = runner.masked_probabilities([wt_of[key] for key, _ in sites], [v for _, v in sites])
        at = dict(zip(sites, masked))
        for i in snvs:
            pair = pairs[i]
            values[i, column["DELTA_P"]] = variant_effect.delta_p(
                at[(pair.wt_key, pair.v)], ref_id=tokenization.TOKEN_TO_ID[pair.ref.upper()],
                alt_id=tokenization.TOKEN_TO_ID[pair.alt.upper()],
            )
    return PairScores(names, values, incomplete)


def assemble(plan: RecordPlan, scores: PairScores, first: int = 0) -> RecordResult:
    """The result of one record: its plan joined with rows ``first ...`` of ``scores`` (one row
    per :class:`Pair` of the plan, in plan order)."""
    if plan.reason is not None:
        return RecordResult(plan.record, (), plan.reason)
    alleles, row = [], first
    for item in plan.items:
        if isinstance(item, Skip):
            alleles.append(AlleleScore(item.allele, item.gene, item.strand, reason=item.reason))
            continue
        notes = item.notes + ((PARTIAL_CONTEXT,) if scores.incomplete[row] else ())
        values = {name: float(value) for name, value in zip(scores.names, scores.values[row])}
        alleles.append(AlleleScore(item.allele, item.gene, item.strand, values, notes,
                                   window_start=item.window_start, variant_index=item.v))
        row += 1
    return RecordResult(plan.record, tuple(alleles))


def score_plans(runner: ProbabilityModel, plans: Sequence[RecordPlan], scores: Sequence[str] = DEFAULT_SCORES, *,
                context: int = variant_effect.CONTEXT) -> list[RecordResult]:
    """Score a batch of plans together (WT windows shared across records) and assemble them."""
    pairs = [pair for plan in plans for pair in plan.pairs]
    values = score_pairs(runner, pairs, scores, context=context)
    results, first = [], 0
    for plan in plans:
        results.append(assemble(plan, values, first))
        first += len(plan.pairs)
    return results


def chunks(items: Iterable, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` items (the last may be shorter)."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class VariantScorer:
    """Scores VCF records against a genome and an annotation with one model: plan, score, assemble.

    >>> # results = VariantScorer(model, genome, genes, ScoringOptions()).score(VcfReader("in.vcf"))
    """

    def __init__(self, model, genome, genes, options: ScoringOptions = ScoringOptions(), precomputed=None):
        self.options = options
        self.width = options.width_for(model)
        self.planner = Planner(genome, genes, width=self.width, mode=options.mode, context=options.context)
        self.runner = ProbabilityModel(model, options.batch_size, options.precision)
        #: ``result(record, genome contig) -> RecordResult | None`` (``precompute_job.PrecomputedLookup``)
        self.precomputed = precomputed

    def score_chunk(self, records: Sequence) -> list[RecordResult]:
        """Results of a list of records, in order (those the precomputed files hold are copied)."""
        found = [None] * len(records)
        if self.precomputed is not None:
            found = [self.precomputed.result(record, self.planner.fasta_names.get(record.chrom)) for record in records]
        plans = [self.planner.plan(record) for record, copied in zip(records, found) if copied is None]
        computed = iter(score_plans(self.runner, plans, self.options.scores, context=self.options.context))
        return [copied if copied is not None else next(computed) for copied in found]

    def score(self, records: Iterable) -> Iterator[RecordResult]:
        """Results in input order, ``chunk_size`` records at a time (memory does not grow with the input)."""
        for chunk in chunks(records, self.options.chunk_size):
            yield from self.score_chunk(chunk)
