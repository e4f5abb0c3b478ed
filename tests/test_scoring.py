"""The scorer against an independent, straightforward implementation of docs/scoring.md (section 2)."""

import math

import numpy as np
import pytest
import torch
from transformers import BertForMaskedLM

from splicebert_plugin.checkpoints import load_masked_lm
from splicebert_plugin.io.annotation import read_annotation
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.io.vcf import VcfReader
from splicebert_plugin.scoring.passes import ScoringOptions, VariantScorer

from .conftest import COMPLEMENT, EXAMPLE, FASTA, GENES, TOKEN, VCF, read_fasta_text, revcomp

# ---- the independent implementation: plain Python loops over transformers' BertForMaskedLM ----


def probabilities(bert, seq):
    ids = torch.tensor([[2] + [TOKEN[c] for c in seq] + [3]])
    with torch.no_grad():
        logits = bert(ids).logits[0, 1:-1, 6:10].double()
    return torch.softmax(logits, dim=-1).numpy()


def reference_scores(bert, genome, pos1, ref, alt, strand, window_start, width=510):
    """KL-context and max KL of an SNV, following docs/scoring.md literally."""
    p0 = pos1 - 1
    wt = genome[window_start : window_start + width]
    mt = wt[: p0 - window_start] + alt + wt[p0 - window_start + 1 :]
    v = p0 - window_start
    if strand == "-":
        wt, mt, v = revcomp(wt), revcomp(mt), width - 1 - v
    p_wt, p_mt = probabilities(bert, wt), probabilities(bert, mt)
    kl = []
    for i in range(width):
        kl.append(sum(p_mt[i][x] * math.log(p_mt[i][x] / p_wt[i][x]) for x in range(4)))
    total, largest = 0.0, 0.0
    for d in range(1, 101):
        total += math.log(max((kl[v - d] + kl[v + d]) / 2, 1e-6))
        largest = max(largest, kl[v - d], kl[v + d])
    return total, largest


@pytest.fixture(scope="module")
def scorer_inputs(checkpoint_510):
    model = load_masked_lm(checkpoint_510).eval()
    genome = Genome(FASTA)
    genes = read_annotation(GENES)
    records = list(VcfReader(str(VCF)))
    yield model, genome, genes, records
    genome.close()


def run(scorer_inputs, **options):
    model, genome, genes, records = scorer_inputs
    scorer = VariantScorer(model, genome, genes, ScoringOptions(**options))
    return list(scorer.score(records))


def snv_entries(results):
    for result in results:
        if result.reason is not None:
            continue
        record = result.record
        for entry in result.alleles:
            if len(record.ref) == 1 and len(entry.allele) == 1 and entry.reason is None:
                yield record, entry


@pytest.mark.parametrize("mode", ["variant", "exon"])
def test_scores_equal_an_independent_implementation(scorer_inputs, checkpoint_510, mode):
    bert = BertForMaskedLM.from_pretrained(str(checkpoint_510)).eval()
    genome = read_fasta_text(FASTA)
    results = run(scorer_inputs, mode=mode, batch_size=4)
    compared = 0
    scores = []
    for record, entry in snv_entries(results):
        if "PARTIAL_CONTEXT" in entry.notes:
            continue
        expected_kl, expected_max = reference_scores(
            bert, genome, record.pos, record.ref, entry.allele, entry.strand, entry.window_start
        )
        assert entry.scores["KL_CONTEXT"] == pytest.approx(expected_kl, abs=1e-4)
        assert entry.scores["MAX_KL"] == pytest.approx(expected_max, abs=1e-4)
        scores.append(expected_kl)
        compared += 1
    assert compared >= 3
    assert np.std(scores) > 10  # varied scores, not the -1381.55 floor everywhere


def test_window_placement_in_both_modes(scorer_inputs):
    genes = scorer_inputs[2]
    for mode in ("variant", "exon"):
        for record, entry in snv_entries(run(scorer_inputs, mode=mode)):
            p0 = record.pos - 1
            if mode == "variant":
                assert entry.variant_index == 255
                assert entry.window_start == (p0 - 255 if entry.strand == "+" else p0 + 1 + 255 - 510)
            else:
                gene = next(g for g in genes.overlapping("19", p0, p0 + 1) if g.name == entry.gene)
                es, ee = gene.exons[gene.nearest_exon(p0)]
                assert entry.window_start == (es + ee) // 2 - 255
                index = p0 - entry.window_start
                assert entry.variant_index == (index if entry.strand == "+" else 509 - index)


