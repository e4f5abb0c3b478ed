"""The paper's variant benchmarks as data: parsing, labels, exclusions, the distance baseline
(``docs/benchmarks.md``). Pure: tables in, variants out; no model, no network.

Every dataset gives, per SNV, a WT and a mutant sequence in transcript orientation (the SNV at
``sequence_index``), the tested exon's place in it, a measured effect and a label; a dataset
with genomic coordinates also gives the SNV's position, its plus-strand alleles and the exon on
the genome (for ``-R``). The datasets:

- Vex-seq (CAGI5; Adamson et al. 2018), the MMSplice paper's copies of the tables. Columns read:
  ``ID, seqnames, start, end, strand, hg19_variant_position, reference, variant,
  HepG2_delta_psi, REF_SEQ, ALT_SEQ`` (``start``/``end``: the exon, 1-based inclusive, hg19;
  ``REF_SEQ``/``ALT_SEQ``: the exon with 100 nt of intron each side). SDV: delta PSI below -24
  percentage points (the paper's threshold, about its top 5 %).
- MFASS (Chong et al. 2019), the authors' ``snv_data_clean.txt`` (tab-separated). Rows of
  category ``mutant``; columns read: ``id, category, chr, strand, snp_position, ref_allele,
  alt_allele, rel_position, intron1_len, exon_len, intron2_len, nat_seq, original_seq,
  v2_dpsi``. ``nat_seq``/``original_seq``: the natural and the mutant construct (intron, exon,
  intron; transcript orientation; ``rel_position``: the SNV's 1-based place in it);
  ``intron1_len``/``intron2_len`` are in genome order (on a minus-strand gene the upstream intron
  is ``intron2_len``, as the authors' own scripts read them); ``snp_position``: hg19, 1-based.
  SDV: ``v2_dpsi`` at or below -0.5 (the authors' ``strong_lof``; the paper's 1,050 SDVs).
- MaPSy (CAGI5; Soemedi et al. 2017), the MMSplice paper's ``mapsy.txt``. Columns read: ``ID,
  WT_SEQ, MUT_SEQ, chr, strand, Exon_Start, Exon_End, acceptor, donor, log2_vivo_ratio, ESM``.
  The 200-nt reporter sequences (adapters, intron, exon, intron) are scored as given (no genome
  coordinates of the SNV are given); the exon is found in them by its 15-nt intron ends
  (``acceptor``, ``donor``) and its length. Positive: ``ESM`` = 1, the authors' exonic splicing
  mutation call (a significant change of in vivo splicing, either direction).

Exclusions, each counted under its reason (never dropped silently): not an SNV; an SNV in a
splice-site dinucleotide (the two intron nucleotides next to either end of the exon: the paper
removes them, their effect is trivial to call); no measured effect or label; the same ID twice
(the first is kept); sequences that do not carry the SNV where the table says; (MFASS) natural
and control constructs, which are not variants under test; (MaPSy) an exon that cannot be found
in the sequence.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import UserError
from ..scoring.windows import reverse_complement

VEXSEQ_COLUMNS = ("ID", "seqnames", "start", "end", "strand", "hg19_variant_position", "reference", "variant",
                  "HepG2_delta_psi", "REF_SEQ", "ALT_SEQ")
VEXSEQ_SDV_BELOW = -24.0  # delta PSI (percentage points); -24 itself is not an SDV
FLANK = 100  # intron nt on each side of the exon in Vex-seq's REF_SEQ / ALT_SEQ

MFASS_COLUMNS = ("id", "category", "chr", "strand", "snp_position", "ref_allele", "alt_allele", "rel_position",
                 "intron1_len", "exon_len", "intron2_len", "nat_seq", "original_seq", "v2_dpsi")
MFASS_SDV_AT_MOST = -0.5  # v2_dpsi (inclusion index); -0.5 itself is an SDV (the authors' strong_lof)

MAPSY_COLUMNS = ("ID", "WT_SEQ", "MUT_SEQ", "chr", "strand", "Exon_Start", "Exon_End", "acceptor", "donor",
                 "log2_vivo_ratio", "ESM")

NOT_SNV = "not an SNV"
SPLICE_DINUCLEOTIDE = "SNV in a splice-site dinucleotide"
NO_LABEL = "no delta PSI"
NO_CALL = "no ESM call"
DUPLICATE = "ID seen before"
SEQUENCE_MISMATCH = "sequences do not carry the SNV at its position"
NOT_A_VARIANT = "natural or control construct (not a variant)"
CONSTRUCT_LENGTHS = "intron/exon lengths do not add up to the construct"
EXON_NOT_FOUND = "exon not found in the sequence"

_BASES = "ACGT"


@dataclass(frozen=True)
class BenchmarkVariant:
    id: str
    chrom: str
    pos: int | None  # 1-based genomic position (None: the table gives none)
    ref: str  # plus-strand alleles
    alt: str
    strand: str
    exon_start: int | None  # the tested exon on the genome, 1-based inclusive (None: unknown)
    exon_end: int | None
    effect: float  # the dataset's measured effect (delta PSI, log2 ratio)
    label: int
    ref_seq: str  # WT, transcript orientation
    alt_seq: str  # mutant, transcript orientation
    sequence_index: int  # the SNV in ref_seq / alt_seq
    distance_to_splice_site: int  # nt to the nearer exon end (0 = the exon's first or last nucleotide)


@dataclass
class VariantSet:
    variants: list[BenchmarkVariant]
    excluded: Counter = field(default_factory=Counter)  # reason -> count
    excluded_rows: list[tuple[str, str]] = field(default_factory=list)  # (ID, reason)

    def exclude(self, vid: str, reason: str) -> None:
        self.excluded[reason] += 1
        self.excluded_rows.append((vid, reason))


@dataclass(frozen=True)
class Benchmark:
    """One benchmark's fixed definitions (the files are in ``sources.benchmark_data.DATASETS``)."""

    name: str
    title: str
    read: Callable[[Sequence[Path]], VariantSet]
    positive: str  # what a label of 1 is called
    effect_column: str  # the measured effect's column in scores.tsv
    sequences: str  # what the dataset's own sequences are
    genome_build: str | None  # the build of the coordinates ``-R`` uses (None: no genome windows)
    paper_ap: float | None  # the paper's zero-shot KL-context AP (SpliceBERT.510nt), None: not reported


