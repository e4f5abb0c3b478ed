"""Pretraining corpus: primary transcripts (exons + introns) as one memory-mapped token array.

Layout of a corpus folder::

    tokens.bin   uint8 token ids of every sequence, concatenated (no separators)
    index.npy    structured array, one row per sequence: offset, length, species, split
    meta.json    species names, inputs, seed, validation size, per-species summary

Sequences are primary transcripts on their transcript strand: the spans of all annotated
transcripts of a contig and strand are merged where they overlap, so no nucleotide is stored
twice, then read from the genome, reverse-complemented for the minus strand, upper-cased, other
IUPAC codes as N (via the token table). FASTA files without annotation are taken as
transcripts, one per record. The validation set is chosen by sequence, deterministically from
the seed. Nothing is loaded into memory at once: the token file is written sequence by
sequence and read back through ``numpy.memmap``; a folder whose ``meta.json`` records the same
inputs and settings is reused as it is (cheap to rerun).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from ...splicebert import tokenization
from ...scoring.windows import reverse_complement
from ...errors import UserError

INDEX_DTYPE = np.dtype([("offset", "<i8"), ("length", "<i8"), ("species", "<i2"), ("split", "u1")])
TRAIN, VALIDATION = 0, 1


class CorpusError(UserError):
    """A corpus input or folder is unusable; the message names it."""


@dataclass(frozen=True)
class CorpusInput:
    """One genome of the corpus: a FASTA, its annotation (or None: FASTA records are transcripts)."""

    fasta: str
    species: str
    annotation: str | None = None


def merge_spans(spans: Sequence[tuple[str, str, int, int]]) -> list[tuple[str, str, int, int]]:
    """Merge overlapping ``(chrom, strand, start, end)`` spans per contig and strand (0-based)."""
    merged: list[tuple[str, str, int, int]] = []
    for chrom, strand, start, end in sorted(spans):
        if merged and merged[-1][0] == chrom and merged[-1][1] == strand and start < merged[-1][3]:
            last = merged[-1]
            merged[-1] = (chrom, strand, last[2], max(last[3], end))
        else:
            merged.append((chrom, strand, start, end))
    return merged


def _encode(sequence: str) -> np.ndarray:
    """Token ids (uint8) of a genomic string; characters outside the IUPAC table become N."""
    raw = np.frombuffer(sequence.encode("ascii", errors="replace"), dtype=np.uint8)
    ids = tokenization.BYTE_TO_ID[raw]
    return np.where(ids == 255, tokenization.N_ID, ids).astype(np.uint8)


def iter_transcripts(item: CorpusInput) -> Iterator[str]:
    """Transcript-strand sequences of one input (merged spans, or FASTA records)."""
    from ...io.annotation import read_transcript_spans
    from ...sources.gencode import annotation_file
    from ...io.contigs import ContigMap
    from ...io.genome import Genome

    if item.annotation is None:
        from ...io.fasta import read_fasta

        yield from (sequence.upper() for _, sequence in read_fasta(item.fasta))
        return
    spans = merge_spans(read_transcript_spans(annotation_file(item.annotation)))
    with Genome(item.fasta) as genome:
        names = ContigMap(genome.contigs, f"genome {item.fasta}")
        names.require_overlap({s[0] for s in spans}, f"annotation {item.annotation}")
        for chrom, strand, start, end in spans:
            contig = names.get(chrom)
            if contig is None or end > genome.lengths[contig]:
                continue  # transcripts on contigs (or beyond ends) the FASTA lacks
            sequence, _ = genome.fetch(contig, start, end)
            yield sequence if strand == "+" else reverse_complement(sequence)


def _fingerprint(inputs: Sequence[CorpusInput], settings: dict) -> str:
    digest = hashlib.sha256()
    for item in inputs:
        for path in (item.fasta, item.annotation):
            if path is not None:
                stat = os.stat(path)
                digest.update(f"{Path(path).resolve()}:{stat.st_size}:{int(stat.st_mtime)}".encode())
        digest.update(item.species.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    return digest.hexdigest()


def build_corpus(
    inputs: Sequence[CorpusInput],
    out: str | Path,
    *,
    validation: int | float = 0.01,
    min_length: int = 64,
    seed: int = 0,
    progress: bool = True,
) -> Path:
    """Build (or reuse) a corpus folder; returns its path.

    ``validation``: held-out sequences, a count (int) or a fraction (float) of all sequences;
    the paper held out 50,000 of about 2 M. Sequences shorter than ``min_length`` are dropped
    (counted in the summary).
    """
    from tqdm import tqdm

    if not inputs:
        raise CorpusError("no corpus inputs given")
    for item in inputs:
        for path in (item.fasta, item.annotation):
            if path is not None and not Path(path).is_file():
                raise CorpusError(f"corpus input {path} (species {item.species}) does not exist")
    out = Path(out)
    settings = {"validation": validation, "min_length": min_length, "seed": seed}
    fingerprint = _fingerprint(inputs, settings)
    meta_file = out / "meta.json"
    if meta_file.is_file() and json.loads(meta_file.read_text()).get("fingerprint") == fingerprint:
        return out
    out.mkdir(parents=True, exist_ok=True)
    species_names = list(dict.fromkeys(item.species for item in inputs))
    rows, offset = [], 0
    summary = {name: {"sequences": 0, "nucleotides": 0, "n_count": 0, "dropped_short": 0} for name in species_names}
    partial = out / "tokens.bin.partial"
    with open(partial, "wb") as handle:
        for item in inputs:
            species = species_names.index(item.species)
            stats = summary[item.species]
            bar = tqdm(iter_transcripts(item), desc=f"corpus {item.species}", unit=" seq", file=sys.stderr,
                       disable=not progress)
            for sequence in bar:
                if len(sequence) < min_length:
                    stats["dropped_short"] += 1
                    continue
                ids = _encode(sequence)
                handle.write(ids.tobytes())
                rows.append((offset, len(ids), species, TRAIN))
                offset += len(ids)
                stats["sequences"] += 1
                stats["nucleotides"] += len(ids)
                stats["n_count"] += int(np.count_nonzero(ids == tokenization.N_ID))
    index = np.array(rows, dtype=INDEX_DTYPE)
    if len(index) == 0:
        raise CorpusError("the corpus inputs gave no sequence of at least min_length nucleotides")
    n_val = validation if isinstance(validation, int) else int(round(validation * len(index)))
    n_val = min(max(n_val, 1 if len(index) > 1 else 0), len(index) - 1)
    chosen = np.random.default_rng(seed).choice(len(index), size=n_val, replace=False)
    index["split"][chosen] = VALIDATION
    for name, stats in summary.items():
        stats["n_fraction"] = stats.pop("n_count") / max(stats["nucleotides"], 1)
    np.save(out / "index.npy", index)
    os.replace(partial, out / "tokens.bin")
    meta = {
        "fingerprint": fingerprint,
        "species": species_names,
        "inputs": [item.__dict__ for item in inputs],
        "settings": settings,
        "sequences": int(len(index)),
        "validation_sequences": int(n_val),
        "nucleotides": int(offset),
        "summary": summary,
    }
    meta_file.write_text(json.dumps(meta, indent=2) + "\n")
    return out


class TokenCorpus:
    """Read access to a corpus folder (memory-mapped)."""

    def __init__(self, path: str | Path):
        path = Path(path)
        if not (path / "meta.json").is_file():
            raise CorpusError(f"{path} is not a corpus folder (no meta.json); build one with build_corpus")
        self.path = path
        self.meta = json.loads((path / "meta.json").read_text())
        self.index = np.load(path / "index.npy")
        self.tokens = np.memmap(path / "tokens.bin", dtype=np.uint8, mode="r")

    def __len__(self) -> int:
        return len(self.index)

    def split(self, which: int) -> np.ndarray:
        """Sequence numbers of ``TRAIN`` (0) or ``VALIDATION`` (1)."""
        return np.flatnonzero(self.index["split"] == which)

    def window(self, sequence: int, start: int, length: int) -> np.ndarray:
        """Token ids (uint8) of ``length`` nt from ``start`` of sequence ``sequence``."""
        row = self.index[sequence]
        begin = row["offset"] + start
        return np.asarray(self.tokens[begin : begin + min(length, row["length"] - start)])
