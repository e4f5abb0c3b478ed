"""Fine-tuning: metrics, splice-site and branchpoint data, the cross-validation loop (1 and 2 processes)."""

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from splicebert_plugin.io.annotation import read_transcripts
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.training.config import ConfigError
from splicebert_plugin.training.finetune.engine import (BranchpointConfig, SpliceSiteConfig, chromosome_folds,
                                                 finetune_splice_sites)
from splicebert_plugin.analysis.metrics import auroc, average_precision, f1_at
from splicebert_plugin.training.finetune.splice_sites import grouped_folds, splice_site_examples

from .conftest import BRANCHPOINTS, FASTA, GENES, REPO, load_recipe, torchrun

COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def test_average_precision_by_hand():
    assert average_precision([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision([1, 0, 1], [0.5, 0.5, 0.2]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)  # a tie
    assert average_precision([0, 0, 1], [0.3, 0.2, 0.9]) == 1.0
    assert math.isnan(average_precision([0, 0], [0.1, 0.2]))


def test_auroc_by_hand_and_against_all_pairs():
    assert auroc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(3 / 4)  # pairs won: (.9>.8,.1) (.7>.1)
    assert auroc([1, 0], [0.5, 0.5]) == 0.5  # a tie counts one half
    assert math.isnan(auroc([1, 1], [0.1, 0.2]))
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300), 2)  # many ties
    pairs = [(p > n) + 0.5 * (p == n) for p, n in itertools.product(scores[labels == 1], scores[labels == 0])]
    assert auroc(labels, scores) == pytest.approx(np.mean(pairs), abs=1e-12)


def test_f1_at_half_by_hand():
    # calls: .9 .6 .5 -> TP 2 (.9, .5), FP 1 (.6), FN 1 (.2): F1 = 2*2 / (2*2 + 1 + 1)
    assert f1_at([1, 0, 1, 1, 0], [0.9, 0.6, 0.5, 0.2, 0.1]) == pytest.approx(4 / 6)
    assert f1_at([0, 0], [0.1, 0.2]) == 0.0


def _sequence(path) -> str:
    return "".join(line.strip() for line in open(path) if not line.startswith(">")).upper()


def _rc(sequence: str) -> str:
    return sequence.translate(COMPLEMENT)[::-1]


def test_splice_site_examples_match_an_independent_derivation():
    """Sites and windows re-derived from the SpliceAI table by string slicing, on both strands."""
    chrom = _sequence(FASTA)
    expected = {"donor": {}, "acceptor": {}}
    spans = []
    for row in GENES.read_text().splitlines()[1:]:
        name, _, strand, tx_start, tx_end, starts, ends = row.split("\t")[:7]
        spans.append((strand, int(tx_start), int(tx_end)))
        starts = [int(x) for x in starts.split(",") if x]
        ends = [int(x) for x in ends.split(",") if x]
        for intron_start, intron_end in zip(ends[:-1], starts[1:]):  # the intron is [end_i, start_i+1)
            if strand == "+":
                donor, acceptor = intron_start, intron_end
                donor_window, acceptor_window = chrom[donor - 200 : donor + 200], chrom[acceptor - 200 : acceptor + 200]
            else:  # transcript orientation runs from intron_end down to intron_start
                donor, acceptor = intron_end, intron_start
                donor_window = _rc(chrom[donor - 200 : donor + 200])
                acceptor_window = _rc(chrom[acceptor - 200 : acceptor + 200])
            expected["donor"][(strand, donor)] = donor_window
            expected["acceptor"][(strand, acceptor)] = acceptor_window
    with Genome(FASTA) as genome:
        transcripts = read_transcripts(GENES)
        for kind, motif_at in (("donor", slice(200, 202)), ("acceptor", slice(198, 200))):
            sites = splice_site_examples(genome, transcripts, kind, seed=3)
            positives = {(e.strand, e.boundary): e.sequence for e in sites.examples if e.label == 1}
            assert positives == expected[kind]
            decoys = [e for e in sites.examples if e.label == 0]
            assert len(decoys) == len(positives) and not sites.skipped
            motif = "GT" if kind == "donor" else "AG"
            # most annotated sites are canonical; every decoy carries the motif at the site's place
            assert np.mean([s[motif_at] == motif for s in positives.values()]) > 0.9
            for decoy in decoys:
                assert decoy.sequence[motif_at] == motif and (decoy.strand, decoy.boundary) not in positives
                assert any(s == decoy.strand and a < decoy.boundary < b for s, a, b in spans)
                window = chrom[decoy.boundary - 200 : decoy.boundary + 200]
                assert decoy.sequence == (window if decoy.strand == "+" else _rc(window))
            assert {e.strand for e in decoys} == {"+", "-"}
            again = splice_site_examples(genome, transcripts, kind, seed=3)
            assert again.examples == sites.examples  # deterministic for a seed
            other = splice_site_examples(genome, transcripts, kind, seed=4)
            assert {(e.strand, e.boundary) for e in other.examples} != {(e.strand, e.boundary) for e in sites.examples}


