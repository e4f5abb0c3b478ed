"""Zero-shot variant-effect scores of SpliceBERT (paper Fig. 4 and Methods): pure array math.

Everything here works on probability arrays in *transcript orientation*; nothing opens a file
or calls a model. Shapes: ``W`` = window length in nucleotides; ``probs`` arrays are
``(..., W, 4)`` with columns A, C, G, T (softmax over the four nucleotide logits only).

The KL-context score, as published (``docs/scoring.md``)::

    KL[i]      = sum_x p_MT[i, x] * ln(p_MT[i, x] / p_WT[i, x])          (KL(MT || WT))
    k_d        = (KL[v - d] + KL[v + d]) / 2                              d = 1 .. 100
    KL-context = sum_d ln(max(k_d, 1e-6))

Indels and MNVs (not defined by the paper; defined here). The event replaces ``r`` reference
nucleotides starting at window index ``v`` with ``a`` alternative ones. The mutant window keeps
the transcript-upstream flank at the same indices and continues downstream with the genome, so
WT index ``i`` is aligned with MT index ``i`` for ``i < v`` and with ``i + a - r`` for
``i >= v + r``; reference positions inside an indel have no partner (a substitution aligns
index to index, the variant position included: the splice-site KL of a variant at the site
uses it; the KL-context never does). The context pairs the
``d``-th aligned position on each side: WT ``v - d`` upstream and WT ``v + r - 1 + d``
downstream. For an SNV (``r = a = 1``) this is exactly the published score.
"""

from __future__ import annotations

import numpy as np

#: the published context half-width (nucleotides on each side of the variant)
CONTEXT = 100
#: the published floor of the averaged KL before the log
KL_FLOOR = 1e-6


def nucleotide_probabilities(logits: np.ndarray, nucleotide_ids=(6, 7, 8, 9)) -> np.ndarray:
    """Softmax over the A/C/G/T logits of an MLM output, ``[CLS]``/``[SEP]`` dropped.

    ``logits``: ``(..., W + 2, vocab)`` -> ``(..., W, 4)`` float64.
    """
    return softmax(np.asarray(logits)[..., 1:-1, list(nucleotide_ids)])


def kl_divergence(p_mt: np.ndarray, p_wt: np.ndarray) -> np.ndarray:
    """Per-position ``KL(MT || WT)`` in nats: ``(..., W, 4)`` x 2 -> ``(..., W)``."""
    p_mt = np.asarray(p_mt, dtype=np.float64)
    p_wt = np.asarray(p_wt, dtype=np.float64)
    return np.sum(p_mt * (np.log(p_mt) - np.log(p_wt)), axis=-1)


def aligned_kl(p_wt: np.ndarray, p_mt: np.ndarray, v: int, ref_len: int = 1, alt_len: int = 1) -> np.ndarray:
    """KL(MT || WT) indexed by WT position, with MT positions aligned across an indel.

    Parameters
    ----------
    p_wt, p_mt : (W, 4) nucleotide probabilities of the WT and MT windows.
    v : window index where the event starts (transcript orientation).
    ref_len, alt_len : nucleotides replaced and inserted (1, 1 for an SNV).

    Returns
    -------
    (W,) float64: KL at each WT index; NaN for the replaced reference positions of an indel
    (a substitution, SNV or MNV, aligns index to index throughout) and for WT positions whose
    MT partner falls outside the MT window.
    """
    width = p_wt.shape[0]
    shift = alt_len - ref_len
    if shift == 0:
        return kl_divergence(p_mt, p_wt)
    out = np.full(width, np.nan)
    out[:v] = kl_divergence(p_mt[:v], p_wt[:v])
    start = v + ref_len
    stop = min(width, width - shift) if shift > 0 else width
    if start < stop:
        out[start:stop] = kl_divergence(p_mt[start + shift : stop + shift], p_wt[start:stop])
    return out


def context_pairs(kl: np.ndarray, v: int, ref_len: int = 1, context: int = CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """The upstream and downstream KL values at distances 1..context: two ``(context,)`` arrays.

    Positions outside the window are NaN.
    """
    width = kl.shape[-1]
    d = np.arange(1, context + 1)
    up_idx, down_idx = v - d, v + ref_len - 1 + d
    up = np.where(up_idx >= 0, kl[np.clip(up_idx, 0, width - 1)], np.nan)
    down = np.where(down_idx < width, kl[np.clip(down_idx, 0, width - 1)], np.nan)
    return up, down


def kl_context_score(
    kl: np.ndarray, v: int, ref_len: int = 1, context: int = CONTEXT, floor: float = KL_FLOOR
) -> tuple[float, int]:
    """The KL-context score and how many of the ``context`` distances lacked a side.

    ``k_d`` is the mean of the two sides; where one side is missing (window edge, unaligned
    indel position) the other side alone is used, and distances with neither are left out of
    the sum. With an SNV at the centre of a 510-nt window nothing is missing and the score is
    exactly the published one. Returns ``(score, incomplete_distances)``.
    """
    up, down = context_pairs(kl, v, ref_len, context)
    pairs = np.stack([up, down])
    present = ~np.isnan(pairs)
    counts = present.sum(axis=0)
    sums = np.where(present, pairs, 0.0).sum(axis=0)
    usable = counts > 0
    k = sums[usable] / counts[usable]
    score = float(np.sum(np.log(np.maximum(k, floor))))
    return score, int(np.sum(counts < 2))


def max_context_kl(kl: np.ndarray, v: int, ref_len: int = 1, context: int = CONTEXT) -> float:
    """Largest per-position KL within ``context`` nucleotides of the event (variant excluded)."""
    up, down = context_pairs(kl, v, ref_len, context)
    values = np.concatenate([up, down])
    return float(np.nanmax(values)) if np.any(~np.isnan(values)) else float("nan")


def splice_site_kl(kl: np.ndarray, donor: int | None, acceptor: int | None) -> float:
    """Mean KL over the donor dinucleotide plus mean KL over the acceptor dinucleotide.

    ``donor``: window index of the first intron base after the exon (the donor is ``donor``,
    ``donor + 1``); ``acceptor``: index of the first of the last two intron bases before the
    exon (``acceptor``, ``acceptor + 1``); ``None`` where the exon has no such site (first or
    last exon). A site outside the window or on an unaligned position makes the result NaN.
    """
    total = 0.0
    width = kl.shape[-1]
    if donor is None and acceptor is None:
        return float("nan")
    for site in (donor, acceptor):
        if site is None:
            continue
        if site < 0 or site + 2 > width:
            return float("nan")
        total += float(np.mean(kl[site : site + 2]))
    return total


def delta_p(masked_probs: np.ndarray, ref_id: int, alt_id: int) -> float:
    """``P(alt) - P(ref)`` at a masked variant position (softmax over the whole vocabulary)."""
    return float(masked_probs[alt_id] - masked_probs[ref_id])


def softmax(logits: np.ndarray) -> np.ndarray:
    """Numerically stable softmax over the last axis (float64)."""
    shifted = np.asarray(logits, dtype=np.float64)
    shifted = shifted - shifted.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)
