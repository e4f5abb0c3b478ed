"""Count baselines for masked-nucleotide prediction: unigram and bidirectional k-mer models.

The bidirectional model predicts a base from its ``flank`` neighbours on each side (flank 2:
the 2 bases before and the 2 after), with add-``alpha`` smoothing; contexts containing N are
not counted and not predicted. A language model that only learnt short k-mer statistics does
no better than this.
"""

from __future__ import annotations

import numpy as np

# token ids 6..9 are A, C, G, T; everything else (N, specials) is not a base here
_BASE_OF_ID = np.full(256, -1, dtype=np.int64)
_BASE_OF_ID[6:10] = np.arange(4)


def bases(ids: np.ndarray) -> np.ndarray:
    """Token ids -> 0..3 for A/C/G/T, -1 otherwise."""
    return _BASE_OF_ID[np.asarray(ids, dtype=np.int64)]


def _context_codes(b: np.ndarray, flank: int) -> tuple[np.ndarray, np.ndarray]:
    """For every position with ``flank`` valid neighbours each side: (positions, context code)."""
    n = len(b)
    if n < 2 * flank + 1:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    positions = np.arange(flank, n - flank)
    code = np.zeros(len(positions), dtype=np.int64)
    valid = np.ones(len(positions), dtype=bool)
    for offset in [*range(-flank, 0), *range(1, flank + 1)]:
        neighbour = b[positions + offset]
        valid &= neighbour >= 0
        code = code * 4 + np.maximum(neighbour, 0)
    return positions[valid], code[valid]


class KmerModel:
    """P(base | ``flank`` bases left, ``flank`` bases right), counted on training sequences."""

    def __init__(self, flank: int = 2, alpha: float = 1.0):
        self.flank, self.alpha = flank, alpha
        self.counts = np.zeros((4 ** (2 * flank), 4))
        self.unigram = np.zeros(4)

    def fit(self, sequences) -> "KmerModel":
        """Count over an iterable of token-id arrays."""
        for ids in sequences:
            b = bases(ids)
            self.unigram += np.bincount(b[b >= 0], minlength=4)
            positions, code = _context_codes(b, self.flank)
            centre = b[positions]
            keep = centre >= 0
            np.add.at(self.counts, (code[keep], centre[keep]), 1)
        return self

    def probabilities(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(positions, (len(positions), 4) probabilities)`` for every predictable position of ``ids``."""
        positions, code = _context_codes(bases(ids), self.flank)
        counts = self.counts[code] + self.alpha
        return positions, counts / counts.sum(axis=1, keepdims=True)

    def unigram_probabilities(self) -> np.ndarray:
        return (self.unigram + self.alpha) / (self.unigram + self.alpha).sum()
