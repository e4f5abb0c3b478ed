"""Promoter and TFBS fine-tuning from a GeneBERT folder (and the model-family switch), on real
sequence cut into three contigs so that leave-one-contig-out has its three folds."""

from pathlib import Path

import numpy as np
import pytest
import torch

from splicebert_plugin.analysis.metrics import auroc
from splicebert_plugin.training.finetune.engine import model_family
from splicebert_plugin.training.finetune.promoter_tasks import (PromoterConfig, TfbsConfig, finetune_promoters,
                                                           finetune_tfbs)

from .conftest import FASTA, GENES, load_recipe, read_fasta_text

SEGMENTS = {"chrA": (0, 200_000), "chrB": (200_000, 400_000), "chrC": (400_000, 560_000)}


@pytest.fixture(scope="module")
def three_contigs(tmp_path_factory):
    """The example's chr19 slice as three contigs, its 7 genes moved into them."""
    folder = tmp_path_factory.mktemp("three")
    text = read_fasta_text(FASTA)
    fasta = folder / "three.fa"
    fasta.write_text("".join(f">{name}\n{text[a:b]}\n" for name, (a, b) in SEGMENTS.items()))
    lines = [GENES.read_text().splitlines()[0]]
    for line in GENES.read_text().splitlines()[1:]:
        name, _, strand, start, end, exon_starts, exon_ends = line.split("\t")[:7]
        contig, (offset, _) = next((c, span) for c, span in SEGMENTS.items() if span[0] <= int(start) < span[1])
        shift = lambda text: ",".join(str(int(x) - offset) for x in text.split(",") if x) + ","  # noqa: E731
        lines.append("\t".join([name, contig, strand, str(int(start) - offset), str(int(end) - offset),
                                shift(exon_starts), shift(exon_ends)]))
    genes = folder / "genes.tsv"
    genes.write_text("\n".join(lines) + "\n")
    return fasta, genes


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()[1:]]


def test_model_family_follows_the_folder(tiny_genebert, tiny_510):
    genebert = model_family(str(tiny_genebert))
    from splicebert_plugin.genebert import GeneBertForTokenClassification

    assert genebert.name == "genebert" and genebert.token_class is GeneBertForTokenClassification
    assert genebert.kmer == 3 and genebert.max_nucleotides(tiny_genebert) == 128  # 128 positions of 3-mers
    ids = genebert.encode(["ACGTAC", "TTTTTT"])  # k = 3: [CLS] 4 k-mers [SEP]
    assert ids.shape == (2, 6) and (ids[:, 0] == 2).all() and (ids[:, -1] == 3).all()
    splicebert = model_family(str(tiny_510))
    assert splicebert.name == "splicebert" and splicebert.kmer == 1


def test_promoter_finetuning_leaves_one_contig_out(three_contigs, tiny_genebert, tmp_path):
    fasta, genes = three_contigs
    out = tmp_path / "prom"
    summary = finetune_promoters(PromoterConfig(genome=str(fasta), annotation=str(genes), output_dir=str(out),
                                                model=str(tiny_genebert), max_epochs=2, batch_size=4),
                                 progress=False)
    assert summary["family"] == "genebert" and summary["task"] == "promoters"
    result = summary["groups"]["promoters_genomic"]
    assert result["data"]["positives"] == 7 and result["data"]["contigs"] == ["chrA", "chrB", "chrC"]
    rows = [row for k in range(3) for row in _rows(out / f"predictions_promoters_genomic_fold{k}.tsv")]
    assert len(rows) == result["data"]["positives"] + result["data"]["negatives"]
    for k, fold in result["folds"].items():
        fold_rows = _rows(out / f"predictions_promoters_genomic_{k}.tsv")
        assert {r[0] for r in fold_rows} == set(fold["test_contigs"]) and len(fold["test_contigs"]) == 1
        assert fold["valid_contigs"] != fold["test_contigs"]
    labels = np.array([int(r[6]) for r in rows])
    assert result["pooled"]["test_auroc"] == pytest.approx(auroc(labels, [float(r[7]) for r in rows]), abs=1e-5)
    assert result["pooled_baseline"]["test_auroc"] == pytest.approx(auroc(labels, [float(r[8]) for r in rows]),
                                                                    abs=1e-5)