def test_splice_site_windows_past_a_contig_end_are_counted(tmp_path):
    import pyfaidx

    sequence = _sequence(FASTA)
    fasta = tmp_path / "short.fa"
    fasta.write_text(">chr19\n" + sequence[:120_000] + "\n")  # cuts through OR4F17's neighbourhood
    pyfaidx.Faidx(str(fasta)).close()
    gene = "\t".join(["G", "19", "+", "100", "119950", "100,1000,119900,", "500,1500,119950,"])
    table = tmp_path / "genes.tsv"
    table.write_text("#NAME\tCHROM\tSTRAND\tTX_START\tTX_END\tEXON_START\tEXON_END\n" + gene + "\n"
                     + "\t".join(["H", "7", "+", "10", "900", "10,800,", "20,900,"]) + "\n")
    with Genome(fasta) as genome:
        sites = splice_site_examples(genome, read_transcripts(table), "donor", decoys_per_site=0)
    # donors at 500 (window starts at 300: fine) and 1500; acceptors not asked; chr7 is not in the genome
    assert [e.boundary for e in sites.examples] == [500, 1500]
    assert sites.skipped == {"transcript contig not in the genome": 1}
    with Genome(fasta) as genome:
        acceptors = splice_site_examples(genome, read_transcripts(table), "acceptor", decoys_per_site=0)
    assert [e.boundary for e in acceptors.examples] == [1000]  # 119900 + 200 runs past the end
    assert acceptors.skipped["site window past a contig end"] == 1


def test_grouped_folds_keep_groups_whole_and_balanced():
    groups = ["a"] * 10 + ["b"] * 6 + ["c"] * 5 + ["d"] * 4 + ["e"] * 3 + ["f"] * 2
    folds = grouped_folds(groups, 3, seed=1)
    for group in set(groups):
        assert len({f for g, f in zip(groups, folds) if g == group}) == 1
    sizes = np.bincount(folds, minlength=3)
    assert sizes.sum() == 30 and sizes.max() - sizes.min() <= 2
    assert (grouped_folds(groups, 3, seed=1) == folds).all()
    with pytest.raises(ValueError, match="a group per fold"):
        grouped_folds(["a", "b"], 3)


def test_chromosome_folds():
    assert chromosome_folds(["chr2", "chr1", "chr3", "chr1"], 0) == [["chr1"], ["chr2"], ["chr3"]]
    six = chromosome_folds([f"chr{i}" for i in range(1, 7)], 3)
    assert six == [["chr1", "chr4"], ["chr2", "chr5"], ["chr3", "chr6"]]
    with pytest.raises(ValueError, match="at least 3 folds"):
        chromosome_folds(["chr1", "chr2"], 0)


def _prediction_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()[1:]]


def test_splice_site_finetuning_predicts_every_example_once(tmp_path, tiny_510):
    out = tmp_path / "ss"
    summary = finetune_splice_sites(SpliceSiteConfig(genome=str(FASTA), annotation=str(GENES), output_dir=str(out),
                                                     folds=3, max_epochs=1, learning_rate=1e-4, model=str(tiny_510)),
                                    progress=False)
    assert summary["task"] == "splice_sites" and summary["validation_metric"] == "auroc"
    assert set(summary["groups"]) == {"donor", "acceptor"}
    for kind in ("donor", "acceptor"):
        result = summary["groups"][kind]
        data = result["data"]
        assert data["sites"] == data["decoys"] >= 30 and data["loci"] == 7
        rows = [row for k in range(3) for row in _prediction_rows(out / f"predictions_{kind}_fold{k}.tsv")]
        assert len(rows) == data["sites"] + data["decoys"]
        assert len({(r[2], r[3]) for r in rows}) == len(rows)  # each example in exactly one test fold
        labels = np.array([int(r[5]) for r in rows])
        probs = np.array([float(r[6]) for r in rows])
        baseline = np.array([float(r[7]) for r in rows])
        assert ((probs > 0) & (probs < 1)).all()
        # every number of the summary is recomputed from the written predictions
        assert result["pooled"] == pytest.approx({"test_ap": average_precision(labels, probs),
                                                  "test_auroc": auroc(labels, probs),
                                                  "test_f1": f1_at(labels, probs)}, abs=1e-5)
        assert result["pooled_baseline"] == pytest.approx({"test_ap": average_precision(labels, baseline),
                                                           "test_auroc": auroc(labels, baseline),
                                                           "test_f1": f1_at(labels, baseline)}, abs=1e-5)
        assert result["pooled_baseline"]["test_auroc"] > 0.6, result["pooled_baseline"]  # well above chance (0.5)
        for k, fold in result["folds"].items():
            fold_rows = _prediction_rows(out / f"predictions_{kind}_{k}.tsv")
            assert len(fold_rows) == fold["test"] and fold["epochs"] == 1
            fold_labels = np.array([int(r[5]) for r in fold_rows])
            assert fold["test_auroc"] == pytest.approx(auroc(fold_labels, [float(r[6]) for r in fold_rows]), abs=1e-5)
            assert fold["baseline"]["test_auroc"] == pytest.approx(
                auroc(fold_labels, [float(r[7]) for r in fold_rows]), abs=1e-5)
            assert len({r[4] for r in fold_rows} & {r[4] for r in rows if r not in fold_rows}) == 0  # loci whole
        assert result["mean"]["test_auroc"] == pytest.approx(np.mean([f["test_auroc"] for f in result["folds"].values()]))
    assert json.loads((out / "summary.json").read_text())["groups"]["donor"]["data"] == summary["groups"]["donor"]["data"]


