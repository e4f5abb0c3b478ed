"""``splicebert evaluate`` as a job over files: a score table and labels -> AP/AUROC with bootstrap
intervals, the distance baseline, precision-recall curves."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..errors import UserError
from ..io.table import read_table, write_tsv


def evaluate_job(scores_path: str, labels_path: str, *, score: str = "KL_CONTEXT",
                 higher_is_disruptive: bool | None = None, annotation: str | None = None,
                 output: str | None = None, plot: str | None = None, n_boot: int = 1000, seed: int = 0) -> dict:
    """AP/AUROC (bootstrap CIs) of ``score`` against the labels, and of the distance baseline
    when ``annotation`` is given; unscored labelled variants are counted, not dropped silently."""
    import pandas as pd

    from ..io.annotation import read_annotation
    from ..sources.gencode import annotation_file
    from .evaluation import SpliceSiteDistance, evaluate, join, plot_precision_recall

    joined, key = join(read_table(scores_path), read_table(labels_path), score,
                       higher_is_disruptive=higher_is_disruptive)
    labels = pd.to_numeric(joined["LABEL"], errors="coerce")
    if labels.isna().any() or not set(labels.unique()) <= {0, 1}:
        bad = joined.loc[labels.isna() | ~labels.isin([0, 1]), "LABEL"].head(3).tolist()
        raise UserError(f"LABEL must be 0 or 1 in {labels_path}; found {bad}")
    scored = joined["SCORE"].notna()
    result = {"score": score, "joined_on": key, "labelled": len(joined), "scored": int(scored.sum()),
              "unscored": int((~scored).sum()), "unscored_positives": int((~scored & (labels == 1)).sum()),
              "results": {}}
    y = labels[scored].to_numpy(dtype=int)
    values = joined.loc[scored, "SCORE"].to_numpy(dtype=float)
    evaluations = {score: (values, evaluate(values, y, n_boot=n_boot, seed=seed))}
    if annotation is not None:
        if "CHROM" not in joined.columns or "POS" not in joined.columns:
            raise UserError("the distance baseline needs CHROM and POS in the labels table")
        distance = SpliceSiteDistance(read_annotation(annotation_file(annotation)))
        baseline = -np.array([distance(str(c), int(p) - 1) for c, p in zip(joined.loc[scored, "CHROM"],
                                                                          joined.loc[scored, "POS"], strict=True)])
        baseline = np.where(np.isinf(baseline), -1e12, baseline)
        evaluations["distance_to_splice_site"] = (baseline, evaluate(baseline, y, n_boot=n_boot, seed=seed))
    for name, (_, evaluation) in evaluations.items():
        result["results"][name] = evaluation.as_dict()
    if output:
        if output.endswith(".json"):
            Path(output).write_text(json.dumps(result, indent=2) + "\n")
        else:
            write_tsv(output, [{"score": name, **ev} for name, ev in result["results"].items()])
    if plot:
        plot_precision_recall({name: (y, values_, ev.ap) for name, (values_, ev) in evaluations.items()}, plot,
                              prevalence=float(y.mean()),
                              title=f"{len(y)} variants ({int(y.sum())} positive); {result['unscored']} unscored")
    return result