def test_random_init_and_deepromoter_negatives(three_contigs, tiny_genebert, tmp_path):
    from safetensors.torch import load_file

    fasta, genes = three_contigs
    common = dict(genome=str(fasta), annotation=str(genes), model=str(tiny_genebert), max_epochs=1, max_folds=1,
                  negatives="deepromoter")
    finetune_promoters(PromoterConfig(output_dir=str(tmp_path / "p"), **common), progress=False)
    summary = finetune_promoters(PromoterConfig(output_dir=str(tmp_path / "r"), init="random", **common),
                                 progress=False)
    assert summary["groups"]["promoters_deepromoter"]["data"]["negatives"] == 7
    pretrained = load_file(tmp_path / "p/base_model/model.safetensors")
    random = load_file(tmp_path / "r/base_model/model.safetensors")
    original = load_file(tiny_genebert / "model.safetensors")
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(pretrained[key], original[key]) and not torch.equal(random[key], original[key])


def test_tfbs_pipeline_on_peaks(three_contigs, tiny_genebert, tmp_path):
    fasta, _ = three_contigs
    peaks = tmp_path / "peaks.bed"
    starts = range(5000, 150_000, 9000)
    peaks.write_text("".join(f"{c}\t{s}\t{s + 300}\n" for c in SEGMENTS for s in starts)
                     + "chrZ\t10\t400\nchrC\t159990\t160100\n")  # another contig; a window past the end
    out = tmp_path / "tfbs"
    summary = finetune_tfbs(TfbsConfig(peaks=str(peaks), genome=str(fasta), output_dir=str(out), width=60,
                                       model=str(tiny_genebert), max_epochs=1), progress=False)
    data = summary["groups"]["tfbs"]["data"]
    text = read_fasta_text(FASTA)  # chrA begins in chr19's telomeric Ns: those windows are skipped
    usable = sum("N" not in text[a + s + 150 - 30 : a + s + 150 + 30] for a, _ in SEGMENTS.values() for s in starts)
    assert 0 < usable < 3 * len(starts) and data["peaks"] == usable
    # chrZ is not in the genome; the chrC peak at 159990 runs past its end
    assert data["skipped"] == {"contig not in the genome": 1, "window past a contig end": 1,
                               "window with N": 3 * len(starts) - usable}
    rows = [row for k in range(3) for row in _rows(out / f"predictions_tfbs_fold{k}.tsv")]
    assert len(rows) == 2 * data["peaks"] and sum(int(r[4]) for r in rows) == data["peaks"]


def test_finetune_recipe_errors_for_the_new_tasks(three_contigs, tiny_genebert, tmp_path, capsys):
    fasta, genes = three_contigs
    recipe = load_recipe("finetune")
    common = [f"--genome={fasta}", f"--annotation={genes}", f"--output_dir={tmp_path}", f"--model={tiny_genebert}"]
    for override, message in (("--negatives=shuffled", "negatives"), ("--folds=2", "folds"),
                              ("--init=imagenet", "init")):
        assert recipe.main(["promoters", *common, override]) == 2
        assert message in capsys.readouterr().err
    assert recipe.main(["branchpoints", f"--bed={tmp_path}/x.bed", f"--genome={fasta}", f"--output_dir={tmp_path}",
                        f"--model={tiny_genebert}"]) == 2
    assert "k-mers" in capsys.readouterr().err


