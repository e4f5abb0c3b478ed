"""Baselines: count models for masked-nucleotide prediction (unigram, bidirectional k-mer) and a
one-hot logistic regression for sequence classification.

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


def one_hot(sequences: list[str], start: int, end: int) -> np.ndarray:
    """``(N, 4 * (end - start))`` float one-hot of A/C/G/T over ``sequence[start:end]`` (N: all zero)."""
    from ..splicebert import tokenization

    ids = tokenization.encode_batch([s[start:end] for s in sequences], add_special_tokens=False)
    codes = bases(ids)
    out = np.zeros(codes.shape + (4,), dtype=np.float64)
    rows, cols = np.nonzero(codes >= 0)
    out[rows, cols, codes[rows, cols]] = 1.0
    return out.reshape(len(sequences), -1)


class LogisticRegression:
    """L2-regularised logistic regression fitted by full-batch gradient descent (deterministic).

    The position-wise baseline of the splice-site task: what the nucleotides next to the site
    alone tell, against which a fine-tuned language model is read.
    """

    def __init__(self, l2: float = 1e-3, steps: int = 2000, learning_rate: float = 0.5):
        self.l2, self.steps, self.learning_rate = l2, steps, learning_rate
        self.weights, self.bias = None, 0.0

    def fit(self, features: np.ndarray, labels: np.ndarray) -> "LogisticRegression":
        features, labels = np.asarray(features, dtype=np.float64), np.asarray(labels, dtype=np.float64)
        self.weights, self.bias = np.zeros(features.shape[1]), 0.0
        for _ in range(self.steps):
            error = self.predict_proba(features) - labels
            self.weights -= self.learning_rate * (features.T @ error / len(labels) + self.l2 * self.weights)
            self.bias -= self.learning_rate * error.mean()
        return self

    def predict_proba(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(np.asarray(features, dtype=np.float64) @ self.weights + self.bias)))


def composition(sequences: list[str]) -> np.ndarray:
    """``(N, 3)``: GC fraction, CpG observed/expected (``CG * L / (C * G)``, 0 without C or G) and
    CpG density (CG dinucleotides per position): what composition alone says about a window."""
    rows = []
    for sequence in sequences:
        s = sequence.upper()
        c, g, cg, n = s.count("C"), s.count("G"), s.count("CG"), max(len(s), 1)
        rows.append(((c + g) / n, cg * n / (c * g) if c and g else 0.0, cg / max(n - 1, 1)))
    return np.array(rows, dtype=np.float64).reshape(len(sequences), 3)


def kmer_spectrum(sequences: list[str], k: int = 3) -> np.ndarray:
    """``(N, 4**k)`` frequencies of the overlapping k-mers of each sequence (k-mers with N skipped)."""
    from ..genebert.tokenization_genebert import SPECIAL_TOKENS, kmer_encode

    first = len(SPECIAL_TOKENS)  # k-mer ids follow the special tokens
    out = np.zeros((len(sequences), 4**k))
    for row, sequence in enumerate(sequences):
        ids = kmer_encode(sequence, k)
        ids = ids[ids >= first] - first
        if len(ids):
            out[row] = np.bincount(ids, minlength=4**k) / len(ids)
    return out


def fit_predict(train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray) -> np.ndarray:
    """Test probabilities of a :class:`LogisticRegression` on features standardised by the training
    mean and standard deviation."""
    mean, std = train_features.mean(axis=0), train_features.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    model = LogisticRegression().fit((train_features - mean) / std, train_labels)
    return model.predict_proba((test_features - mean) / std)
