"""Per-nucleotide splice-site classification, SpliceAI's formulation (``docs/training.md``).

Every nucleotide of every annotated locus is acceptor, donor or neither
(:mod:`.splice_blocks`); the model (a token-classification head with 3 classes, cross-entropy)
sees blocks of labelled nucleotides with ``context / 2`` nt of genome on each side: 80, 400 or
2,000 nt of context are SpliceAI's (and the GeneBERT paper's Table 4) settings, as far as the
model's positions allow. Folds are whole loci (as the splice-site windows task). Test metrics,
SpliceAI's, for each class over every labelled nucleotide of the test fold: top-k accuracy
(k = the number of sites) and PR-AUC (average precision), and their means over the two
classes; early stopping on the mean PR-AUC.

Both families run it: SpliceBERT has a token per nucleotide; a GeneBERT k-mer token carries
the label of the nucleotide it starts (so ``context / 2`` must be at least ``k - 1``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from ...analysis.metrics import per_nucleotide_splice_metrics
from ...errors import UserError
from ..config import ConfigError
from .engine import FinetuneConfig, Group, Task, base_model_dir, model_family, run_task


@dataclass(frozen=True, kw_only=True)
class SpliceNucleotideConfig(FinetuneConfig):
    genome: str
    annotation: str
    context: int = 80  # nt of genome around each block, half on each side (SpliceAI-80nt)
    block: int = 0  # labelled nt per input; 0 = as many as the model's positions leave after the context
    batch_size: int = 16
    learning_rate: float = 1e-5
    weight_decay: float = 0.01
    folds: int = 5

    def __post_init__(self):
        super().__post_init__()
        self.check_grouped_folds()
        if self.context < 0 or self.context % 2:
            raise ConfigError(f"context must be an even number >= 0 (half on each side), got {self.context}")
        if self.block < 0:
            raise ConfigError(f"block must be >= 0 (0 = the most the model takes), got {self.block}")


def nucleotide_metrics(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """``test_<class>_top_k_accuracy`` and ``test_<class>_pr_auc`` for acceptors and donors, and
    their means over the two classes (``test_mean_*``)."""
    out = {}
    per_class = per_nucleotide_splice_metrics(labels, probabilities)
    for name, values in per_class.items():
        out[f"test_{name}_top_k_accuracy"] = values["top_k_accuracy"]
        out[f"test_{name}_pr_auc"] = values["pr_auc"]
    for metric in ("top_k_accuracy", "pr_auc"):
        out[f"test_mean_{metric}"] = float(np.mean([values[metric] for values in per_class.values()]))
    return out


def _mean_pr_auc(labels: np.ndarray, probabilities: np.ndarray) -> float:
    return nucleotide_metrics(labels, probabilities)["test_mean_pr_auc"]


def _block_dataset(blocks, encode, context: int):
    from torch.utils.data import TensorDataset

    from .splice_blocks import token_labels

    ids = np.asarray(encode([b.sequence for b in blocks]))
    return TensorDataset(torch.from_numpy(ids), torch.from_numpy(token_labels(blocks, ids.shape[1], context)))


def _block_rows(blocks, probs, baseline, context: int):
    first = 1 + context // 2
    for block, row in zip(blocks, probs, strict=True):
        for index in np.flatnonzero(block.labels >= 0):
            acceptor, donor = row[first + index, 1], row[first + index, 2]
            yield (block.locus, block.chrom, block.strand, block.position(int(index)), block.labels[index],
                   f"{acceptor:.9g}", f"{donor:.9g}")


def finetune_splice_nucleotides(config: SpliceNucleotideConfig, *, progress: bool = True) -> dict:
    """Cross-validated per-nucleotide acceptor/donor/neither classification; returns (and writes)
    the summary (group ``splice_nucleotides``; predictions: one row per labelled nucleotide)."""
    from ...io.annotation import read_transcripts
    from ...io.genome import Genome
    from ...sources.gencode import annotation_file
    from .splice_blocks import ACCEPTOR, DONOR, splice_blocks
    from .splice_sites import grouped_folds

    family = model_family(config.model)
    task = Task("splice_nucleotides", family.token_class, 3,
                to_probability=lambda logits: torch.softmax(logits, -1),
                metric=_mean_pr_auc, metric_name="mean_pr_auc", test_metrics=nucleotide_metrics)

    def groups():
        longest = family.max_nucleotides(base_model_dir(config))
        block = config.block or longest - config.context
        if block < 1 or block + config.context > longest:
            raise UserError(f"{config.context} nt of context + a block of {config.block or 'at least 1'} nt do not fit "
                            f"this model's {longest} nt; use a shorter context or block (or a model with more "
                            "positions)")
        if family.kmer > 1 and config.context // 2 < family.kmer - 1:
            raise UserError(f"a {family.kmer}-mer model needs context / 2 >= {family.kmer - 1} nt after the last "
                            f"labelled nucleotide (its k-mer); got context {config.context}")
        with Genome(config.genome) as genome:
            data = splice_blocks(genome, read_transcripts(annotation_file(config.annotation)), block=block,
                                 context=config.context)
        labels = np.stack([b.labels for b in data.blocks]) if data.blocks else np.zeros((0, block))
        if not (labels == ACCEPTOR).any() or not (labels == DONOR).any():
            raise UserError(f"no annotated acceptor and donor of {config.annotation} lies in {config.genome}")
        yield Group(
            "splice_nucleotides", data.blocks,
            list(grouped_folds([b.locus for b in data.blocks], config.folds, seed=config.seed)), config.folds,
            functools.partial(_block_dataset, encode=family.encode, context=config.context),
            describe_fold=lambda k: {},
            prediction_header=("locus", "chrom", "strand", "position", "label", "prob_acceptor", "prob_donor"),
            prediction_rows=functools.partial(_block_rows, context=config.context),
            data={"blocks": len(data.blocks), "block": block, "context": config.context,
                  "nucleotides": int((labels >= 0).sum()), "acceptors": int((labels == ACCEPTOR).sum()),
                  "donors": int((labels == DONOR).sum()), "loci": len({b.locus for b in data.blocks}),
                  "skipped": dict(data.skipped)},
        )

    return run_task(task, config, groups, progress, family)
