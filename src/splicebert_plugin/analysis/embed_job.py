"""``splicebert embed`` as a job over files: sequences or genome sites -> embeddings written as
they come (.npy, .h5, .parquet), with the layer report and the UMAP picture on request."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ..errors import UserError
from ..io.table import write_tsv
from ..scoring.windows import Allele, orient, variant_centred_window


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
            write_tsv(report, rows)
            summary["report"] = rows
        if umap:
            chosen = umap_layer if umap_layer is not None else (4 if 4 in layers else layers[-1])
            if chosen not in vectors:
                raise UserError(f"--umap-layer {chosen} is not among the embedded layers {layers}")
            plot_umap(vectors[chosen], labels, umap, title=f"layer {chosen}, {len(labels)} sites")
    return summary
