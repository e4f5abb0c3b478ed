"""Window geometry against direct slicing of a random genome (hypothesis)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from splicebert_plugin.scoring import windows as w


@pytest.mark.parametrize(
    "pos1,ref,alt,expected",
    [
        (10, "A", "G", w.Allele(9, "A", "G")),
        (10, "AT", "A", w.Allele(10, "T", "")),
        (10, "A", "AGG", w.Allele(10, "", "GG")),
        (10, "ATT", "AT", w.Allele(10, "T", "")),
        (10, "AC", "GC", w.Allele(9, "A", "G")),
        (10, "ACG", "TCA", w.Allele(9, "ACG", "TCA")),
    ],
)
def test_normalise_allele(pos1, ref, alt, expected):
    assert w.normalise_allele(pos1, ref, alt) == expected


def test_reverse_complement():
    assert w.reverse_complement("ACGTNacgtn") == "nacgtNACGT"
    assert w.reverse_complement("RY") == "RY"


genome_st = st.text(alphabet="ACGT", min_size=120, max_size=200)


@settings(max_examples=200, deadline=None)
@given(genome=genome_st, data=st.data())
def test_variant_centred_windows_put_the_event_at_the_centre(genome, data):
    width = data.draw(st.sampled_from([20, 21, 30]))
    strand = data.draw(st.sampled_from("+-"))
    ref_len = data.draw(st.integers(0, 3))
    alt = data.draw(st.text(alphabet="ACGT", min_size=0 if ref_len else 1, max_size=3))
    start = data.draw(st.integers(40, len(genome) - 40))
    allele = w.Allele(start, genome[start : start + ref_len], alt)
    window = w.variant_centred_window(allele, strand, width)
    v = window.event_index(allele)
    assert v == width // 2
    extra = max(0, ref_len - len(alt))
    lo, hi = window.oriented_interval(extra)
    oriented = w.orient(genome[lo:hi], strand)
    wt = oriented[:width]
    assert wt == w.orient(genome[window.start : window.end], strand)
    ref_t, alt_t = w.oriented_alleles(allele, strand)
    assert wt[v : v + ref_len] == ref_t
    mt = w.mutant_window(oriented, v, ref_t, alt_t, width)
    # the mutant window is the oriented mutant genome, anchored on the transcript-upstream side
    mutant_genome = genome[:start] + alt + genome[start + ref_len :]
    shift = len(alt) - ref_len
    if strand == "+":
        expected = mutant_genome[window.start : window.start + width]
    else:
        expected = w.reverse_complement(mutant_genome[window.end + shift - width : window.end + shift])
    assert mt == expected
    assert len(mt) == width


@settings(max_examples=100, deadline=None)
@given(genome=genome_st, data=st.data())
def test_window_index_matches_orientation(genome, data):
    strand = data.draw(st.sampled_from("+-"))
    window = w.Window(data.draw(st.integers(0, 50)), 30, strand)
    oriented = w.orient(genome[window.start : window.end], strand)
    position = data.draw(st.integers(window.start, window.end - 1))
    base = genome[position] if strand == "+" else w.reverse_complement(genome[position])
    assert oriented[window.index(position)] == base


def test_exon_centred_window_and_splice_sites():
    # exon [100, 150): window start (100 + 150) // 2 - 10 = 115 for width 20
    window = w.exon_centred_window(100, 150, "+", 20)
    assert window.start == 115
    plus = w.Window(90, 80, "+")
    assert w.splice_site_indices(plus, 100, 150, first_exon=False, last_exon=False) == (60, 8)
    assert w.splice_site_indices(plus, 100, 150, first_exon=True, last_exon=True) == (None, None)
    minus = w.Window(90, 80, "-")
    # minus: donor = genomic 99, 98 -> index 169 - 99 = 70; acceptor = genomic 151, 150 -> 169 - 151 = 18
    assert w.splice_site_indices(minus, 100, 150, first_exon=False, last_exon=False) == (70, 18)


def test_mutant_window_checks_ref():
    with pytest.raises(ValueError, match="not the REF"):
        w.mutant_window("ACGTACGT", 2, "T", "A", 8)
