"""The analyses as jobs over files (what ``splicebert embed / attention / evaluate`` run).

Each job reads its inputs through ``io``, runs the pure parts of ``analysis``, streams its
results to files and returns a summary dict; progress bars go to stderr.
"""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..scoring.windows import Allele, orient, variant_centred_window
from ..errors import UserError


# ---------------------------------------------------------------------------------------------- inputs


def site_windows(genome, sites, width: int, skipped: Counter) -> Iterator[tuple[str, str]]:
    """``(name, window)`` per site: ``width`` nt with the site at index ``width // 2`` on its
    strand (the variant-centred convention); sites on unknown contigs or near ends are counted."""
    from ..io.genome import WindowSource

    source = WindowSource(genome, skipped)
    for site in sites:
        contig = source.contig(site.chrom)
        if contig is None:
            continue
        window = variant_centred_window(Allele(site.position, "N", "N"), site.strand, width)
        genomic = source.fetch(contig, window.start, window.end)
        if genomic is not None:
            yield site.name, orient(genomic, site.strand)


def label_of(name: str, field: int | None) -> str:
    """The label in a site name: the whole name, or its ``field``-th ``|``-separated part."""
    if field is None:
        return name
    parts = name.split("|")
    if not -len(parts) <= field < len(parts):
        raise UserError(f"site name {name!r} has no field {field} (fields are separated by '|')")
    return parts[field]


# ---------------------------------------------------------------------------------------------- embed


class _EmbeddingWriter:
    """Streams embeddings to .npy (one layer), .h5 or .parquet (pooled), with the site names."""

    def __init__(self, path: str, count: int, layers: Sequence[int], shape: tuple[int, ...]):
        self.path, self.layers, self.offset = Path(path), list(layers), 0
        self.kind = self.path.suffix.lower()
        if self.kind not in (".npy", ".h5", ".hdf5", ".parquet"):
            raise UserError(f"embeddings output {path}: name it *.npy, *.h5 or *.parquet")
        if self.kind == ".npy" and len(self.layers) != 1:
            raise UserError("a .npy file holds one layer: pass one --layer, or write .h5 / .parquet")
        if self.kind == ".parquet" and len(shape) != 1:
            raise UserError("Parquet holds one vector per site: pass --pool mean or center, or write .h5 / .npy")
        self.names: list[str] = []
        if self.kind == ".npy":
            self.array = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32, shape=(count, *shape))
        elif self.kind in (".h5", ".hdf5"):
            try:
                import h5py
            except ImportError:
                raise ImportError("writing .h5 needs h5py: pip install 'splicebert-plugin[analysis]'") from None
            self.h5 = h5py.File(self.path, "w")
            for layer in self.layers:
                self.h5.create_dataset(f"layer_{layer}", shape=(count, *shape), dtype="float32")
        else:
            self.parquet = None

    def write(self, names: list[str], labels: list[str], arrays: dict[int, np.ndarray]) -> None:
        n = len(names)
        if self.kind == ".npy":
            self.array[self.offset : self.offset + n] = arrays[self.layers[0]]
        elif self.kind in (".h5", ".hdf5"):
            for layer in self.layers:
                self.h5[f"layer_{layer}"][self.offset : self.offset + n] = arrays[layer]
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            columns = {"name": pa.array(names), "label": pa.array(labels)}
            for layer in self.layers:
                flat = pa.array(arrays[layer].astype(np.float32).reshape(-1))
                columns[f"layer_{layer}"] = pa.FixedSizeListArray.from_arrays(flat, arrays[layer].shape[1])
            table = pa.table(columns)
            if self.parquet is None:
                self.parquet = pq.ParquetWriter(str(self.path), table.schema)
            self.parquet.write_table(table)
        self.names.extend(names)
        self.offset += n

    def close(self, labels: list[str]) -> None:
        if self.kind == ".npy":
            self.array.flush()
            del self.array
            Path(f"{self.path}.names.tsv").write_text("name\tlabel\n" + "".join(
                f"{n}\t{lab}\n" for n, lab in zip(self.names, labels, strict=True)))
        elif self.kind in (".h5", ".hdf5"):
            import h5py

            self.h5.create_dataset("names", data=np.array(self.names, dtype=h5py.string_dtype()))
            self.h5.create_dataset("labels", data=np.array(labels, dtype=h5py.string_dtype()))
            self.h5.close()
        elif self.parquet is not None:
            self.parquet.close()


