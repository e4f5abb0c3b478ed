"""Branchpoint fine-tuning (ALGORITHMS.md section 4): token classification, chromosome folds.

For each fold the test chromosomes are held out, the next fold's chromosomes validate, the rest
train. Training: AdamW (lr 1e-5, weight decay 1e-6), batch 8, LR halved when the validation
average precision stalls (``plateau_patience`` epochs), early stopping after ``patience`` epochs
without improvement; the best epoch's weights predict the test fold. Scores are the softmax
probability of class 1 (the original used sigmoid(logit_1): changed, as ALGORITHMS.md says).
Writes per-fold predictions and the AP of each fold and of all folds pooled.
"""

from __future__ import annotations

import copy
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the step precision-recall curve), labels 0/1.

    Ties in ``scores`` are resolved as one threshold (all tied items enter together).
    """
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    positives = labels.sum()
    if positives == 0:
        return float("nan")
    order = np.argsort(-scores, kind="stable")
    labels, scores = labels[order], scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_positives = np.cumsum(labels)[last_of_tie]
    predicted = last_of_tie + 1
    precision = true_positives / predicted
    recall_gain = np.diff(np.r_[0, true_positives]) / positives
    return float(np.sum(precision * recall_gain))


@dataclass(frozen=True)
class BranchpointConfig:
    bed: str
    genome: str
    output_dir: str
    model: str = "demo"
    width: int = 510
    batch_size: int = 8
    learning_rate: float = 1e-5
    weight_decay: float = 1e-6
    max_epochs: int = 100
    patience: int = 10
    plateau_patience: int = 3
    folds: int = 0  # 0 = one fold per chromosome
    seed: int = 0


def chromosome_folds(chromosomes: list[str], folds: int) -> list[list[str]]:
    """Chromosomes (sorted) dealt round-robin into ``folds`` groups (0 = one per chromosome)."""
    names = sorted(set(chromosomes))
    count = folds or len(names)
    if count < 3 or len(names) < count:
        raise ValueError(
            f"chromosome folds need at least 3 folds with a chromosome each (test, validation, training); "
            f"got {len(names)} chromosome(s) {names} for {count} fold(s)"
        )
    return [names[i::count] for i in range(count)]


def _tensors(windows):
    from .. import tokenization

    ids = torch.from_numpy(tokenization.encode_batch([w.sequence for w in windows]))
    labels = torch.full(ids.shape, -100, dtype=torch.long)
    labels[:, 1:-1] = torch.from_numpy(np.stack([w.labels for w in windows]))
    return ids, labels


def _predict(model, ids, batch_size):
    model.eval()
    out = []
    with torch.inference_mode():
        for i in range(0, len(ids), batch_size):
            logits = model(input_ids=ids[i : i + batch_size], output_hidden_states=False).logits
            out.append(torch.softmax(logits.float(), -1)[..., 1])
    return torch.cat(out).numpy()


def _scored(labels, probs):
    keep = labels.numpy() >= 0
    return labels.numpy()[keep], probs[keep]


def finetune_branchpoints(config: BranchpointConfig, *, progress: bool = True) -> dict:
    """Cross-validated branchpoint fine-tuning; returns (and writes) the per-fold and pooled AP."""
    from tqdm import tqdm

    from ..io.genome import Genome
    from ..modeling_splicebert import SpliceBertForTokenClassification
    from ..score_vcf import resolve_model
    from .branchpoints import branchpoint_windows

    torch.manual_seed(config.seed)
    output = Path(config.output_dir)
    output.mkdir(parents=True, exist_ok=True)
    with Genome(config.genome) as genome:
        windows = list(branchpoint_windows(config.bed, genome, width=config.width))
    if not windows:
        raise ValueError(f"no branchpoint region of {config.bed} lies in {config.genome}")
    folds = chromosome_folds([w.chrom for w in windows], config.folds)
    base, _ = resolve_model(config.model, device="cpu")
    model_dir = output / "base_model"
    base.save_pretrained(str(model_dir))
    results, pooled_labels, pooled_scores = {}, [], []
    for k, test_chroms in enumerate(folds):
        valid_chroms = folds[(k + 1) % len(folds)]
        split = {
            "test": [w for w in windows if w.chrom in test_chroms],
            "valid": [w for w in windows if w.chrom in valid_chroms],
            "train": [w for w in windows if w.chrom not in test_chroms + valid_chroms],
        }
        model = SpliceBertForTokenClassification.from_pretrained(str(model_dir), num_labels=2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                               patience=config.plateau_patience)
        train_ids, train_labels = _tensors(split["train"])
        valid_ids, valid_labels = _tensors(split["valid"])
        best_ap, best_state, waited = -1.0, None, 0
        generator = torch.Generator().manual_seed(config.seed + k)
        bar = tqdm(range(config.max_epochs), desc=f"fold {k}", file=sys.stderr, disable=not progress)
        for epoch in bar:
            model.train()
            order = torch.randperm(len(train_ids), generator=generator)
            for i in range(0, len(order), config.batch_size):
                batch = order[i : i + config.batch_size]
                loss = model(input_ids=train_ids[batch], labels=train_labels[batch], output_hidden_states=False).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad()
            ap = average_precision(*_scored(valid_labels, _predict(model, valid_ids, config.batch_size)))
            scheduler.step(ap)
            bar.set_postfix(valid_ap=f"{ap:.3f}")
            if ap > best_ap:
                best_ap, best_state, waited = ap, copy.deepcopy(model.state_dict()), 0
            else:
                waited += 1
                if waited >= config.patience:
                    break
        model.load_state_dict(best_state)
        test_ids, test_labels = _tensors(split["test"])
        probs = _predict(model, test_ids, config.batch_size)
        labels, scores = _scored(test_labels, probs)
        results[f"fold{k}"] = {"test_chromosomes": test_chroms, "valid_chromosomes": valid_chroms,
                               "train_windows": len(split["train"]), "test_windows": len(split["test"]),
                               "best_valid_ap": best_ap, "test_ap": average_precision(labels, scores)}
        with open(output / f"predictions_fold{k}.tsv", "w") as handle:
            handle.write("window\tchrom\tstrand\tindex\tlabel\tprob_bp\n")
            for window, row in zip(split["test"], probs):
                for index in np.flatnonzero(window.labels >= 0):
                    handle.write(f"{window.name}\t{window.chrom}\t{window.strand}\t{index}\t"
                                 f"{window.labels[index]}\t{row[index + 1]:.6f}\n")
        pooled_labels.append(labels)
        pooled_scores.append(scores)
    summary = {"config": asdict(config), "folds": results,
               "pooled_test_ap": average_precision(np.concatenate(pooled_labels), np.concatenate(pooled_scores))}
    (output / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary
