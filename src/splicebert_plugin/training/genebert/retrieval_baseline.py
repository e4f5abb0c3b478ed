"""A composition baseline for GeneBERT's in-batch sequence-region retrieval (R@1).

The motif matrix is a function of the DNA it describes, so some of what the matching loss
learns is base composition: GC-rich motifs score high in GC-rich regions. This baseline retrieves
by GC content alone: a ridge regression, fitted on training samples, predicts each region's GC
fraction from its matrix row; in a batch, sequence ``i`` is matched to the matrix whose predicted
10-region GC profile is nearest (Euclidean) to the sequence's actual profile. An R@1 of the model
near this one says the model learnt little beyond composition. Pure on arrays except
:func:`sample_arrays`.
"""

from __future__ import annotations

import numpy as np

from ...genebert.tokenization_genebert import SPECIAL_TOKENS


def region_gc(input_ids: np.ndarray, kmer: int, num_regions: int) -> np.ndarray:
    """GC fraction of each region of one ``[CLS] A [SEP] B [SEP]`` sample (regions of equal
    length, k-merised separately): the first base of each k-mer plus the last k-mer's other bases."""
    ids = np.asarray(input_ids)
    kmers = ids[ids >= len(SPECIAL_TOKENS)] - len(SPECIAL_TOKENS)
    if len(kmers) % num_regions:
        raise ValueError(f"{len(kmers)} k-mers do not split into {num_regions} equal regions")
    per_region = kmers.reshape(num_regions, -1)
    # base codes of a k-mer index, most significant first, in DNABERT's order A, T, C, G (C=2, G=3)
    powers = 4 ** np.arange(kmer - 1, -1, -1)
    first = (per_region // powers[0]) % 4
    last_bases = (per_region[:, -1:] // powers[1:]) % 4
    bases = np.concatenate([first, last_bases], axis=1)
    return (bases >= 2).mean(axis=1)


def fit_gc_ridge(matrices: np.ndarray, gc: np.ndarray, alpha: float = 1.0):
    """Ridge regression from matrix rows ``(n_rows, n_tfs)`` to GC fractions ``(n_rows,)``;
    returns a function of ``(..., n_tfs)`` arrays."""
    x = np.asarray(matrices, dtype=np.float64)
    y = np.asarray(gc, dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    z = (x - mean) / scale
    coef = np.linalg.solve(z.T @ z + alpha * np.eye(z.shape[1]), z.T @ (y - y.mean()))
    intercept = y.mean()
    return lambda rows: ((np.asarray(rows, dtype=np.float64) - mean) / scale) @ coef + intercept


def in_batch_r_at_1(actual: np.ndarray, predicted: np.ndarray, batch_size: int) -> tuple[float, float]:
    """R@1 of nearest-profile retrieval within consecutive batches, and its chance level.

    ``actual``, ``predicted``: ``(n, d)`` profiles of the same samples; in each batch, sequence
    ``i`` retrieves the ``j`` minimising ``|actual_i - predicted_j|``.
    """
    n = len(actual)
    hits, batches = 0, 0
    for start in range(0, n, batch_size):
        a, p = actual[start : start + batch_size], predicted[start : start + batch_size]
        distance = ((a[:, None, :] - p[None, :, :]) ** 2).sum(-1)
        hits += int((distance.argmin(axis=1) == np.arange(len(a))).sum())
        batches += 1
    return hits / n, batches / n


def sample_arrays(samples, kmer: int, num_regions: int, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(gc (n, regions), matrices (n, regions, tfs))`` of the first ``limit`` samples."""
    count = len(samples) if limit is None else min(limit, len(samples))
    gc, matrices = [], []
    for index in range(count):
        sample = samples[index]
        gc.append(region_gc(sample["input_ids"].numpy(), kmer, num_regions))
        matrices.append(sample["region_values"].numpy().reshape(num_regions, -1))
    return np.stack(gc), np.stack(matrices)


def gc_retrieval_baseline(train_samples, val_samples, *, kmer: int, num_regions: int, batch_size: int,
                          train_limit: int = 3000) -> dict:
    """R@1 of GC-only retrieval on ``val_samples`` (batches in order), fitted on ``train_samples``."""
    train_gc, train_matrices = sample_arrays(train_samples, kmer, num_regions, train_limit)
    predict = fit_gc_ridge(train_matrices.reshape(-1, train_matrices.shape[-1]), train_gc.reshape(-1))
    val_gc, val_matrices = sample_arrays(val_samples, kmer, num_regions)
    r_at_1, chance = in_batch_r_at_1(val_gc, predict(val_matrices), batch_size)
    return {"gc_r_at_1": r_at_1, "r_at_1_chance": chance, "train_samples": len(train_gc),
            "val_samples": len(val_gc), "batch_size": batch_size}
