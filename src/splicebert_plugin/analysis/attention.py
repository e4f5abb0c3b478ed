"""Attention between two nucleotides (paper Fig. 3): the donor and the acceptor of one intron.

``pair_attention(model, sequence, i, j)`` returns, for every layer and head, the symmetrised
attention ``(A[i, j] + A[j, i]) / 2`` between 0-based nucleotide positions ``i`` and ``j`` (the
``[CLS]``/``[SEP]`` positions are not counted), from real attention maps: an eager pass, whatever
attention kernel the model otherwise runs. For site pairs of a genome (BEDPE), each pair gets
one window of the model's length centred between the two sites on their strand (reverse
complement for ``-``); pairs too far apart for one window, or reaching past a contig end, are
counted and skipped. Each window also yields ``background`` random position pairs at the pair's
own distance (attention falls with distance), the reference the "x times background" ratios are
taken against.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

from ..splicebert import tokenization
from ..splicebert.inference import evaluating
from ..scoring.windows import Allele, orient, variant_centred_window
from ..errors import UserError


def attention_maps(model, sequences: Sequence[str]) -> torch.Tensor:
    """``(N, layers, heads, L, L)`` attention of equal-length sequences, ``[CLS]``/``[SEP]``
    rows and columns removed (float32, CPU)."""
    ids = torch.from_numpy(tokenization.encode_batch(list(sequences)))
    device = next(model.parameters()).device
    with evaluating(model):
        out = model(input_ids=ids.to(device), output_attentions=True, output_hidden_states=False)
    if out.attentions is None or out.attentions[0] is None:
        raise ValueError("the model returned no attention maps")
    return torch.stack([a.float().cpu() for a in out.attentions], dim=1)[..., 1:-1, 1:-1]


def symmetric(maps: torch.Tensor, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """``(A[i, j] + A[j, i]) / 2`` of one window's ``(layers, heads, L, L)`` maps at pairs
    ``(i[k], j[k])``: ``(K, layers, heads)``."""
    i, j = torch.as_tensor(i), torch.as_tensor(j)
    forward = maps[:, :, i, j].permute(2, 0, 1)
    backward = maps[:, :, j, i].permute(2, 0, 1)
    return ((forward + backward) / 2).numpy()


def pair_attention(model, sequence: str, i: int, j: int) -> np.ndarray:
    """``(layers, heads)`` symmetrised attention between nucleotides ``i`` and ``j`` (0-based)."""
    if not (0 <= i < len(sequence) and 0 <= j < len(sequence)):
        raise UserError(f"positions {i} and {j} must lie in the sequence (length {len(sequence)})")
    return symmetric(attention_maps(model, [sequence])[0], np.array([i]), np.array([j]))[0]


@dataclass(frozen=True)
class PairWindow:
    """A window holding both sites of a pair, in transcript orientation."""

    pair: object  # io.bed.SitePair
    group: str
    start: int  # 0-based genomic start of the window
    sequence: str
    i: int  # window index of the pair's first site
    j: int  # window index of its second site


@dataclass
class Skipped:
    counts: Counter = field(default_factory=Counter)  # reason -> pairs


def pair_window(pair, width: int) -> tuple[int, int, int]:
    """``(genomic start, i, j)`` of the window of ``width`` whose index ``width // 2`` (transcript
    orientation) is the midpoint between the two sites, as a variant-centred window would be."""
    window = variant_centred_window(Allele((pair.first + pair.second) // 2, "N", "N"), pair.strand, width)
    return window.start, window.index(pair.first), window.index(pair.second)


def pair_windows(genome, pairs: Iterable[tuple[str, object]], width: int, skipped: Skipped) -> Iterator[PairWindow]:
    """Windows for ``(group, pair)`` items; pairs that do not fit are counted in ``skipped``."""
    from ..io.genome import WindowSource

    source = WindowSource(genome, skipped.counts)
    for group, pair in pairs:
        contig = source.contig(pair.chrom)
        if contig is None:
            continue
        if pair.first == pair.second:
            skipped.counts["both sites at one position"] += 1
            continue
        start, i, j = pair_window(pair, width)
        if not (0 <= i < width and 0 <= j < width):
            skipped.counts["sites too far apart for one window"] += 1
            continue
        genomic = source.fetch(contig, start, start + width)
        if genomic is None:
            continue
        yield PairWindow(pair, group, start, orient(genomic, pair.strand), i, j)


def background_pairs(width: int, count: int, seed: int, distance: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` random position pairs ``(i, i + distance)`` of a ``width``-nt window (seeded):
    the pair's own distance, since attention falls with distance."""
    rng = np.random.default_rng(seed)
    i = rng.integers(0, width - distance, count)
    return i, i + distance


def window_attention(model, windows: Sequence[PairWindow], *, background: int = 10,
                     seed: int = 0) -> Iterator[tuple[PairWindow, np.ndarray, np.ndarray]]:
    """Per window: ``(window, pair attention (layers, heads), background (background, layers, heads))``.

    The background pairs of window ``k`` of this call are seeded by ``seed + k``."""
    maps = attention_maps(model, [w.sequence for w in windows])
    width = len(windows[0].sequence)
    for k, (window, window_maps) in enumerate(zip(windows, maps, strict=True)):
        pair = symmetric(window_maps, np.array([window.i]), np.array([window.j]))[0]
        i, j = background_pairs(width, background, seed + k, abs(window.j - window.i))
        yield window, pair, symmetric(window_maps, i, j)


def summarise(rows: list[dict], backgrounds: dict[tuple[str, int], list[float]]) -> list[dict]:
    """Per group and layer: pairs, mean and median of the max-over-heads attention, the
    background mean (max over heads of random pairs at the same distances in the same windows)
    and their ratio."""
    out = []
    groups = sorted({row["group"] for row in rows})
    layers = sorted({row["layer"] for row in rows})
    for group in groups:
        for layer in layers:
            values = np.array([row["attention"] for row in rows if row["group"] == group and row["layer"] == layer])
            noise = backgrounds.get((group, layer))
            background = float(np.mean(noise)) if noise else float("nan")
            out.append({"group": group, "layer": layer, "pairs": len(values), "mean": float(values.mean()),
                        "median": float(np.median(values)), "background_mean": background,
                        "ratio_to_background": float(values.mean() / background) if background else float("nan")})
    return out


def plot_attention(rows: list[dict], backgrounds: dict[tuple[str, int], list[float]], path: str, *,
                   title: str = "") -> None:
    """One panel per layer: each group's pairs (max over heads) next to its background."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers = sorted({row["layer"] for row in rows})
    groups = sorted({row["group"] for row in rows})
    fig, axes = plt.subplots(1, len(layers), figsize=(1.4 * len(layers) * len(groups) + 1.5, 3.4), sharey=True,
                             squeeze=False)
    for ax, layer in zip(axes[0], layers, strict=True):
        data, names, colours = [], [], []
        for group in groups:
            data.append([r["attention"] for r in rows if r["layer"] == layer and r["group"] == group])
            data.append(backgrounds.get((group, layer), []))
            names += [group, "background"]
            colours += ["tab:blue", "lightgrey"]
        boxes = ax.boxplot(data, showfliers=False, patch_artist=True)
        for box, colour in zip(boxes["boxes"], colours, strict=True):
            box.set_facecolor(colour)
        ax.set_xticks(range(1, len(names) + 1), names, rotation=60, fontsize=7)
        ax.set_title(f"layer {layer}", fontsize=8)
        ax.set_yscale("log")
    axes[0][0].set_ylabel("attention (max over heads)", fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