def test_finetune_entry_point_errors(tmp_path, capsys, tiny_510):
    recipe = load_recipe("finetune")

    def error(*argv):
        assert recipe.main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return err

    common = ("splice_sites", f"--genome={FASTA}", f"--annotation={GENES}", f"--output_dir={tmp_path}",
              f"--model={tiny_510}")
    assert "kinds 'donor,exon'" in error(*common, "--kinds=donor,exon")
    assert "bed" in error("branchpoints", f"--genome={FASTA}", f"--output_dir={tmp_path}")
    for override, message in (("--folds=2", "folds >= 3"), ("--width=401", "even number"),
                              ("--batch_size=0", "batch_size"), ("--decoys_per_site=0", "decoys_per_site"),
                              ("--mixed_precision=fp8", "mixed_precision"),
                              (f"--genome={tmp_path}/missing.fa", "missing.fa"),
                              ("--model=/no/such/model", "/no/such/model"),
                              ("--learning_rat=1", "unknown config key")):
        assert message in error(*common, override), override


@pytest.mark.slow
def test_splice_site_finetuning_under_two_processes(tmp_path, tiny_510):
    """torchrun with 2 CPU processes: world size 2, and the gathered test predictions hold every
    test example once (no padding duplicates), the same examples as a 1-process run."""
    out = tmp_path / "ddp"
    torchrun(REPO / "training/finetune.py", "splice_sites", f"--genome={FASTA}", f"--annotation={GENES}",
             f"--output_dir={out}", "--kinds=donor", "--folds=3", "--max_folds=1", "--max_epochs=1",
             "--batch_size=5", f"--model={tiny_510}")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2
    rows = _prediction_rows(out / "predictions_donor_fold0.tsv")
    fold = summary["groups"]["donor"]["folds"]["fold0"]
    assert len(rows) == fold["test"] and fold["test"] % 10  # an odd remainder: padding had to be dropped
    with Genome(FASTA) as genome:
        examples = splice_site_examples(genome, read_transcripts(GENES), "donor").examples
    folds = grouped_folds([e.locus for e in examples], 3)
    assert [(str(e.boundary), e.strand) for e, f in zip(examples, folds, strict=True) if f == 0] == \
        [(r[2], r[3]) for r in rows]


@pytest.mark.slow
def test_genebert_splice_site_finetuning_under_two_processes(tmp_path, tiny_genebert):
    """The README's multi-process command on a GeneBERT folder: the classifier carries only the
    k-mer encoder and its head, so DDP finds no parameter without a gradient (it used to stop
    with "parameters that were not used in producing loss" when the head carried the Swin)."""
    out = tmp_path / "ddp"
    torchrun(REPO / "training/finetune.py", "splice_sites", f"--genome={FASTA}", f"--annotation={GENES}",
             f"--output_dir={out}", "--kinds=donor", "--folds=3", "--max_folds=1", "--max_epochs=1", "--width=80",
             "--batch_size=5", f"--model={tiny_genebert}")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world_size"] == 2
    fold = summary["groups"]["donor"]["folds"]["fold0"]
    assert len(_prediction_rows(out / "predictions_donor_fold0.tsv")) == fold["test"] > 0


