"""The GeneBERT results table: promoter-core classification by every pretraining arm and baseline.

    python training/genebert/evaluate_demo.py --work runs/genebert_demo [--seeds 0,1,2] \
        [--sets genomic,deepromoter] [--arms genebert,mlm_nsp,mlm,random] [--key=value ...]

Needs the folders of ``training/genebert/make_demo_model.py`` (pieces, genes, the arms' final
models). For each negative set, arm and seed it fine-tunes with leave-one-contig-out
(``training/finetune.py promoters``; a run whose summary exists is reused), then pools each
run's test predictions over the folds and reports, per arm, the mean over seeds of AUROC, AP and
macro precision / recall at 0.5, with 95 % bootstrap intervals (examples resampled, the same
resample for every seed). The count baselines (logistic regressions on GC + CpG o/e + CpG
density, and on the 3-mer spectrum) are fitted on the same training folds. Arms: ``genebert``
(lambda 0.5), ``mlm_nsp`` (lambda 0), ``mlm`` (MLM only), ``random`` (the architecture with
random weights), same data and steps. Writes ``promoters/results.json`` and ``results.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ARMS = ("genebert", "mlm_nsp", "mlm", "random")
LABELS = {"genebert": "GeneBERT (lambda 0.5)", "mlm_nsp": "lambda 0 (MLM + NSP)", "mlm": "MLM only",
          "random": "random init", "composition": "GC + CpG logistic", "kmer3": "3-mer logistic"}


def _metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    from splicebert_plugin.metrics import auroc, average_precision, macro_precision_recall

    precision, recall = macro_precision_recall(labels, probs)
    return {"auroc": auroc(labels, probs), "ap": average_precision(labels, probs), "macro_precision": precision,
            "macro_recall": recall}


def summarise(labels: np.ndarray, runs: list[np.ndarray], *, n_boot: int = 1000, seed: int = 0) -> dict:
    """Mean over runs (seeds) of each metric, and percentile 95 % intervals of that mean over
    bootstrap resamples of the examples (one resample shared by all runs)."""
    point = {name: float(np.mean([_metrics(labels, run)[name] for run in runs])) for name in _metrics(labels, runs[0])}
    rng = np.random.default_rng(seed)
    draws = {name: [] for name in point}
    while len(draws["auroc"]) < n_boot:
        pick = rng.integers(0, len(labels), len(labels))
        if not 0 < labels[pick].sum() < len(pick):
            continue
        for name in point:
            draws[name].append(np.mean([_metrics(labels[pick], run[pick])[name] for run in runs]))
    out = {}
    for name, value in point.items():
        low, high = np.percentile(draws[name], [2.5, 97.5])
        out[name] = {"mean": value, "low": float(low), "high": float(high)}
    return {**out, "runs": len(runs), "n": int(len(labels)), "positives": int(labels.sum())}


def _pooled(run_dir: Path, group: str) -> dict:
    """``{example key: (label, probability, composition baseline)}`` over every fold of a run."""
    out = {}
    for path in sorted(run_dir.glob(f"predictions_{group}_fold*.tsv")):
        for line in path.read_text().splitlines()[1:]:
            chrom, start, end, strand, source, gene, label, prob, base = line.split("\t")
            out[(chrom, int(start), int(end), strand, source)] = (int(label), float(prob), float(base))
    return out


def _kmer_baseline(genome: str, annotation: str, negatives: str, folds_from: dict) -> dict:
    """3-mer spectrum logistic regression with the fine-tuning's folds (train = not test, not validation)."""
    from splicebert_plugin.io.annotation import read_transcripts
    from splicebert_plugin.io.genome import Genome
    from splicebert_plugin.training.baselines import fit_predict, kmer_spectrum
    from splicebert_plugin.training.promoters import promoter_examples

    with Genome(genome) as handle:
        examples = promoter_examples(handle, read_transcripts(annotation), negatives, seed=0).examples
    out = {}
    for fold in folds_from.values():
        test, valid = set(fold["test_contigs"]), set(fold["valid_contigs"])
        train = [e for e in examples if e.chrom not in test | valid]
        tested = [e for e in examples if e.chrom in test]
        probs = fit_predict(kmer_spectrum([e.sequence for e in train]), np.array([e.label for e in train]),
                            kmer_spectrum([e.sequence for e in tested]))
        for e, p in zip(tested, probs):
            out[(e.chrom, e.start, e.end, e.strand, e.source)] = float(p)
    return out


def main(argv=None) -> int:
    from splicebert_plugin.training.config import load_config
    from splicebert_plugin.training.finetune_promoters import PromoterConfig, finetune_promoters

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="the folder of make_demo_model.py")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default="genomic,deepromoter")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--n-boot", type=int, default=1000)
    args, overrides = parser.parse_known_args(argv)
    work = Path(args.work)
    seeds = [int(s) for s in args.seeds.split(",")]
    arms = [a for a in args.arms.split(",") if a]
    genome, annotation = work / "pieces.fa", work / "genes.tsv"
    results = {}
    for negatives in [s for s in args.sets.split(",") if s]:
        group = f"promoters_{negatives}"
        runs, folds = {}, None
        for arm in arms:
            model = work / f"pretrain_{'genebert' if arm == 'random' else arm}" / "final"
            for seed in seeds:
                out = work / "promoters" / negatives / arm / f"seed{seed}"
                if not (out / "summary.json").is_file():
                    config = load_config(PromoterConfig, None, [
                        f"--genome={genome}", f"--annotation={annotation}", f"--negatives={negatives}",
                        f"--model={model}", f"--output_dir={out}", f"--seed={seed}",
                        f"--init={'random' if arm == 'random' else 'pretrained'}", *overrides])
                    finetune_promoters(config)
                summary = json.loads((out / "summary.json").read_text())
                folds = summary["groups"][group]["folds"]
                runs.setdefault(arm, []).append(_pooled(out, group))
        keys = sorted(next(iter(runs.values()))[0])
        labels = np.array([runs[arms[0]][0][k][0] for k in keys])
        table = {arm: summarise(labels, [np.array([run[k][1] for k in keys]) for run in arm_runs],
                                n_boot=args.n_boot) for arm, arm_runs in runs.items()}
        table["composition"] = summarise(labels, [np.array([runs[arms[0]][0][k][2] for k in keys])],
                                         n_boot=args.n_boot)
        kmer = _kmer_baseline(str(genome), str(annotation), negatives, folds)
        table["kmer3"] = summarise(labels, [np.array([kmer[k] for k in keys])], n_boot=args.n_boot)
        results[negatives] = table
    (work / "promoters").mkdir(parents=True, exist_ok=True)
    (work / "promoters" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = ["| negatives | model | runs | AUROC | AP | macro precision | macro recall |", "|---|---|---|---|---|---|---|"]
    for negatives, table in results.items():
        for name, row in table.items():
            cells = [f"{row[m]['mean']:.3f} ({row[m]['low']:.2f}-{row[m]['high']:.2f})"
                     for m in ("auroc", "ap", "macro_precision", "macro_recall")]
            lines.append(f"| {negatives} | {LABELS[name]} | {row['runs']} | " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    (work / "promoters" / "results.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