def _rows(path: Path, required: Sequence[str], dataset: str, delimiter: str = ",") -> Iterable[tuple[int, dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: missing column(s) {missing}; expected the {dataset} table layout "
                            f"({', '.join(required)})")
        for lineno, row in enumerate(reader, start=2):
            yield lineno, row


def _unique_rows(out: VariantSet, paths, columns: Sequence[str], dataset: str, id_column: str, *,
                 delimiter: str = ",", not_variant: Callable[[dict], bool] | None = None):
    """``(path, lineno, row, id)`` of each row of ``paths`` that is a variant not seen before, with a
    valid strand (rows that are not variants, and repeated IDs, are counted in ``out``)."""
    seen = set()
    for path in paths:
        for lineno, row in _rows(Path(path), columns, dataset, delimiter):
            vid = row[id_column]
            if not_variant is not None and not_variant(row):
                out.exclude(vid, NOT_A_VARIANT)
                continue
            if vid in seen:
                out.exclude(vid, DUPLICATE)
                continue
            seen.add(vid)
            if row["strand"] not in ("+", "-"):
                raise UserError(f"{path} line {lineno}: strand {row['strand']!r} is not + or -")
            yield path, lineno, row, vid


def _integers(path, lineno: int, row: dict, *names: str) -> list[int]:
    try:
        return [int(float(row[name])) if row[name].strip() not in ("", "NA") else None for name in names]
    except ValueError:
        raise UserError(f"{path} line {lineno}: {', '.join(f'{n}={row[n]!r}' for n in names)}: not integers") from None


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _is_snv(ref: str, alt: str) -> bool:
    return len(ref) == 1 and len(alt) == 1 and ref in _BASES and alt in _BASES and ref != alt


def _single_difference(wt: str, mt: str) -> int | None:
    """The one index where two equal-length sequences differ (None otherwise)."""
    if len(wt) != len(mt):
        return None
    diffs = [i for i, (a, b) in enumerate(zip(wt, mt)) if a != b]
    return diffs[0] if len(diffs) == 1 else None


def _distance(index: int, exon_first: int, exon_last: int) -> int:
    return min(abs(index - exon_first), abs(index - exon_last))


def _in_splice_dinucleotide(index: int, exon_first: int, exon_last: int) -> bool:
    return index in (exon_first - 2, exon_first - 1, exon_last + 1, exon_last + 2)


def _oriented(base: str, strand: str) -> str:
    return base if strand == "+" else reverse_complement(base)


def read_vexseq(paths: Sequence[str | Path], *, threshold: float = VEXSEQ_SDV_BELOW) -> VariantSet:
    """The Vex-seq SNVs of the tables in ``paths`` (in order), labelled, with exclusions counted."""
    out = VariantSet([])
    for path, lineno, row, vid in _unique_rows(out, paths, VEXSEQ_COLUMNS, "Vex-seq", "ID"):
        pos, start, end = _integers(path, lineno, row, "hg19_variant_position", "start", "end")
        if None in (pos, start, end):
            raise UserError(f"{path} line {lineno}: a position is missing")
        ref, alt = row["reference"].upper(), row["variant"].upper()
        if not _is_snv(ref, alt):
            out.exclude(vid, NOT_SNV)
            continue
        if _in_splice_dinucleotide(pos, start, end):
            out.exclude(vid, SPLICE_DINUCLEOTIDE)
            continue
        delta = _number(row["HepG2_delta_psi"])
        if math.isnan(delta):
            out.exclude(vid, NO_LABEL)
            continue
        strand = row["strand"]
        v = pos - (start - FLANK) if strand == "+" else (end + FLANK) - pos
        ref_seq, alt_seq = row["REF_SEQ"].upper(), row["ALT_SEQ"].upper()
        if not _carries(ref_seq, alt_seq, v, _oriented(ref, strand), _oriented(alt, strand)):
            out.exclude(vid, SEQUENCE_MISMATCH)
            continue
        out.variants.append(BenchmarkVariant(vid, row["seqnames"], pos, ref, alt, strand, start, end, delta,
                                             int(delta < threshold), ref_seq, alt_seq, v,
                                             _distance(pos, start, end)))
    return _nonempty(out, "Vex-seq", paths)


def _carries(ref_seq: str, alt_seq: str, v: int, ref: str, alt: str) -> bool:
    """The two sequences differ exactly at ``v``, with ``ref`` and ``alt`` there."""
    return (0 <= v < len(ref_seq) and _single_difference(ref_seq, alt_seq) == v and ref_seq[v] == ref
            and alt_seq[v] == alt)


def _nonempty(out: VariantSet, dataset: str, paths) -> VariantSet:
    if not out.variants:
        raise UserError(f"no usable {dataset} SNV in {', '.join(map(str, paths))} (excluded: {dict(out.excluded)})")
    return out


def read_mfass(paths: Sequence[str | Path], *, threshold: float = MFASS_SDV_AT_MOST) -> VariantSet:
    """The MFASS SNVs (category ``mutant``) of ``snv_data_clean.txt``, labelled, exclusions counted."""
    out = VariantSet([])
    for path, lineno, row, vid in _unique_rows(out, paths, MFASS_COLUMNS, "MFASS snv_data_clean.txt", "id",
                                               delimiter="\t", not_variant=lambda r: r["category"] != "mutant"):
        strand = row["strand"]
        rel, intron1, exon, intron2, pos = _integers(path, lineno, row, "rel_position", "intron1_len",
                                                     "exon_len", "intron2_len", "snp_position")
        ref, alt = row["ref_allele"].upper(), row["alt_allele"].upper()
        if not _is_snv(ref, alt):
            out.exclude(vid, NOT_SNV)
            continue
        wt, mt = row["nat_seq"].upper(), row["original_seq"].upper()
        if None in (intron1, exon, intron2) or intron1 + exon + intron2 != len(wt):
            out.exclude(vid, CONSTRUCT_LENGTHS)
            continue
        v = None if rel is None else rel - 1
        # the table's alleles may be plus-strand (as in the authors' VCF) or already oriented
        if v is None or not any(_carries(wt, mt, v, r, a) for r, a in
                                ((_oriented(ref, strand), _oriented(alt, strand)), (ref, alt))):
            out.exclude(vid, SEQUENCE_MISMATCH)
            continue
        first = intron1 if strand == "+" else intron2  # the upstream intron's length
        last = first + exon - 1
        if _in_splice_dinucleotide(v, first, last):
            out.exclude(vid, SPLICE_DINUCLEOTIDE)
            continue
        delta = _number(row["v2_dpsi"])
        if math.isnan(delta):
            out.exclude(vid, NO_LABEL)
            continue
        exon_start = exon_end = None
        if pos is not None:  # the exon on the genome, from the SNV and its place in the construct
            exon_start, exon_end = ((pos + first - v, pos + last - v) if strand == "+"
                                    else (pos - (last - v), pos - (first - v)))
        out.variants.append(BenchmarkVariant(vid, row["chr"], pos, _oriented(wt[v], strand),
                                             _oriented(mt[v], strand), strand, exon_start, exon_end, delta,
                                             int(delta <= threshold), wt, mt, v, _distance(v, first, last)))
    return _nonempty(out, "MFASS", paths)


def _mapsy_exon(wt: str, acceptor: str, donor: str, length: int) -> tuple[int, int] | None:
    """First and last index of the exon in ``wt``: after the intron's 3' end ``acceptor``, before the
    next intron's 5' start ``donor``, ``length`` nt long (one end found is enough; both must agree)."""
    first = wt.find(acceptor) + len(acceptor) if acceptor and wt.count(acceptor) == 1 else None
    after = wt.find(donor) if donor and wt.count(donor) == 1 else None
    if first is None and after is None:
        return None
    if first is None:
        first = after - length
    if after is not None and after - first != length:
        return None
    if first < 0 or first + length > len(wt):
        return None
    return first, first + length - 1


def read_mapsy(paths: Sequence[str | Path]) -> VariantSet:
    """The MaPSy SNVs of ``mapsy.txt``, labelled by the authors' ESM call, exclusions counted."""
    out = VariantSet([])
    for path, lineno, row, vid in _unique_rows(out, paths, MAPSY_COLUMNS, "MaPSy mapsy.txt", "ID"):
        strand = row["strand"]
        wt, mt = row["WT_SEQ"].upper(), row["MUT_SEQ"].upper()
        v = _single_difference(wt, mt)
        if v is None or not _is_snv(wt[v], mt[v]):
            out.exclude(vid, NOT_SNV)
            continue
        start, end = _integers(path, lineno, row, "Exon_Start", "Exon_End")
        exon = None if None in (start, end) else _mapsy_exon(wt, row["acceptor"].upper(), row["donor"].upper(),
                                                             end - start + 1)
        if exon is None:
            out.exclude(vid, EXON_NOT_FOUND)
            continue
        if _in_splice_dinucleotide(v, *exon):
            out.exclude(vid, SPLICE_DINUCLEOTIDE)
            continue
        call = row["ESM"].strip()
        if call not in ("0", "1"):
            out.exclude(vid, NO_CALL)
            continue
        out.variants.append(BenchmarkVariant(vid, row["chr"], None, _oriented(wt[v], strand),
                                             _oriented(mt[v], strand), strand, start, end,
                                             _number(row["log2_vivo_ratio"]), int(call), wt, mt, v,
                                             _distance(v, *exon)))
    return _nonempty(out, "MaPSy", paths)


BENCHMARKS: dict[str, Benchmark] = {
    "vexseq": Benchmark("vexseq", "Vex-seq (CAGI5, HepG2; SDV: delta PSI < -24)", read_vexseq, "SDV", "DELTA_PSI",
                        "the dataset's sequences (exon with 100 nt of intron each side, transcript orientation)",
                        "hg19", 0.182),
    "mfass": Benchmark("mfass", "MFASS (SNVs in ExAC exons; SDV: delta inclusion index <= -0.5)", read_mfass, "SDV",
                       "DELTA_PSI", "the dataset's constructs (natural and mutant minigene inserts, intron-exon-"
                       "intron, transcript orientation)", "hg19", 0.118),
    "mapsy": Benchmark("mapsy", "MaPSy (CAGI5; positive: the authors' ESM call, in vivo)", read_mapsy, "ESM",
                       "LOG2_VIVO_RATIO", "the dataset's 200-nt reporter sequences (WT_SEQ/MUT_SEQ, adapters "
                       "included)", None, None),
}