def test_branchpoint_finetuning_runs_three_chromosome_folds(tmp_path, tiny_510):
    """Mechanics on real windows: chr19's regions copied onto two more contigs (same sequence)."""
    import pyfaidx

    from splicebert_plugin.training.finetune.engine import finetune_branchpoints

    sequence = _sequence(FASTA)
    fasta = tmp_path / "three.fa"
    fasta.write_text("".join(f">{name}\n{sequence}\n" for name in ("chr19", "chr20", "chr21")))
    pyfaidx.Faidx(str(fasta)).close()
    rows = (BRANCHPOINTS / "mercer_chr19_1-559000.hg19.bed").read_text().splitlines()
    bed = tmp_path / "bp.bed"
    bed.write_text("\n".join(row.replace("chr19", name, 1) for name in ("chr19", "chr20", "chr21") for row in rows) + "\n")
    summary = finetune_branchpoints(BranchpointConfig(bed=str(bed), genome=str(fasta), output_dir=str(tmp_path / "o"),
                                                      max_epochs=2, learning_rate=1e-4, model=str(tiny_510)),
                                    progress=False)
    assert summary["task"] == "branchpoints" and summary["validation_metric"] == "ap"
    result = summary["groups"]["branchpoints"]
    assert set(result["folds"]) == {"fold0", "fold1", "fold2"} and result["pooled_baseline"] is None
    pooled_labels, pooled_probs = [], []
    for k, fold in result["folds"].items():
        lines = (tmp_path / f"o/predictions_branchpoints_{k}.tsv").read_text().splitlines()
        assert lines[0].split("\t") == ["window", "chrom", "strand", "index", "label", "prob_bp"]
        table = [line.split("\t") for line in lines[1:]]
        assert {row[1] for row in table} == set(fold["test_chromosomes"]) and fold["train"] > 0
        labels, probs = np.array([int(r[4]) for r in table]), np.array([float(r[5]) for r in table])
        assert set(labels) == {0, 1}  # only labelled positions are written
        assert fold["test_ap"] == pytest.approx(average_precision(labels, probs), abs=1e-5)
        pooled_labels.append(labels)
        pooled_probs.append(probs)
    assert result["pooled"]["test_ap"] == pytest.approx(
        average_precision(np.concatenate(pooled_labels), np.concatenate(pooled_probs)), abs=1e-5)
    assert result["data"]["windows"] == 3 * len([r for r in rows if ",1" in r or r.split("\t")[4].startswith("1")])


def test_shipped_finetuning_recipes_load():
    from splicebert_plugin.training.config import load_config

    bp = load_config(BranchpointConfig, REPO / "training/configs/branchpoints.yaml", ["--bed=b", "--genome=g",
                                                                                      "--output_dir=o"])
    assert (bp.learning_rate, bp.weight_decay, bp.batch_size, bp.patience) == (1e-5, 1e-6, 8, 10)
    ss = load_config(SpliceSiteConfig, REPO / "training/configs/splice_sites.yaml", ["--genome=g", "--annotation=a",
                                                                                     "--output_dir=o"])
    assert (ss.width, ss.learning_rate, ss.batch_size, ss.folds, ss.patience) == (400, 1e-5, 16, 10, 10)


def test_one_hot_and_logistic_baseline():
    from splicebert_plugin.training.baselines import LogisticRegression, one_hot

    features = one_hot(["ACGTN", "TTTTT"], 1, 4)
    assert features.tolist() == [[0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], [0, 0, 0, 1] * 3]
    assert one_hot(["ACNGT"], 0, 5)[0, 8:12].tolist() == [0, 0, 0, 0]  # N: no base
    # label = "G at position 3": the regression finds it on held-out sequences
    rng = np.random.default_rng(0)
    sequences = ["".join(rng.choice(list("ACGT"), 8)) for _ in range(400)]
    labels = np.array([s[3] == "G" for s in sequences], dtype=float)
    model = LogisticRegression().fit(one_hot(sequences[:300], 0, 8), labels[:300])
    probs = model.predict_proba(one_hot(sequences[300:], 0, 8))
    assert auroc(labels[300:], probs) == 1.0 and f1_at(labels[300:], probs) == 1.0


def test_dropout_override_reaches_the_fine_tuned_model():
    from splicebert_plugin import DEMO_MODEL
    from splicebert_plugin.splicebert.modeling_splicebert import SpliceBertForSequenceClassification
    from splicebert_plugin.training.finetune.engine import load_for_task, Task

    task = Task("t", SpliceBertForSequenceClassification, 1, None, None, "auroc")
    config = SpliceSiteConfig(genome="g", annotation="a", output_dir="o", dropout=0.3)
    model = load_for_task(task, config, Path(DEMO_MODEL))
    assert model.config.hidden_dropout_prob == model.config.attention_probs_dropout_prob == 0.3
    assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.3}
    kept = load_for_task(task, SpliceSiteConfig(genome="g", annotation="a", output_dir="o"), Path(DEMO_MODEL))
    assert kept.config.hidden_dropout_prob == 0.0  # the demo model's own value
    with pytest.raises(ConfigError, match="dropout"):
        SpliceSiteConfig(genome="g", annotation="a", output_dir="o", dropout=1.5)
