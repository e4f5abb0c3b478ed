"""Per-nucleotide splice-site classification (SpliceAI's formulation): labels derived independently
from the annotation table, blocks against the raw FASTA, both model families, 1 and 2 processes,
metrics recomputed with scikit-learn from the written predictions."""

import json

import numpy as np
import pytest

from splicebert_plugin.io.annotation import read_transcripts
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.training.config import ConfigError
from splicebert_plugin.training.finetune.splice_blocks import splice_blocks, token_labels
from splicebert_plugin.training.finetune.splice_nucleotides import (SpliceNucleotideConfig,
                                                                    finetune_splice_nucleotides)

from .conftest import FASTA, GENES, load_recipe, read_fasta_text, revcomp, run_two_processes


def _expected_sites(table=GENES) -> dict[int, int]:
    """From the SpliceAI-format table by hand: in transcript orientation, the last exon nucleotide
    before an intron is a donor (2), the first exon nucleotide after it an acceptor (1)."""
    sites = {}
    for line in open(table):
        if line.startswith("#"):
            continue
        _, _, strand, _, _, starts, ends = line.rstrip("\n").split("\t")
        starts = [int(x) for x in starts.strip(",").split(",")]  # 0-based exon starts
        ends = [int(x) for x in ends.strip(",").split(",")]  # exclusive exon ends
        for i in range(len(starts) - 1):  # the intron between genomic exon i and exon i + 1
            left_last, right_first = ends[i] - 1, starts[i + 1]
            if strand == "+":
                sites[left_last], sites[right_first] = 2, 1
            else:  # the right exon comes first in transcript orientation
                sites[right_first], sites[left_last] = 2, 1
    return sites


def _blocks(block=430, context=80):
    with Genome(FASTA) as genome:
        return splice_blocks(genome, read_transcripts(GENES), block=block, context=context)


def test_every_locus_nucleotide_labelled_once_as_the_table_says():
    data = _blocks(block=97, context=40)
    assert not data.skipped
    genome = read_fasta_text(FASTA)
    seen = {}
    for block in data.blocks:
        assert len(block.sequence) == 97 + 40 and len(block.labels) == 97
        index = np.flatnonzero(block.labels >= 0)
        for i in index:
            position = int(block.position(int(i)))
            assert position not in seen
            seen[position] = int(block.labels[i])
        # the input is the genome around the block, oriented: 20 nt each side of the labelled span
        lo = block.first - 20 if block.strand == "+" else block.first - 96 - 20
        window = genome[lo : lo + 137]
        assert block.sequence == (window if block.strand == "+" else revcomp(window))
    spans = [(t.start, t.end) for t in read_transcripts(GENES)]
    assert len(seen) == sum(end - start for start, end in spans)  # the 7 example genes do not overlap
    expected = _expected_sites()
    assert {p: label for p, label in seen.items() if label} == expected
    assert sum(1 for label in expected.values() if label == 1) == 35
    # biology as a second check: GT after most donors, AG before most acceptors (transcript orientation)
    motifs = {1: [], 2: []}
    for block in data.blocks:
        oriented = block.sequence[20:-20]
        for i in np.flatnonzero(block.labels > 0):
            if 2 <= i < len(oriented) - 2:
                label = int(block.labels[i])
                motifs[label].append(oriented[i + 1 : i + 3] if label == 2 else oriented[i - 2 : i])
    assert np.mean([m == "GT" for m in motifs[2]]) > 0.9 and np.mean([m == "AG" for m in motifs[1]]) > 0.9


def test_kmer_tokens_carry_the_label_of_the_nucleotide_they_start():
    from splicebert_plugin.genebert.tokenization_genebert import kmer_encode

    blocks = _blocks(block=50, context=10).blocks[:40]
    ids = np.stack([kmer_encode(b.sequence, 3) for b in blocks])  # no specials: token j starts at j
    labels = token_labels(blocks, ids.shape[1] + 2, context=10)
    for block, row, id_row in zip(blocks, labels, ids):
        for j in range(50):
            assert row[1 + 5 + j] == block.labels[j]
            assert id_row[5 + j] == kmer_encode(block.sequence[5 + j : 5 + j + 3], 3)[0]
        assert (row[:6] == -100).all() and (row[6 + 50 :] == -100).all()
    with pytest.raises(ValueError, match="needs 57 tokens"):
        token_labels(blocks, 56, context=10)  # [CLS] + 5 + 50 + [SEP] do not fit


def _rows(path):
    lines = path.read_text().splitlines()
    assert lines[0].split("\t") == ["locus", "chrom", "strand", "position", "label", "prob_acceptor", "prob_donor"]
    return [line.split("\t") for line in lines[1:]]


def _check_against_sklearn(out, summary, folds):
    from sklearn.metrics import average_precision_score

    group = summary["groups"]["splice_nucleotides"]
    rows = [row for k in range(folds) for row in _rows(out / f"predictions_splice_nucleotides_fold{k}.tsv")]
    assert len(rows) == group["data"]["nucleotides"] if folds == 3 else len(rows) > 0
    assert len({(r[0], r[3]) for r in rows}) == len(rows)
    labels = np.array([int(r[4]) for r in rows])
    probs = np.array([[float(r[5]), float(r[6])] for r in rows])
    assert (probs > 0).all() and (probs.sum(axis=1) < 1).all()
    pooled = group["pooled"]
    for column, (name, label) in enumerate((("acceptor", 1), ("donor", 2))):
        truth = labels == label
        assert pooled[f"test_{name}_pr_auc"] == pytest.approx(average_precision_score(truth, probs[:, column]), abs=1e-5)
        k = int(truth.sum())
        top = np.argsort(-probs[:, column], kind="stable")[:k]  # continuous scores: no ties
        assert pooled[f"test_{name}_top_k_accuracy"] == pytest.approx(truth[top].mean(), abs=1e-9)
    assert pooled["test_mean_pr_auc"] == pytest.approx(
        (pooled["test_acceptor_pr_auc"] + pooled["test_donor_pr_auc"]) / 2)
    return group


