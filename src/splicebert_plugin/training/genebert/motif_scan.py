"""Motif scanning on both strands with one convolution: exact integer scores. Pure on arrays.

Every motif and its reverse complement is a channel of a ``conv1d`` over the one-hot sequence;
the integer weights (``motifs.Motif``) keep every partial sum an integer below 2**24, so the
float32 result is exact. A window is scored only when it lies inside the sequence and holds no
N (or other non-ACGT base); elsewhere the score is ``-inf``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from ...errors import UserError

_CODE = np.full(256, -1, dtype=np.int64)
for _code, _letters in enumerate(("Aa", "Cc", "Gg", "TtUu")):
    for _letter in _letters:
        _CODE[ord(_letter)] = _code


def codes(sequence: str) -> np.ndarray:
    """0-3 for A, C, G, T (any case, U = T); -1 for anything else."""
    return _CODE[np.frombuffer(sequence.encode("ascii", errors="replace"), dtype=np.uint8)]


@dataclass(frozen=True)
class MotifBank:
    """The motifs as convolution weights: ``weights`` ``(2M, 4, Lmax)`` (forward, then reverse
    complement of each motif), ``lengths`` ``(M,)``, ``thresholds`` ``(M,)``."""

    weights: torch.Tensor
    lengths: np.ndarray
    thresholds: np.ndarray

    @classmethod
    def from_motifs(cls, motifs) -> "MotifBank":
        longest = max(m.length for m in motifs)
        forward = np.zeros((len(motifs), 4, longest), dtype=np.float32)
        reverse = np.zeros_like(forward)
        for k, motif in enumerate(motifs):
            w = motif.weight_array()
            forward[k, :, : motif.length] = w
            reverse[k, :, : motif.length] = w[::-1, ::-1]  # complement (rows A C G T reversed) of the reversed motif
        return cls(torch.from_numpy(np.concatenate([forward, reverse])),
                   np.array([m.length for m in motifs]), np.array([m.threshold for m in motifs], dtype=np.int64))

    def __len__(self) -> int:
        return len(self.lengths)


def window_scores_batch(bank: MotifBank, sequences: Sequence[str]) -> np.ndarray:
    """``(R, M, 2, n)`` float32 scores of equal-length sequences (see :func:`window_scores`)."""
    n = len(sequences[0])
    if any(len(s) != n for s in sequences):
        raise UserError("window_scores_batch needs sequences of one length")
    code = np.stack([codes(s) for s in sequences]) if n else np.zeros((len(sequences), 0), dtype=np.int64)
    longest = bank.weights.shape[-1]
    onehot = np.zeros((len(sequences), 4, n + longest - 1), dtype=np.float32)
    rows, cols = np.nonzero(code >= 0)
    onehot[rows, code[rows, cols], cols] = 1.0
    with torch.inference_mode():
        scores = torch.nn.functional.conv1d(torch.from_numpy(onehot), bank.weights).numpy()  # (R, 2M, n)
    scores = scores.reshape(len(sequences), 2, len(bank), n).transpose(0, 2, 1, 3).copy()
    bad = np.concatenate([np.zeros((len(sequences), 1), dtype=np.int64), np.cumsum(code < 0, axis=1)], axis=1)
    starts = np.arange(n)
    for length in np.unique(bank.lengths):  # one validity mask per motif length
        ends = np.minimum(starts + length, n)
        clean = (bad[:, ends] == bad[:, starts]) & (starts + length <= n)[None, :]  # (R, n)
        chosen = np.flatnonzero(bank.lengths == length)
        view = scores[:, chosen]  # (R, m, 2, n): a copy, written back below
        view[np.broadcast_to(~clean[:, None, None, :], view.shape)] = -np.inf
        scores[:, chosen] = view
    return scores


def window_scores(bank: MotifBank, sequence: str) -> np.ndarray:
    """``(M, 2, n)`` float32 scores of the window starting at each position (strand 0 forward,
    1 reverse complement), ``-inf`` where the window leaves the sequence or holds a non-ACGT base."""
    return window_scores_batch(bank, [sequence])[0]


def region_matrix(bank: MotifBank, sequences: Sequence[str], *, batch_size: int = 128) -> tuple[np.ndarray, np.ndarray]:
    """Per region and motif: the number of hits (windows at or above the threshold, both
    strands counted) and the best score (either strand; ``-inf`` when no window fits).

    Returns ``(counts (R, M) int32, max_scores (R, M) float32)``; sequences of one length are
    scanned ``batch_size`` at a time in one convolution.
    """
    counts = np.zeros((len(sequences), len(bank)), dtype=np.int32)
    best = np.full((len(sequences), len(bank)), -np.inf, dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for r, sequence in enumerate(sequences):
        by_length.setdefault(len(sequence), []).append(r)
    for length, rows in by_length.items():
        if length == 0:
            continue
        for first in range(0, len(rows), batch_size):
            chunk = rows[first : first + batch_size]
            scores = window_scores_batch(bank, [sequences[r] for r in chunk])
            counts[chunk] = (scores >= bank.thresholds[None, :, None, None]).sum(axis=(2, 3))
            best[chunk] = scores.max(axis=(2, 3))
    return counts, best


def matrix_values(counts: np.ndarray, max_scores: np.ndarray, kind: str, scale: int = 1000) -> np.ndarray:
    """The values a GeneBERT matrix holds: ``match`` (0/1), ``log1p_count``, or ``max_score``
    (log2 odds; windows that do not fit score 0)."""
    if kind == "match":
        return (counts > 0).astype(np.float32)
    if kind == "log1p_count":
        return np.log1p(counts).astype(np.float32)
    if kind == "max_score":
        return np.where(np.isfinite(max_scores), max_scores / scale, 0.0).astype(np.float32)
    raise UserError(f"matrix values {kind!r}: choose match, log1p_count or max_score")
