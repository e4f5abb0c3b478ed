"""Precomputed scores of every SNV of a region set, and their lookup (``docs/precompute.md``).

A precomputed file holds, for every position of the regions (merged, in genome order) and each
of the three bases that are not the reference, the rows ``splicebert score --table`` would
write for that SNV: one per overlapping gene (or one with the reason it was not scored). Every
position is scored as a one-ALT VCF record by the same :class:`~.passes.VariantScorer` that
``score`` uses, so windows and values are those of ``score``; the three ALTs of a position are
scored together (one WT pass). Values are written with ``repr`` (every bit of the float64), so
a record copied from the file gives the bytes computing it would give.

File layout: bgzipped, tabix-indexed TSV (``-s 1 -b 2 -e 2``, 1-based ``POS``) whose ``##``
header names the settings a lookup must share (:class:`Settings`), then
``#CHROM POS REF ALT GENE STRAND <scores> NOTE WINDOW_START VARIANT_INDEX``.

Pure parts here (regions, positions, rows, settings); the files are read and written in
``io.tabix``.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import asdict, dataclass
from typing import Iterable, Iterator, Sequence

from ..errors import UserError
from ..io.vcf import VcfRecord
from .passes import AlleleScore, RecordResult

FORMAT = "splicebert-precompute/1"
SHARD_PREFIX = "##shard="  # the header line of one shard of a run (K/N)
BASES = "ACGT"
TAIL = ("NOTE", "WINDOW_START", "VARIANT_INDEX")


@dataclass(frozen=True)
class Settings:
    """Everything that changes a precomputed value: a lookup must match all of it."""

    model: str  # the model's label (for people)
    weights: str  # sha256 of the model's config and weights (the identity a lookup checks)
    window: int
    mode: str
    context: int
    precision: str
    scores: tuple[str, ...]

    @classmethod
    def of_run(cls, model, label: str, width: int, options) -> "Settings":
        """The settings of scoring with ``model`` (labelled ``label``) in ``width``-nt windows and
        ``options`` (a ``passes.ScoringOptions``)."""
        return cls(label, weights_digest(model), width, options.mode, options.context, options.precision,
                   tuple(options.scores))

    def header_lines(self) -> list[str]:
        values = {**asdict(self), "scores": ",".join(self.scores)}
        return [f"##{FORMAT}"] + [f"##{key}={value}" for key, value in values.items()]

    @classmethod
    def from_header(cls, lines: Sequence[str], path: str) -> "Settings":
        if not lines or lines[0] != f"##{FORMAT}":
            raise UserError(f"{path} is not a splicebert precompute file (its first line is not ##{FORMAT})")
        values = dict(line[2:].split("=", 1) for line in lines[1:] if line.startswith("##") and "=" in line)
        try:
            return cls(model=values["model"], weights=values["weights"], window=int(values["window"]),
                       mode=values["mode"], context=int(values["context"]), precision=values["precision"],
                       scores=tuple(values["scores"].split(",")))
        except (KeyError, ValueError) as error:
            raise UserError(f"{path}: damaged precompute header ({error})") from None

    def differences(self, other: "Settings") -> list[str]:
        """``name: ours vs theirs`` for every setting that differs (the label alone does not count)."""
        ours, theirs = asdict(self), asdict(other)
        return [f"{key}: {theirs[key]!r} here, {ours[key]!r} in the file" for key in ours
                if key != "model" and ours[key] != theirs[key]]


def columns(scores: Sequence[str]) -> tuple[str, ...]:
    return ("#CHROM", "POS", "REF", "ALT", "GENE", "STRAND", *scores, *TAIL)


def weights_digest(model) -> str:
    """sha256 over the model's config (JSON, without where it was loaded from or which
    transformers wrote it) and every tensor of its state dict (names, shapes and bytes)."""
    import json

    import torch

    config = {k: v for k, v in model.config.to_dict().items()
              if not k.startswith("_") and k not in ("transformers_version", "architectures", "dtype", "torch_dtype")}
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()


def merge_intervals(intervals: Iterable[tuple[str, int, int]],
                    contig_order: Sequence[str]) -> list[tuple[str, int, int]]:
    """Intervals (genome contig names, 0-based half-open) sorted in genome order, overlapping or
    touching ones merged."""
    rank = {name: i for i, name in enumerate(contig_order)}
    merged: list[tuple[str, int, int]] = []
    for chrom, start, end in sorted(intervals, key=lambda r: (rank[r[0]], r[1], r[2])):
        if merged and merged[-1][0] == chrom and start <= merged[-1][2]:
            merged[-1] = (chrom, merged[-1][1], max(merged[-1][2], end))
        else:
            merged.append((chrom, start, end))
    return merged


def exon_intervals(genes, flank: int) -> Iterator[tuple[str, int, int]]:
    """Every exon of every gene of an annotation (``io.annotation``) with ``flank`` nt each side."""
    for chrom in genes.contigs:
        for gene in genes.overlapping(chrom, 0, 2**62):
            for start, end in gene.exons:
                yield chrom, max(0, start - flank), end + flank


def shard_bounds(total: int, shard: int, shards: int) -> tuple[int, int]:
    """Positions ``[first, last)`` of shard ``shard`` (1-based) of ``shards``: contiguous, sizes
    differing by at most one."""
    if not 1 <= shard <= shards:
        raise UserError(f"shard {shard}/{shards}: need 1 <= K <= N")
    return total * (shard - 1) // shards, total * shard // shards


def positions(regions: Sequence[tuple[str, int, int]], first: int = 0, last: int | None = None
              ) -> Iterator[tuple[str, int]]:
    """``(contig, 0-based position)`` of the regions, the ``first``-th to the ``last``-th."""
    index, last = 0, math.inf if last is None else last
    for chrom, start, end in regions:
        if index + (end - start) <= first:
            index += end - start
            continue
        for position in range(max(start, start + first - index), end):
            if index + position - start >= last:
                return
            yield chrom, position
        index += end - start


def snv_records(chrom: str, position: int, ref: str, lineno: int = 0) -> list[VcfRecord]:
    """The three one-ALT records of a position (empty when the reference base is not A/C/G/T)."""
    if ref not in BASES:
        return []
    return [VcfRecord(lineno, chrom, position + 1, ".", ref, (alt,), ()) for alt in BASES if alt != ref]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def result_rows(result: RecordResult, scores: Sequence[str]) -> Iterator[tuple[str, ...]]:
    """The rows of one SNV's result, as text (``score --table`` rows without ``ID``)."""
    record = result.record
    base = (record.chrom, str(record.pos), record.ref)
    if result.reason is not None:
        for alt in record.alts:
            yield (*base, alt, "", "", *(["nan"] * len(scores)), result.reason, "", "")
        return
    for allele in result.alleles:
        values = [_text(float(allele.scores.get(name, math.nan))) for name in scores]
        yield (*base, allele.allele, allele.gene, allele.strand, *values, allele.note, _text(allele.window_start),
               _text(allele.variant_index))