def test_batch_size_does_not_change_scores(scorer_inputs):
    one = run(scorer_inputs, batch_size=1, scores=("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL", "DELTA_P"))
    many = run(scorer_inputs, batch_size=16, scores=("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL", "DELTA_P"))
    assert len(one) == len(many) == 12
    for a, b in zip(one, many, strict=True):
        assert a.reason == b.reason
        for x, y in zip(a.alleles, b.alleles, strict=True):
            for name, value in x.scores.items():
                assert value == pytest.approx(y.scores[name], abs=1e-6, nan_ok=True)


def test_delta_p_equals_a_masked_forward_pass(scorer_inputs, checkpoint_510):
    bert = BertForMaskedLM.from_pretrained(str(checkpoint_510)).eval()
    genome = read_fasta_text(FASTA)
    results = run(scorer_inputs, scores=("DELTA_P",))
    checked = 0
    for record, entry in snv_entries(results):
        wt = genome[entry.window_start : entry.window_start + 510]
        ref, alt = record.ref, entry.allele
        if entry.strand == "-":
            wt, ref, alt = revcomp(wt), COMPLEMENT[ref], COMPLEMENT[alt]
        ids = torch.tensor([[2] + [TOKEN[c] for c in wt] + [3]])
        ids[0, 256] = 4
        with torch.no_grad():
            probs = torch.softmax(bert(ids).logits[0, 256].double(), -1)
        assert entry.scores["DELTA_P"] == pytest.approx((probs[TOKEN[alt]] - probs[TOKEN[ref]]).item(), abs=1e-5)
        checked += 1
    assert checked >= 3


def test_minus_strand_equals_plus_strand_of_the_reverse_complement(tmp_path, scorer_inputs):
    """A plus-strand gene and its mirror image on the reverse-complemented contig score alike."""
    import pyfaidx

    model = scorer_inputs[0]
    genome = read_fasta_text(FASTA)[530_000:545_000]
    mirror = revcomp(genome)
    n = len(genome)
    fasta = tmp_path / "pair.fa"
    fasta.write_text(f">fwd\n{genome}\n>rev\n{mirror}\n")
    pyfaidx.Faidx(str(fasta)).close()
    # CDC34 shifted into the slice: exons [1711, 2108), [5836, 5923), [6242, 6340)
    exons = [(1711, 2108), (5836, 5923), (6242, 6340)]
    mirrored = [(n - e, n - s) for s, e in reversed(exons)]
    table = tmp_path / "genes.tsv"
    table.write_text(
        "#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n"
        f"G\tfwd\t+\t1711\t6340\t{','.join(str(s) for s, _ in exons)}\t{','.join(str(e) for _, e in exons)}\n"
        f"G\trev\t-\t{n - 6340}\t{n - 1711}\t{','.join(str(s) for s, _ in mirrored)}\t{','.join(str(e) for _, e in mirrored)}\n"
    )
    positions = [2108, 5836 - 1, 4000, 6300]  # 0-based: donor G, acceptor G, intronic, exonic
    lines = ["##fileformat=VCFv4.2", "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO"]
    for p in positions:
        ref = genome[p]
        alt = "A" if ref != "A" else "C"
        lines.append(f"fwd\t{p + 1}\t.\t{ref}\t{alt}\t.\t.\t.")
        lines.append(f"rev\t{n - p}\t.\t{COMPLEMENT[ref]}\t{COMPLEMENT[alt]}\t.\t.\t.")
    lines.append(f"fwd\t{4001}\t.\t{genome[4000:4003]}\t{genome[4000]}\t.\t.\t.")  # a deletion too
    lines.append(f"rev\t{n - 4003}\t.\t{mirror[n - 4004:n - 4001]}\t{mirror[n - 4004]}\t.\t.\t.")
    vcf = tmp_path / "pair.vcf"
    vcf.write_text("\n".join(lines) + "\n")
    with Genome(fasta) as pair_genome:
        scorer = VariantScorer(model, pair_genome, read_annotation(table), ScoringOptions())
        results = list(scorer.score(VcfReader(str(vcf))))
    assert len(results) == 2 * len(positions) + 2
    for fwd, rev in zip(results[0::2], results[1::2], strict=True):
        assert fwd.reason is None and rev.reason is None
        a, b = fwd.alleles[0], rev.alleles[0]
        assert (a.strand, b.strand) == ("+", "-")
        for name in ("KL_CONTEXT", "MAX_KL", "SPLICE_SITE_KL"):
            assert a.scores[name] == pytest.approx(b.scores[name], abs=1e-6, nan_ok=True)


