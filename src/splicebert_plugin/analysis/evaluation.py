"""Zero-shot scores against labelled variants: AP and AUROC with bootstrap intervals, and a baseline.

``evaluate(scores, labels)`` ranks variants by ``scores`` (higher = predicted disruptive) against
0/1 ``labels``. The paper reports average precision (Vex-seq, MFASS) against simple baselines;
the one offered here is the distance to the nearest annotated splice site (closer = more
disruptive), which any zero-shot score has to beat to carry information beyond position.

Joining scores with labels (:func:`join`): a score table has one row per ALT x gene (the
``--table`` of ``splicebert score``); a variant's score is its most disruptive row. Variants
with a label but no score (unscored records, missing rows) are counted and reported, never
dropped silently.
"""

from __future__ import annotations

import bisect
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from .metrics import auroc, average_precision
from ..errors import UserError

#: the scores where a lower value is the more disruptive one
LOWER_IS_DISRUPTIVE = ("DELTA_P",)
KEY = ("CHROM", "POS", "REF", "ALT")


@dataclass(frozen=True)
class Evaluation:
    """AP and AUROC of one score, with percentile bootstrap intervals."""

    n: int
    positives: int
    ap: float
    ap_low: float
    ap_high: float
    auroc: float
    auroc_low: float
    auroc_high: float

    def as_dict(self) -> dict:
        return asdict(self)


def evaluate(scores: Sequence[float], labels: Sequence[int], *, n_boot: int = 1000, seed: int = 0,
             level: float = 0.95) -> Evaluation:
    """AP and AUROC of ``scores`` (higher = disruptive) for 0/1 ``labels``, with ``level``
    bootstrap intervals from ``n_boot`` resamples (deterministic per ``seed``; resamples that
    lack a class are drawn again)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    if scores.shape != labels.shape or scores.ndim != 1:
        raise UserError(f"scores and labels must be two 1-D arrays of one length, got {scores.shape} and {labels.shape}")
    if np.isnan(scores).any():
        raise UserError("scores hold NaN: leave the unscored variants out (and report them) before evaluating")
    if not set(np.unique(labels).tolist()) <= {0, 1}:
        raise UserError(f"labels must be 0 or 1, got {sorted(set(np.unique(labels).tolist()))[:5]}")
    labels = labels.astype(int)
    positives = int(labels.sum())
    if positives == 0 or positives == len(labels):
        raise UserError(f"need positive and negative labels, got {positives} positive of {len(labels)}")
    rng = np.random.default_rng(seed)
    aps, aurocs = [], []
    while len(aps) < n_boot:
        pick = rng.integers(0, len(labels), len(labels))
        sample = labels[pick]
        if 0 < sample.sum() < len(sample):
            aps.append(average_precision(sample, scores[pick]))
            aurocs.append(auroc(sample, scores[pick]))
    tail = (1 - level) / 2 * 100
    low_ap, high_ap = np.percentile(aps, [tail, 100 - tail]) if n_boot else (np.nan, np.nan)
    low_roc, high_roc = np.percentile(aurocs, [tail, 100 - tail]) if n_boot else (np.nan, np.nan)
    return Evaluation(len(labels), positives, average_precision(labels, scores), float(low_ap), float(high_ap),
                      auroc(labels, scores), float(low_roc), float(high_roc))


def join(scores, labels, score: str, *, higher_is_disruptive: bool | None = None):
    """Variants with a label, their oriented score (higher = disruptive; NaN when unscored).

    ``scores``/``labels``: DataFrames. Joined on ``ID`` when both have it with unique,
    non-missing values, else on CHROM/POS/REF/ALT (``chr`` prefixes ignored). ``labels`` needs a
    ``LABEL`` column of 0/1. Returns ``(frame with KEY, LABEL, SCORE, key used)``.
    """
    import pandas as pd

    if score not in scores.columns:
        raise UserError(f"the score table has no column {score!r}; its columns: {list(scores.columns)}")
    if "LABEL" not in labels.columns:
        raise UserError(f"the labels table needs a LABEL column (0/1); its columns: {list(labels.columns)}")
    if higher_is_disruptive is None:
        higher_is_disruptive = score not in LOWER_IS_DISRUPTIVE
    sign = 1.0 if higher_is_disruptive else -1.0
    usable_id = "ID" in scores.columns and "ID" in labels.columns and labels["ID"].notna().all() \
        and labels["ID"].astype(str).ne(".").all() and labels["ID"].is_unique
    if usable_id:
        on = ["ID"]
    else:
        missing = [c for c in KEY if c not in labels.columns or c not in scores.columns]
        if missing:
            raise UserError(f"cannot join scores and labels: no usable ID column, and {missing} missing")
        on = list(KEY)
    left = labels.copy()
    right = scores[on + [score]].copy()
    for frame in (left, right):
        for column in on:
            frame[column] = frame[column].astype(str)
        if "CHROM" in on:
            frame["CHROM"] = frame["CHROM"].str.removeprefix("chr")
    right["SCORE"] = sign * pd.to_numeric(right[score], errors="coerce")
    best = right.groupby(on, sort=False)["SCORE"].max().reset_index()  # NaN only when every row is unscored
    joined = left.merge(best, on=on, how="left")
    matched = left[on].merge(right[on].drop_duplicates(), on=on, how="inner")
    if len(matched) == 0:
        example = ", ".join("/".join(map(str, row)) for row in left[on].head(2).itertuples(index=False))
        raise UserError(f"no labelled variant is in the score table (joined on {'/'.join(on)}; labels such as "
                        f"{example}): do the labels and the scores come from the same VCF?")
    return joined, on


class SpliceSiteDistance:
    """Distance from a position to the nearest annotated splice site (exon boundary), per contig."""

    def __init__(self, genes):
        from ..io.contigs import ContigMap

        self._sites: dict[str, list[int]] = {}
        for contig in genes.contigs:
            sites = set()
            for gene in genes.overlapping(contig, 0, 1 << 62):
                for start, end in gene.exons[1:]:
                    sites.update((start - 1, start - 2))  # acceptor side: the intron's last bases (genomic left)
                for start, end in gene.exons[:-1]:
                    sites.update((end, end + 1))  # the intron's first bases (genomic right of the exon)
            self._sites[contig] = sorted(sites)
        self._names = ContigMap(list(self._sites), "annotation")

    def __call__(self, chrom: str, position: int) -> float:
        """Distance (nt) from 0-based ``position`` to the nearest splice-site base; inf when none."""
        contig = self._names.get(chrom)
        sites = self._sites.get(contig) if contig else None
        if not sites:
            return float("inf")
        k = bisect.bisect_left(sites, position)
        near = [abs(sites[m] - position) for m in (k - 1, k) if 0 <= m < len(sites)]
        return float(min(near))


def plot_precision_recall(curves: dict[str, tuple[np.ndarray, np.ndarray, float]], path: str, *,
                          prevalence: float, title: str = "") -> None:
    """One picture: a precision-recall curve per score (``name -> (labels, scores, AP)``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 4))
    for name, (labels, scores, ap) in curves.items():
        order = np.argsort(-scores, kind="stable")
        hits = np.cumsum(labels[order])
        recall = hits / max(labels.sum(), 1)
        precision = hits / np.arange(1, len(labels) + 1)
        ax.step(np.r_[0, recall], np.r_[precision[0] if len(precision) else 1, precision], where="post",
                label=f"{name} (AP {ap:.3f})")
    ax.axhline(prevalence, color="grey", linestyle=":", linewidth=1, label=f"chance ({prevalence:.3f})")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