def record_from_rows(record: VcfRecord, rows: Sequence[Sequence[str]], scores: Sequence[str]) -> RecordResult | None:
    """The result of ``record`` rebuilt from its precomputed rows, or None when the file cannot
    give it whole (not an upper-case SNV, an ALT missing, or a record-level reason: those are
    computed, cheaply, instead)."""
    if len(record.ref) != 1 or record.ref not in BASES or not all(a in BASES and a != record.ref for a in record.alts):
        return None
    by_alt: dict[str, list] = {}
    for row in rows:
        if row[2] == record.ref:
            by_alt.setdefault(row[3], []).append(row)
    alleles = []
    count = len(scores)
    for alt in record.alts:
        found = by_alt.get(alt)
        if not found or any(row[4] == "" for row in found):  # absent, or a record-level reason
            return None
        for row in found:
            note, window_start, variant_index = row[6 + count : 9 + count]
            if window_start == "":  # an allele the planner skipped: its reason, no scores
                alleles.append(AlleleScore(alt, row[4], row[5], reason=note))
                continue
            values = {name: float(text) for name, text in zip(scores, row[6 : 6 + count])}
            alleles.append(AlleleScore(alt, row[4], row[5], values, tuple(note.split("&")) if note else (),
                                       window_start=int(window_start), variant_index=int(variant_index)))
    return RecordResult(record, tuple(alleles))