def test_python_api_table_and_vcf_frames_agree(tiny_510):
    import pandas as pd

    from splicebert_plugin.scoring.vcf_job import score_variants, score_vcf_frame

    model = load_masked_lm(tiny_510).eval()
    from_vcf = score_vcf_frame(model, str(VCF), str(FASTA), str(GENES))
    table = pd.DataFrame({"CHROM": ["19", "chr19", "19"], "POS": [496552, 537050, 537100],
                          "REF": ["G", "C", "A"], "ALT": ["A", "A,G", "G"], "ID": ["a", "b", "c"]})
    from_table = score_variants(model, table, str(FASTA), str(GENES))
    assert list(from_table["ALT"]) == ["A", "A", "G", "G"]
    assert from_table.loc[3, "NOTE"] == "REF_MISMATCH"
    for i, vid in ((0, "donor_MADCAM1_ex1"), (1, "multiallelic_CDC34")):
        expected = from_vcf[from_vcf.ID == vid].iloc[0]["KL_CONTEXT"]
        assert from_table.loc[i, "KL_CONTEXT"] == pytest.approx(expected, abs=1e-9)
    with pytest.raises(ValueError, match="lacks column"):
        score_variants(model, pd.DataFrame({"CHROM": ["19"]}), str(FASTA), str(GENES))


def test_ism_equals_single_pair_scores(tiny_510):
    from splicebert_plugin.analysis.ism import in_silico_mutagenesis, tile_region
    from splicebert_plugin.scoring.passes import score_sequences

    model = load_masked_lm(tiny_510).eval()
    donor = (EXAMPLE / "TRAK1_exon1_donor_510nt.fa").read_text().splitlines()[1:]
    sequence = "".join(donor)
    result = in_silico_mutagenesis(model, sequence, 250, 260)
    assert result.kl_context.shape == (10, 4)
    assert np.isnan(result.kl_context[np.arange(10), ["ACGT".index(c) for c in result.reference]]).all()
    for row in (0, 5, 9):
        position = 250 + row
        for column, base in enumerate("ACGT"):
            if base == sequence[position]:
                continue
            mutant = sequence[:position] + base + sequence[position + 1:]
            expected = score_sequences(model, sequence, mutant, position)
            assert result.kl_context[row, column] == pytest.approx(expected["KL_CONTEXT"], abs=1e-4)
            assert result.max_kl[row, column] == pytest.approx(expected["MAX_KL"], rel=1e-4)
    np.testing.assert_allclose(result.summary, np.nanmax(result.kl_context, axis=1))
    # tiles cover the region once, each position with its full context inside the window
    tiles = tile_region(2000, 150, 1700, 510, 100)
    covered = [p for _, s, e in tiles for p in range(s, e)]
    assert covered == list(range(150, 1700))
    for window_start, s, e in tiles:
        assert s - window_start >= 100 and window_start + 510 - e >= 100
    with pytest.raises(ValueError, match="flank"):
        tile_region(600, 50, 100, 510, 100)


def test_ism_command_writes_table_summary_and_heatmap(tmp_path, tiny_510):
    from splicebert_plugin.cli.main import main

    out = tmp_path / "ism.tsv"
    argv = ["ism", "-m", str(tiny_510), "-R", str(FASTA), "--region", "chr19:496540-496560", "--strand", "+",
            "-O", str(out), "--summary", str(tmp_path / "s.tsv"), "--plot", str(tmp_path / "h.png")]
    assert main(argv) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "POSITION\tREF\tALT\tKL_CONTEXT\tMAX_KL" and len(rows) == 1 + 21 * 3
    assert rows[1].startswith("496540\t")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "s.tsv").read_text().splitlines()) == 22
