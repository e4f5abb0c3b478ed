"""``splicebert attention`` as a job over files: BEDPE pairs -> per-pair, per-layer attention, a
per-group summary against random pairs of the same windows, a picture."""

from __future__ import annotations

import sys
from typing import Sequence

import numpy as np

from ..errors import UserError
from ..io.table import write_tsv


def attention_job(model, genome, pair_files: Sequence[tuple[str, str]], *, width: int, output: str,
                  summary: str | None = None, plot: str | None = None, background: int = 10,
                  batch_size: int = 4, seed: int = 0, progress: bool = True) -> dict:
    """Attention between the two sites of every pair of ``pair_files`` (``(path, group)``):
    a row per pair and layer (max over heads and that head) in ``output``, a per-group summary
    with the ratio to random pairs of the same windows, a picture per layer."""
    from tqdm import tqdm

    from ..io.bed import read_pairs
    from .attention import Skipped, pair_windows, plot_attention, summarise, window_attention

    skipped = Skipped()
    items = []
    for path, group in pair_files:
        pairs = [(group, pair) for pair in read_pairs(path)]
        if not pairs:
            raise UserError(f"--pairs {path} holds no site pairs (an empty BEDPE); give a BEDPE with one pair per line")
        items += pairs
    windows = list(pair_windows(genome, items, width, skipped))
    if not windows:
        raise UserError(f"no pair fits a {width}-nt window ({dict(skipped.counts)})")
    rows, backgrounds = [], {}
    bar = tqdm(total=len(windows), desc="attention", unit=" pairs", file=sys.stderr, disable=not progress)
    for first in range(0, len(windows), batch_size):
        batch = windows[first : first + batch_size]
        for window, pair_values, random_values in window_attention(model, batch, background=background,
                                                                    seed=seed + first):
            pair = window.pair
            for layer in range(pair_values.shape[0]):
                head = int(np.argmax(pair_values[layer]))
                rows.append({"name": pair.name, "group": window.group, "chrom": pair.chrom, "first": pair.first,
                             "second": pair.second, "strand": pair.strand, "distance": pair.distance,
                             "layer": layer + 1, "attention": float(pair_values[layer, head]), "head": head})
                key = (window.group, layer + 1)
                backgrounds.setdefault(key, []).extend(random_values[:, layer].max(axis=1).tolist())
        bar.update(len(batch))
    bar.close()
    write_tsv(output, rows)
    groups = summarise(rows, backgrounds)
    if summary:
        write_tsv(summary, groups)
    if plot:
        plot_attention(rows, backgrounds, plot, title=f"{len(windows)} pairs, {width}-nt windows")
    return {"pairs": len(windows), "skipped": dict(skipped.counts), "summary": groups}
