"""The paper's variant benchmarks as data: parsing, labels, exclusions, the distance baseline
(``docs/benchmarks.md``). Pure: tables in, variants out; no model, no network.

Vex-seq (CAGI5; Adamson et al. 2018), from the MMSplice paper's copies of the tables. Columns
read: ``ID, seqnames, start, end, strand, hg19_variant_position, reference, variant,
HepG2_delta_psi, REF_SEQ, ALT_SEQ`` (``start``/``end``: the tested exon, 1-based inclusive;
``REF_SEQ``/``ALT_SEQ``: the exon with 100 nt of intron on each side, in transcript
orientation). A variant is a splice-disrupting variant (SDV, label 1) when its delta PSI is
below -24 percentage points, the paper's threshold (about its top 5 %), else 0.

Exclusions, each counted under its reason (never dropped silently): not an SNV; an SNV in a
splice-site dinucleotide (the two intron nucleotides next to either end of the exon: the paper
removes them, their effect is trivial to call); no delta PSI; the same ID twice (the first is
kept); sequences that do not carry the SNV where the coordinates say.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..errors import UserError
from ..scoring.windows import reverse_complement

VEXSEQ_COLUMNS = ("ID", "seqnames", "start", "end", "strand", "hg19_variant_position", "reference", "variant",
                  "HepG2_delta_psi", "REF_SEQ", "ALT_SEQ")
VEXSEQ_SDV_BELOW = -24.0  # delta PSI (percentage points)
FLANK = 100  # intron nt on each side of the exon in REF_SEQ / ALT_SEQ

NOT_SNV = "not an SNV"
SPLICE_DINUCLEOTIDE = "SNV in a splice-site dinucleotide"
NO_LABEL = "no delta PSI"
DUPLICATE = "ID seen before"
SEQUENCE_MISMATCH = "REF_SEQ/ALT_SEQ do not carry the SNV at its position"


@dataclass(frozen=True)
class BenchmarkVariant:
    id: str
    chrom: str
    pos: int  # 1-based
    ref: str
    alt: str
    strand: str
    exon_start: int  # 1-based inclusive
    exon_end: int  # 1-based inclusive
    delta_psi: float
    label: int
    ref_seq: str = ""  # transcript orientation, exon +-FLANK nt ("" when the table has none)
    alt_seq: str = ""

    @property
    def sequence_index(self) -> int:
        """Index of the SNV in ``ref_seq`` (transcript orientation)."""
        if self.strand == "+":
            return self.pos - (self.exon_start - FLANK)
        return (self.exon_end + FLANK) - self.pos

    @property
    def distance_to_splice_site(self) -> int:
        """nt to the nearer exon end (0 = the exon's first or last nucleotide)."""
        return min(abs(self.pos - self.exon_start), abs(self.pos - self.exon_end))


@dataclass
class VariantSet:
    variants: list[BenchmarkVariant]
    excluded: Counter = field(default_factory=Counter)  # reason -> count
    excluded_rows: list[tuple[str, str]] = field(default_factory=list)  # (ID, reason)


def _rows(path: Path, required: Sequence[str]) -> Iterable[tuple[int, dict]]:
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise UserError(f"{path}: missing column(s) {missing}; expected the Vex-seq table layout "
                            f"({', '.join(required)})")
        for lineno, row in enumerate(reader, start=2):
            yield lineno, row


def read_vexseq(paths: Sequence[str | Path], *, threshold: float = VEXSEQ_SDV_BELOW) -> VariantSet:
    """The Vex-seq SNVs of the tables in ``paths`` (in order), labelled, with exclusions counted."""
    out = VariantSet([])
    seen = set()

    def exclude(vid: str, reason: str) -> None:
        out.excluded[reason] += 1
        out.excluded_rows.append((vid, reason))

    for path in paths:
        for lineno, row in _rows(Path(path), VEXSEQ_COLUMNS):
            vid = row["ID"]
            try:
                pos, start, end = int(row["hg19_variant_position"]), int(row["start"]), int(row["end"])
            except ValueError:
                raise UserError(f"{path} line {lineno}: positions {row['hg19_variant_position']!r}, "
                                f"{row['start']!r}, {row['end']!r} are not integers") from None
            if row["strand"] not in ("+", "-"):
                raise UserError(f"{path} line {lineno}: strand {row['strand']!r} is not + or -")
            if vid in seen:
                exclude(vid, DUPLICATE)
                continue
            seen.add(vid)
            ref, alt = row["reference"].upper(), row["variant"].upper()
            if len(ref) != 1 or len(alt) != 1 or ref not in "ACGT" or alt not in "ACGT" or ref == alt:
                exclude(vid, NOT_SNV)
                continue
            if pos in (start - 2, start - 1, end + 1, end + 2):
                exclude(vid, SPLICE_DINUCLEOTIDE)
                continue
            try:
                delta = float(row["HepG2_delta_psi"])
            except ValueError:
                delta = math.nan
            if math.isnan(delta):
                exclude(vid, NO_LABEL)
                continue
            variant = BenchmarkVariant(vid, row["seqnames"], pos, ref, alt, row["strand"], start, end, delta,
                                       int(delta < threshold), row["REF_SEQ"].upper(), row["ALT_SEQ"].upper())
            if not sequences_agree(variant):
                exclude(vid, SEQUENCE_MISMATCH)
                continue
            out.variants.append(variant)
    if not out.variants:
        raise UserError(f"no usable Vex-seq SNV in {', '.join(map(str, paths))} (excluded: {dict(out.excluded)})")
    return out


def sequences_agree(variant: BenchmarkVariant) -> bool:
    """REF_SEQ and ALT_SEQ differ exactly at the SNV's index, with REF and ALT there (oriented)."""
    ref_seq, alt_seq, v = variant.ref_seq, variant.alt_seq, variant.sequence_index
    if len(ref_seq) != len(alt_seq) or not 0 <= v < len(ref_seq):
        return False
    ref, alt = (variant.ref, variant.alt) if variant.strand == "+" else (reverse_complement(variant.ref),
                                                                          reverse_complement(variant.alt))
    if ref_seq[v] != ref or alt_seq[v] != alt:
        return False
    return ref_seq[:v] == alt_seq[:v] and ref_seq[v + 1 :] == alt_seq[v + 1 :]
