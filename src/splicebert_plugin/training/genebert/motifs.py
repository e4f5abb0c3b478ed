"""Transcription-factor motifs for GeneBERT's region matrix: JASPAR PWMs with exact thresholds.

The paper scans "JASPAR 2018 vertebrate transcription factor binding site motifs" following the
scATAC atlas convention, which this module reproduces the way chromVAR / motifmatchr do it:

- counts -> probabilities with a pseudocount spread by the background,
  ``p = (count + 0.8 * bg) / (N + 0.8)``, then log-odds ``log2(p / bg)``;
- the background is the A/C/G/T frequency of the scanned regions;
- scores are scaled by 1000 and rounded to integers, so every window score is an exact integer
  (a float32 convolution then computes it exactly) and the score distribution under the
  background is computed **exactly** by dynamic programming;
- a hit is a window scoring at least the smallest threshold ``t`` with ``P(score >= t) <= p``
  (``p = 5e-5`` by default), on either strand. When even the best window is more likely than
  ``p`` (short motifs under a skewed background), the threshold is the best score and the motif
  is flagged ``p_reachable = False`` [ours: the convention leaves this undefined].

Motifs are ordered by JASPAR TF class, then family, then matrix id [ours], so related motifs
are neighbours along the matrix columns the Swin windows see.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

BASES = "ACGT"
SCALE = 1000
PSEUDOCOUNT = 0.8
P_VALUE = 5e-5


@dataclass(frozen=True)
class Motif:
    """One motif ready to scan. ``weights``: integer log-odds x ``scale``, shape ``(4, length)``
    with rows A, C, G, T; a window scores the sum of its bases' weights."""

    matrix_id: str
    name: str
    tf_class: str
    tf_family: str
    counts: tuple  # (4, length) as nested tuples, rows A, C, G, T
    weights: tuple  # (4, length) integers
    threshold: int
    p_reachable: bool
    scale: int = SCALE

    @property
    def length(self) -> int:
        return len(self.weights[0])

    def weight_array(self) -> np.ndarray:
        return np.asarray(self.weights, dtype=np.int64)


def log_odds(counts: np.ndarray, background: Sequence[float], pseudocount: float = PSEUDOCOUNT) -> np.ndarray:
    """``log2(p / bg)`` of a ``(4, L)`` count matrix, ``p = (count + pseudocount * bg) / (N + pseudocount)``."""
    counts = np.asarray(counts, dtype=np.float64)
    bg = np.asarray(background, dtype=np.float64)[:, None]
    total = counts.sum(axis=0, keepdims=True)
    return np.log2((counts + pseudocount * bg) / (total + pseudocount) / bg)


def integer_weights(counts: np.ndarray, background: Sequence[float], *, pseudocount: float = PSEUDOCOUNT,
                    scale: int = SCALE) -> np.ndarray:
    """The log-odds scaled by ``scale`` and rounded: ``(4, L)`` int64."""
    return np.rint(log_odds(counts, background, pseudocount) * scale).astype(np.int64)


def score_distribution(weights: np.ndarray, background: Sequence[float]) -> tuple[int, np.ndarray]:
    """Exact distribution of a window's score under an i.i.d. ``background``.

    Returns ``(lowest, probabilities)``: ``probabilities[s]`` is ``P(score == lowest + s)``.
    """
    weights = np.asarray(weights, dtype=np.int64)
    bg = np.asarray(background, dtype=np.float64)
    distribution = np.ones(1)
    offset = 0  # the score of distribution[0]
    for column in weights.T:
        low, high = int(column.min()), int(column.max())
        grown = np.zeros(len(distribution) + high - low)
        for base in range(4):
            shift = int(column[base]) - low
            grown[shift : shift + len(distribution)] += distribution * bg[base]
        distribution, offset = grown, offset + low
    return offset, distribution


def threshold(weights: np.ndarray, background: Sequence[float], p: float = P_VALUE) -> tuple[int, bool]:
    """The smallest window score ``t`` with ``P(score >= t) <= p``, and whether ``p`` is reachable
    (if not: the best score, and False)."""
    lowest, distribution = score_distribution(weights, background)
    tail = np.cumsum(distribution[::-1])[::-1]  # tail[s] = P(score >= lowest + s)
    achievable = distribution > 0
    ok = np.flatnonzero((tail <= p * (1 + 1e-12)) & achievable)  # thresholds are window scores
    best = lowest + int(np.flatnonzero(achievable)[-1])
    if len(ok) == 0:  # even the best window is more likely than p
        return best, False
    return lowest + int(ok[0]), True


def load_jaspar(release: str = "JASPAR2018", collection: str = "CORE", tax_group: str = "vertebrates") -> list:
    """The non-redundant motifs of a JASPAR release through ``pyjaspar`` (offline: it ships the databases)."""
    try:
        from pyjaspar import jaspardb
    except ImportError:
        raise ImportError("JASPAR motifs need pyjaspar: pip install 'splicebert-plugin[genebert]'") from None
    return jaspardb(release=release).fetch_motifs(collection=collection, tax_group=[tax_group], all_versions=False)


def _first(value) -> str:
    if isinstance(value, (list, tuple)):
        return str(value[0]) if value else ""
    return str(value or "")


def build_motifs(raw: Sequence, background: Sequence[float], *, p: float = P_VALUE, pseudocount: float = PSEUDOCOUNT,
                 scale: int = SCALE) -> list[Motif]:
    """:class:`Motif` s from Biopython/pyjaspar motifs (anything with ``matrix_id``, ``name`` and
    ``counts[base]``), thresholded at ``p`` under ``background`` and ordered class, family, id."""
    motifs = []
    for item in raw:
        counts = np.array([[float(c) for c in item.counts[base]] for base in BASES])
        weights = integer_weights(counts, background, pseudocount=pseudocount, scale=scale)
        cutoff, reachable = threshold(weights, background, p)
        motifs.append(Motif(
            matrix_id=str(item.matrix_id), name=str(item.name), tf_class=_first(getattr(item, "tf_class", "")),
            tf_family=_first(getattr(item, "tf_family", "")), counts=tuple(map(tuple, counts.tolist())),
            weights=tuple(map(tuple, weights.tolist())), threshold=cutoff, p_reachable=reachable, scale=scale))
    return sorted(motifs, key=lambda m: (m.tf_class, m.tf_family, m.matrix_id))


def write_motifs(path: str | Path, motifs: Sequence[Motif], settings: dict) -> None:
    """``motifs.json``: the settings (release, p, pseudocount, background, scale) and every motif in column order."""
    Path(path).write_text(json.dumps({"settings": settings, "motifs": [asdict(m) for m in motifs]}, indent=1) + "\n")


def read_motifs(path: str | Path) -> tuple[list[Motif], dict]:
    data = json.loads(Path(path).read_text())
    motifs = [Motif(**{**m, "counts": tuple(map(tuple, m["counts"])), "weights": tuple(map(tuple, m["weights"]))})
              for m in data["motifs"]]
    return motifs, data["settings"]