@pytest.mark.slow
def test_results_table_script_end_to_end(three_contigs, tiny_genebert, tmp_path, capsys):
    """The results script on a work folder laid out like make_demo_model's: it fine-tunes each arm
    and seed, and its table's numbers are recomputed here from the predictions it wrote."""
    import json
    import shutil

    from splicebert_plugin.analysis.metrics import macro_precision_recall

    fasta, genes = three_contigs
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(fasta, work / "pieces.fa")
    shutil.copy(genes, work / "genes.tsv")
    for arm in ("genebert", "mlm"):
        shutil.copytree(tiny_genebert, work / f"pretrain_{arm}" / "final")
    recipe = load_recipe("genebert/evaluate_demo")
    argv = [f"--work={work}", "--seeds=0,1", "--sets=genomic", "--arms=genebert,mlm,random", "--n-boot=50",
            "--splice-width=60", "--max_epochs=1"]
    assert recipe.main(argv) == 0
    out = capsys.readouterr().out
    assert "| genomic | 3-mer logistic | 1 |" in out and "| donor 60 nt | one-hot +-30 nt logistic | 1 |" in out
    everything = json.loads((work / "results.json").read_text())
    assert set(everything["splice_sites"]) == {"donor 60 nt", "acceptor 60 nt"}
    donors = everything["splice_sites"]["donor 60 nt"]
    assert set(donors) == {"genebert", "mlm", "random", "onehot"} and donors["genebert"]["runs"] == 1
    site_rows = [r for k in range(5) for r in _rows(work / f"splice_sites/60nt/mlm/seed0/predictions_donor_fold{k}.tsv")]
    assert donors["mlm"]["auroc"]["mean"] == pytest.approx(auroc(np.array([int(r[5]) for r in site_rows]),
                                                                 np.array([float(r[6]) for r in site_rows])))
    assert donors["mlm"]["n"] == len(site_rows) and donors["mlm"]["positives"] == sum(int(r[5]) for r in site_rows)
    results = everything["promoters"]["genomic"]
    assert set(results) == {"genebert", "mlm", "random", "composition", "kmer3"}
    runs = []
    for seed in (0, 1):
        rows = [r for k in range(3) for r in _rows(work / f"promoters/genomic/genebert/seed{seed}/"
                                                          f"predictions_promoters_genomic_fold{k}.tsv")]
        rows.sort(key=lambda r: (r[0], int(r[1]), int(r[2]), r[3], r[4]))
        runs.append((np.array([int(r[6]) for r in rows]), np.array([float(r[7]) for r in rows])))
    labels = runs[0][0]
    row = results["genebert"]
    assert row["runs"] == 2 and row["n"] == len(labels) == 14
    assert row["auroc"]["mean"] == pytest.approx(np.mean([auroc(labels, p) for _, p in runs]))
    assert row["macro_recall"]["mean"] == pytest.approx(np.mean([macro_precision_recall(labels, p)[1]
                                                                  for _, p in runs]))
    for name in ("auroc", "ap"):
        assert row[name]["low"] <= row[name]["mean"] <= row[name]["high"] or row[name]["low"] == row[name]["high"]
    assert recipe.main(argv) == 0  # reruns reuse the finished runs
    capsys.readouterr()
    assert recipe.main([f"--work={work}", "--seeds=5", "--arms=mlm", "--max_epochs=0"]) == 2  # a new run: checked
    assert "max_epochs must be >= 1" in capsys.readouterr().err
    assert recipe.main([f"--work={tmp_path}/other"]) == 2
    err = capsys.readouterr().err
    assert "pieces.fa" in err and "pretrain_genebert" in err and "make_demo_model.py" in err


def test_splice_site_windows_from_a_genebert_folder(tiny_genebert, tmp_path):
    """The splice-site task at 80 nt (Table 4's shortest context) from GeneBERT k-mers."""
    from splicebert_plugin.training.finetune.engine import SpliceSiteConfig, finetune_splice_sites

    out = tmp_path / "ss"
    summary = finetune_splice_sites(SpliceSiteConfig(genome=str(FASTA), annotation=str(GENES), output_dir=str(out),
                                                     folds=3, max_folds=1, max_epochs=1, width=80, kinds="donor",
                                                     model=str(tiny_genebert)), progress=False)
    assert summary["family"] == "genebert"
    fold = summary["groups"]["donor"]["folds"]["fold0"]
    assert len(_rows(out / "predictions_donor_fold0.tsv")) == fold["test"] > 0