@pytest.mark.slow  # three folds end to end; the GeneBERT fold below covers the path in the fast run
def test_splicebert_per_nucleotide_cross_validation(tmp_path, tiny_510):
    # four of the example genes (three on +, one on -) keep the run short
    lines = [line for line in open(GENES) if line.startswith("#") or line.split("\t")[0] in
             ("OR4F17", "PLPP2", "MADCAM1", "CDC34")]
    table = tmp_path / "genes.tsv"
    table.write_text("".join(lines))
    lengths = [int(line.split("\t")[4]) - int(line.split("\t")[3]) for line in lines[1:]]
    out = tmp_path / "sn"
    summary = finetune_splice_nucleotides(SpliceNucleotideConfig(
        genome=str(FASTA), annotation=str(table), output_dir=str(out), model=str(tiny_510), folds=3,
        max_epochs=1, batch_size=32, learning_rate=1e-4), progress=False)
    assert summary["validation_metric"] == "mean_pr_auc"
    group = _check_against_sklearn(out, summary, folds=3)
    # the 510-nt model: 510 - 80 = 430 labelled nucleotides per input; blocks = ceil(length / 430)
    expected = list(_expected_sites(table).values())
    assert group["data"] == {"blocks": sum(-(-n // 430) for n in lengths), "block": 430, "context": 80,
                             "nucleotides": sum(lengths), "acceptors": expected.count(1),
                             "donors": expected.count(2), "loci": 4, "skipped": {}}
    for k, fold in group["folds"].items():
        loci = {r[0] for r in _rows(out / f"predictions_splice_nucleotides_{k}.tsv")}
        others = {r[0] for j in range(3) if f"fold{j}" != k
                  for r in _rows(out / f"predictions_splice_nucleotides_fold{j}.tsv")}
        assert loci and not loci & others  # whole loci per fold
    assert json.loads((out / "summary.json").read_text())["groups"]["splice_nucleotides"]["data"]["block"] == 430


def test_genebert_per_nucleotide_fold(tmp_path, tiny_genebert):
    out = tmp_path / "gb"
    summary = finetune_splice_nucleotides(SpliceNucleotideConfig(
        genome=str(FASTA), annotation=str(GENES), output_dir=str(out), model=str(tiny_genebert), folds=3,
        max_folds=1, max_epochs=1, batch_size=64, learning_rate=1e-4), progress=False)
    assert summary["family"] == "genebert"
    group = _check_against_sklearn(out, summary, folds=1)
    # 128 positions of 3-mers take 128 nt: 48 labelled after 80 of context
    assert group["data"]["block"] == 48 and group["data"]["nucleotides"] == 103976


def test_per_nucleotide_errors(tmp_path, tiny_510, tiny_genebert, capsys):
    recipe = load_recipe("finetune")

    def error(*argv):
        assert recipe.main(["splice_nucleotides", f"--genome={FASTA}", f"--annotation={GENES}",
                            f"--output_dir={tmp_path}", *argv]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return err

    assert "do not fit this model's 510 nt" in error(f"--model={tiny_510}", "--context=2000")
    assert "do not fit this model's 510 nt" in error(f"--model={tiny_510}", "--block=500")
    assert "context / 2 >= 2" in error(f"--model={tiny_genebert}", "--context=2")
    assert "even number" in error(f"--model={tiny_510}", "--context=81")
    with pytest.raises(ConfigError, match="folds >= 3"):
        SpliceNucleotideConfig(genome="g", annotation="a", output_dir="o", folds=2)


@pytest.mark.slow
def test_per_nucleotide_under_two_processes(tmp_path, tiny_genebert):
    """torchrun with 2 processes, GeneBERT's token head: every test nucleotide predicted once
    (the gathered 3-D probabilities without padding duplicates), the same rows as one process."""
    args = [f"--genome={FASTA}", f"--annotation={GENES}", f"--model={tiny_genebert}", "--folds=3", "--max_folds=1",
            "--max_epochs=1", "--batch_size=7"]
    script = ("import sys\nfrom splicebert_plugin.training.config import load_config\n"
              "from splicebert_plugin.training.finetune.splice_nucleotides import SpliceNucleotideConfig, "
              "finetune_splice_nucleotides\n"
              "finetune_splice_nucleotides(load_config(SpliceNucleotideConfig, None, sys.argv[1:]), progress=False)\n")
    run_two_processes(script, tmp_path, *args, f"--output_dir={tmp_path / 'two'}")
    summary = json.loads((tmp_path / "two" / "summary.json").read_text())
    assert summary["world_size"] == 2
    two = _rows(tmp_path / "two" / "predictions_splice_nucleotides_fold0.tsv")
    finetune_splice_nucleotides(load_config_for_test(args + [f"--output_dir={tmp_path / 'one'}"]), progress=False)
    one = _rows(tmp_path / "one" / "predictions_splice_nucleotides_fold0.tsv")
    assert [r[:5] for r in two] == [r[:5] for r in one]
    assert summary["groups"]["splice_nucleotides"]["folds"]["fold0"]["test"] > 0


def load_config_for_test(args):
    from splicebert_plugin.training.config import load_config

    return load_config(SpliceNucleotideConfig, None, [a for a in args])
