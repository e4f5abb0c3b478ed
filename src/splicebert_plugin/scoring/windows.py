"""Window geometry for variant scoring: alleles, strands, window placement. Pure functions.

Coordinates: genomic positions here are 0-based (half-open intervals) unless a name says
``pos1`` (1-based, as in VCF); the one conversion from VCF is :func:`normalise_allele`.
Window indices are in *transcript orientation*: index 0 is the window's 5' end on the gene's
strand; a minus-strand window is the reverse complement of its genomic interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from ..errors import UserError

_COMPLEMENT = str.maketrans("ACGTNacgtnRYSWKMBDHVrykmbdhvsw", "TGCANtgcanYRSWMKVHDByrmkvhdbsw")


def reverse_complement(sequence: str) -> str:
    """Reverse complement, IUPAC-aware, case kept."""
    return sequence.translate(_COMPLEMENT)[::-1]


@dataclass(frozen=True)
class Allele:
    """One ALT allele reduced to the bases it really changes (plus strand).

    ``start`` is 0-based: the first replaced reference base, or for a pure insertion the base
    before which ``alt`` is inserted. ``ref``/``alt`` may be empty (insertion / deletion).
    """

    start: int  # 0-based
    ref: str
    alt: str

    @property
    def is_snv(self) -> bool:
        return len(self.ref) == 1 and len(self.alt) == 1


def normalise_allele(pos1: int, ref: str, alt: str) -> Allele:
    """Trim the bases REF and ALT share (suffix first, then prefix), as for a minimal representation.

    ``pos1`` is the VCF POS (1-based). ``AT -> A`` at POS 10 becomes a deletion of ``T`` at
    0-based 10; ``A -> AG`` at POS 10 an insertion of ``G`` before 0-based 10.
    """
    ref, alt = ref.upper(), alt.upper()
    start = pos1 - 1
    while ref and alt and ref[-1] == alt[-1] and len(ref) + len(alt) > 2:
        ref, alt = ref[:-1], alt[:-1]
    while ref and alt and ref[0] == alt[0] and (len(ref) > 1 or len(alt) > 1):
        ref, alt, start = ref[1:], alt[1:], start + 1
    return Allele(start=start, ref=ref, alt=alt)


@dataclass(frozen=True)
class Window:
    """A window of ``width`` nucleotides on one strand; ``start`` 0-based genomic, may be off-contig."""

    start: int  # 0-based genomic start of the interval (before orientation)
    width: int
    strand: str  # "+" or "-"

    @property
    def end(self) -> int:
        return self.start + self.width

    def index(self, position: int) -> int:
        """Transcript-orientation index of a 0-based genomic position."""
        return position - self.start if self.strand == "+" else self.end - 1 - position

    def event_index(self, allele: Allele) -> int:
        """Index of the first (transcript-order) base of the event; for an insertion, of the
        base the insertion precedes in transcript order."""
        if self.strand == "+":
            return allele.start - self.start
        return self.end - allele.start - len(allele.ref)

    def oriented_interval(self, extra: int = 0) -> tuple[int, int]:
        """Genomic interval holding the window plus ``extra`` bases past its 3' (transcript) end."""
        if self.strand == "+":
            return self.start, self.end + extra
        return self.start - extra, self.end


def variant_centred_window(allele: Allele, strand: str, width: int) -> Window:
    """Window with the event's first transcript-order base at index ``width // 2``."""
    if strand == "+":
        return Window(allele.start - width // 2, width, strand)
    end = allele.start + len(allele.ref) + width // 2
    return Window(end - width, width, strand)


def exon_centred_window(exon_start: int, exon_end: int, strand: str, width: int) -> Window:
    """The paper's Vex-seq/MFASS window: genomic start ``(exon_start + exon_end) // 2 - width // 2``.

    ``exon_start``/``exon_end``: 0-based half-open exon.
    """
    return Window((exon_start + exon_end) // 2 - width // 2, width, strand)


def orient(sequence: str, strand: str) -> str:
    """Genomic (plus-strand) sequence -> transcript orientation."""
    return sequence if strand == "+" else reverse_complement(sequence)


def oriented_alleles(allele: Allele, strand: str) -> tuple[str, str]:
    """REF and ALT bases in transcript orientation."""
    return orient(allele.ref, strand), orient(allele.alt, strand)


def mutant_window(wt_extended: str, v: int, ref: str, alt: str, width: int) -> str:
    """MT window: WT up to ``v``, then ``alt``, then WT after the replaced ``ref``; cut to ``width``.

    ``wt_extended`` is the WT window in transcript orientation followed by at least
    ``len(ref) - len(alt)`` further bases (what a deletion pulls in).
    """
    if wt_extended[v : v + len(ref)].upper() != ref.upper():
        raise UserError(f"window has {wt_extended[v:v + len(ref)]!r} at index {v}, not the REF {ref!r}")
    mutant = wt_extended[:v] + alt + wt_extended[v + len(ref) :]
    if len(mutant) < width:
        raise UserError(f"mutant window is {len(mutant)} nt, shorter than {width}: pass more downstream bases")
    return mutant[:width]


def splice_site_indices(
    window: Window, exon_start: int, exon_end: int, *, first_exon: bool, last_exon: bool
) -> tuple[int | None, int | None]:
    """Window indices of an exon's donor and acceptor dinucleotides (transcript orientation).

    ``exon_start``/``exon_end`` 0-based half-open; ``first_exon``/``last_exon`` in transcript
    order (the first exon has no acceptor, the last no donor). Returns the index of the first
    base of each dinucleotide, or ``None``.
    """
    if window.strand == "+":
        donor = None if last_exon else window.index(exon_end)
        acceptor = None if first_exon else window.index(exon_start - 2)
    else:
        donor = None if last_exon else window.index(exon_start - 1)
        acceptor = None if first_exon else window.index(exon_end + 1)
    return donor, acceptor
