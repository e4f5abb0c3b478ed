"""Ranking and classification metrics (pure numpy; labels 0/1): fine-tuning and score evaluation."""

from __future__ import annotations

import numpy as np


def average_precision(labels, scores) -> float:
    """Average precision (area under the step precision-recall curve).

    Ties in ``scores`` are resolved as one threshold (all tied items enter together).
    NaN when there is no positive.
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


def auroc(labels, scores) -> float:
    """Area under the ROC curve: the probability that a random positive outscores a random
    negative, ties counting one half (Mann-Whitney U / (P * N)). NaN without both classes."""
    labels, scores = np.asarray(labels).astype(bool), np.asarray(scores, dtype=np.float64)
    positives, negatives = int(labels.sum()), int((~labels).sum())
    if positives == 0 or negatives == 0:
        return float("nan")
    order = np.argsort(scores, kind="stable")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores))
    # average rank (1-based) within each run of tied scores
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_scores)) + 1]
    ends = np.r_[starts[1:], len(scores)]
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)
    u = ranks[labels].sum() - positives * (positives + 1) / 2.0
    return float(u / (positives * negatives))


def f1_at(labels, probabilities, threshold: float = 0.5) -> float:
    """F1 of the calls ``probability >= threshold`` (0 when nothing is called and nothing is positive)."""
    labels = np.asarray(labels).astype(bool)
    called = np.asarray(probabilities, dtype=np.float64) >= threshold
    true_positives = int((labels & called).sum())
    denominator = int(labels.sum()) + int(called.sum())
    return 2.0 * true_positives / denominator if denominator else 0.0


def macro_precision_recall(labels, probabilities, threshold: float = 0.5) -> tuple[float, float]:
    """Precision and recall of the calls ``probability >= threshold``, each averaged over the two
    classes (the paper's "Precision" / "Recall" columns); a class never called has precision 0."""
    labels = np.asarray(labels).astype(bool)
    called = np.asarray(probabilities, dtype=np.float64) >= threshold
    precisions, recalls = [], []
    for truth, call in ((labels, called), (~labels, ~called)):
        hits = int((truth & call).sum())
        precisions.append(hits / int(call.sum()) if call.any() else 0.0)
        recalls.append(hits / int(truth.sum()) if truth.any() else 0.0)
    return float(np.mean(precisions)), float(np.mean(recalls))


def top_k_accuracy(labels, scores) -> float:
    """SpliceAI's top-k accuracy: with ``k`` = the number of positives, the fraction of positives
    among the ``k`` highest scores (the precision, equal to the recall, at the threshold that calls
    as many sites as there are). Ties at the k-th score count fractionally (expected value over
    orders of the tied items). NaN when there is no positive."""
    labels, scores = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    k = int(labels.sum())
    if k == 0:
        return float("nan")
    kth = np.sort(scores)[::-1][k - 1]
    above = scores > kth
    tied = scores == kth
    hits = labels[above].sum() + (k - above.sum()) * labels[tied].mean()
    return float(hits / k)


#: SpliceAI's classes per nucleotide
SPLICE_CLASSES = ("neither", "acceptor", "donor")


def per_nucleotide_splice_metrics(labels, probabilities) -> dict[str, dict[str, float]]:
    """Top-k accuracy and PR-AUC (average precision) of each splice class, SpliceAI's evaluation:
    ``labels`` (n,) in 0 = neither, 1 = acceptor, 2 = donor over every scored nucleotide;
    ``probabilities`` (n, 3) in that class order."""
    labels = np.asarray(labels)
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape != (len(labels), 3):
        raise ValueError(f"probabilities must be (n, 3) for n = {len(labels)} labels, got {probabilities.shape}")
    return {name: {"top_k_accuracy": top_k_accuracy(labels == index, probabilities[:, index]),
                   "pr_auc": average_precision(labels == index, probabilities[:, index]),
                   "sites": int((labels == index).sum())}
            for index, name in enumerate(SPLICE_CLASSES) if index > 0}