def embed_job(model, inputs, count: int, *, layers: Sequence[int], pool, output: str,
              label_field: int | None = None, report: str | None = None, umap: str | None = None,
              umap_layer: int | None = None, batch_size: int = 16, progress: bool = True) -> dict:
    """Embed ``inputs`` (an iterator of ``(name, sequence)``, ``count`` of them) to ``output``;
    with ``report``/``umap``, the per-layer clustering table and a UMAP picture by label."""
    from tqdm import tqdm

    from .embeddings import embed_batches, layer_report, plot_umap

    layers = list(layers)
    hidden = model.config.hidden_size
    names, labels, pending = [], [], []
    kept = {layer: [] for layer in layers} if (report or umap) else None
    if (report or umap) and pool is None:
        raise UserError("the layer report and the UMAP picture need one vector per site: --pool mean or center")
    bar = tqdm(total=count, desc="embedding", unit=" seqs", file=sys.stderr, disable=not progress)
    writer = None

    def sequences():
        for name, sequence in inputs:
            pending.append(name)
            yield sequence

    for arrays in embed_batches(model, sequences(), layers, pool, batch_size=batch_size):
        batch_names = pending[: len(arrays[layers[0]])]
        del pending[: len(batch_names)]
        batch_labels = [label_of(n, label_field) for n in batch_names]
        if writer is None:
            shape = arrays[layers[0]].shape[1:]
            writer = _EmbeddingWriter(output, count, layers, shape)
        writer.write(batch_names, batch_labels, arrays)
        names.extend(batch_names)
        labels.extend(batch_labels)
        if kept is not None:
            for layer in layers:
                kept[layer].append(arrays[layer])
        bar.update(len(batch_names))
    bar.close()
    if writer is None:
        raise UserError("no sequence to embed: the input is empty, or every site was skipped")
    writer.close(labels)
    summary = {"sequences": len(names), "layers": layers, "pool": pool, "hidden_size": hidden, "output": output}
    if kept is not None:
        vectors = {layer: np.concatenate(parts) for layer, parts in kept.items()}
        if report:
            rows = layer_report(vectors, labels)
            _write_tsv(report, rows)
            summary["report"] = rows
        if umap:
            chosen = umap_layer if umap_layer is not None else (4 if 4 in layers else layers[-1])
            if chosen not in vectors:
                raise UserError(f"--umap-layer {chosen} is not among the embedded layers {layers}")
            plot_umap(vectors[chosen], labels, umap, title=f"layer {chosen}, {len(labels)} sites")
    return summary


# ---------------------------------------------------------------------------------------------- attention


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
    _write_tsv(output, rows)
    groups = summarise(rows, backgrounds)
    if summary:
        _write_tsv(summary, groups)
    if plot:
        plot_attention(rows, backgrounds, plot, title=f"{len(windows)} pairs, {width}-nt windows")
    return {"pairs": len(windows), "skipped": dict(skipped.counts), "summary": groups}


# ---------------------------------------------------------------------------------------------- evaluate


def read_table(path: str):
    """A TSV (plain or gzip) or Parquet table as a DataFrame (strings kept as written)."""
    import pandas as pd

    if not Path(path).is_file():
        raise UserError(f"table {path} does not exist")
    if str(path).endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, na_values=[""], comment=None)


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
            _write_tsv(output, [{"score": name, **ev} for name, ev in result["results"].items()])
    if plot:
        plot_precision_recall({name: (y, values_, ev.ap) for name, (values_, ev) in evaluations.items()}, plot,
                              prevalence=float(y.mean()),
                              title=f"{len(y)} variants ({int(y.sum())} positive); {result['unscored']} unscored")
    return result


def _write_tsv(path: str, rows: list[dict]) -> None:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else [], delimiter="\t",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
