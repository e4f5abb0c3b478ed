"""Promoter-core windows, their two negative sets and the dinucleotide shuffle (GENEBERT.md test 11),
against independent slicing and counting."""

from collections import Counter

import numpy as np
import pytest

from splicebert_plugin.io.annotation import read_transcripts
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.training.finetune.promoters import (
    deepromoter_negative,
    dinucleotide_shuffle,
    gc_fraction,
    promoter_examples,
    promoter_positives,
)

from .conftest import FASTA, GENES, read_fasta_text

COMPLEMENT = str.maketrans("ACGT", "TGCA")


def rc(sequence):
    return sequence.translate(COMPLEMENT)[::-1]


@pytest.fixture(scope="module")
def genes():
    return read_transcripts(GENES)


def test_positive_windows_equal_independent_slicing(genes):
    text = read_fasta_text(FASTA)  # contig "19", index 0 = chr19:1
    with Genome(FASTA) as genome:
        positives = promoter_positives(genome, genes)
    assert positives.examples and len(positives.examples) == len({(g.chrom, g.strand, g.start if g.strand == "+"
                                                                  else g.end) for g in genes})
    for example in positives.examples:
        assert example.label == 1 and example.source == "tss" and len(example.sequence) == 70
        gene = next(g for g in genes if g.name == example.name)
        if gene.strand == "+":  # TSS at index 34 of the window: 34 upstream, 35 downstream
            tss = gene.start
            assert example.sequence == text[tss - 34 : tss + 36]
        else:  # TSS = last transcribed base; upstream lies to the right on the genome
            tss = gene.end - 1
            assert example.sequence == rc(text[tss - 35 : tss + 35])
        assert example.sequence[34:36] == (text[tss : tss + 2] if gene.strand == "+" else rc(text[tss - 1 : tss + 1]))


def test_deepromoter_negatives_keep_8_of_20_parts():
    rng = np.random.default_rng(0)
    source = "".join(np.random.default_rng(1).choice(list("ACGT"), 70))
    equal_counts = []
    for _ in range(300):
        negative = deepromoter_negative(source, rng)
        assert len(negative) == 70 and set(negative) <= set("ACGT")
        bounds = np.linspace(0, 70, 21).round().astype(int)
        parts = [(bounds[i], bounds[i + 1]) for i in range(20)]
        assert sorted({b - a for a, b in parts}) == [3, 4]
        equal_counts.append(sum(negative[a:b] == source[a:b] for a, b in parts))
    assert min(equal_counts) >= 8  # 8 kept, and a replaced part may match by chance
    # a replaced part of 3-4 random bases equals the original with probability 4^-3.5 on average
    chance = 12 * (4 ** -3 + 4 ** -4) / 2
    assert abs(np.mean(equal_counts) - (8 + chance)) < 0.1


def test_genomic_negatives_keep_their_rules(genes):
    text = read_fasta_text(FASTA)
    with Genome(FASTA) as genome:
        data = promoter_examples(genome, genes, "genomic", seed=3)
        again = promoter_examples(genome, genes, "genomic", seed=3)
    assert data.examples == again.examples  # seeded
    tss = np.array([g.start if g.strand == "+" else g.end - 1 for g in genes])
    positives = [e for e in data.examples if e.label == 1]
    negatives = [e for e in data.examples if e.label == 0]
    assert len(negatives) + data.skipped["no GC-matched genomic window found"] == len(positives)
    assert len(negatives) >= 0.9 * len(positives) and {e.strand for e in negatives} == {"+", "-"}
    by_name = {e.name: e for e in positives}
    for negative in negatives:
        assert negative.source == "genomic" and negative.end - negative.start == 70
        forward = text[negative.start : negative.end]
        assert negative.sequence == (forward if negative.strand == "+" else rc(forward)) and "N" not in forward
        distance = np.maximum(np.maximum(tss - (negative.end - 1), negative.start - tss), 0)
        assert distance.min() >= 2000
        assert abs(gc_fraction(negative.sequence) - gc_fraction(by_name[negative.name].sequence)) <= 0.05
    with pytest.raises(ValueError, match="negatives"):
        promoter_examples(genome, genes, "shuffled")


def test_dinucleotide_shuffle_keeps_dinucleotides_and_ends():
    rng = np.random.default_rng(0)
    for length in (3, 10, 70, 500):
        source = "".join(np.random.default_rng(length).choice(list("ACGT"), length, p=[0.4, 0.1, 0.1, 0.4]))
        outputs = set()
        for _ in range(20):
            shuffled = dinucleotide_shuffle(source, rng)
            assert Counter(zip(shuffled, shuffled[1:])) == Counter(zip(source, source[1:]))
            assert shuffled[0] == source[0] and shuffled[-1] == source[-1]
            outputs.add(shuffled)
        if length >= 70:
            assert len(outputs) == 20  # a real shuffle, not the input back
    assert dinucleotide_shuffle("ACGTACGT", np.random.default_rng(1)) == dinucleotide_shuffle(
        "ACGTACGT", np.random.default_rng(1))


def test_composition_and_spectrum_features_by_hand():
    from splicebert_plugin.training.baselines import composition, fit_predict, kmer_spectrum

    features = composition(["ACGCGT", "AAAA"])
    # ACGCGT: C 2, G 2, CG 2 of 6 positions: GC 4/6, o/e 2 * 6 / 4 = 3, density 2 / 5
    np.testing.assert_allclose(features, [[4 / 6, 3.0, 0.4], [0.0, 0.0, 0.0]])
    spectrum = kmer_spectrum(["AAAT", "ANAA"], k=2)
    # DNABERT order ATCG: AA = 0, AT = 1; ANAA: only AA counts
    assert spectrum[0, 0] == pytest.approx(2 / 3) and spectrum[0, 1] == pytest.approx(1 / 3)
    assert spectrum[1, 0] == 1.0 and spectrum[1].sum() == pytest.approx(1.0)
    # a separable toy: GC-rich positives, AT-rich negatives
    rng = np.random.default_rng(0)
    rich = ["".join(rng.choice(list("ACGT"), 70, p=[0.1, 0.4, 0.4, 0.1])) for _ in range(40)]
    poor = ["".join(rng.choice(list("ACGT"), 70, p=[0.4, 0.1, 0.1, 0.4])) for _ in range(40)]
    train = composition(rich[:30] + poor[:30])
    probs = fit_predict(train, np.array([1] * 30 + [0] * 30), composition(rich[30:] + poor[30:]))
    assert (probs[:10] > 0.5).all() and (probs[10:] < 0.5).all()


def test_macro_precision_recall_by_hand():
    from splicebert_plugin.analysis.metrics import macro_precision_recall

    labels = [1, 1, 1, 0, 0]
    probs = [0.9, 0.6, 0.2, 0.7, 0.1]
    # class 1: called 3 (2 right) -> P 2/3, R 2/3; class 0: called 2 (1 right) -> P 1/2, R 1/2
    assert macro_precision_recall(labels, probs) == pytest.approx(((2 / 3 + 1 / 2) / 2, (2 / 3 + 1 / 2) / 2))
    assert macro_precision_recall([1, 0], [0.9, 0.8]) == pytest.approx(((1 / 2 + 0) / 2, (1 + 0) / 2))
