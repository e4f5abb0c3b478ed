"""The GeneBERT results table: promoter-core classification by every pretraining arm and baseline.

    python training/genebert/evaluate_demo.py --work runs/genebert_demo [--seeds 0,1,2] \
        [--sets genomic,deepromoter] [--arms genebert,mlm_nsp,mlm,random] [--splice-width 80] [--key=value ...]

Needs the folders of ``training/genebert/make_demo_model.py`` (pieces, genes, the arms' final
models). For each negative set, arm and seed it fine-tunes with leave-one-contig-out
(``training/finetune.py promoters``; a run whose summary exists is reused), then pools each
run's test predictions over the folds and reports, per arm, the mean over seeds of AUROC, AP and
macro precision / recall at 0.5, with 95 % bootstrap intervals (examples resampled, the same
resample for every seed). The count baselines (logistic regressions on GC + CpG o/e + CpG
density, and on the 3-mer spectrum) are fitted on the same training folds. Arms: ``genebert``
(lambda 0.5), ``mlm_nsp`` (lambda 0), ``mlm`` (MLM only), ``random`` (the architecture with
random weights), same data and steps. Then the splice-site table (``--splice-width``, default
80 nt, the shortest context of the GeneBERT paper's Table 4 (its SpliceAI-style splicing task); donors and acceptors with as many
decoys, 5 locus-grouped folds, at most 4 epochs at lr 1e-4, one seed, against a one-hot logistic
regression on +-30 nt).
Writes ``results.json`` and ``results.md`` into the work folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ARMS = ("genebert", "mlm_nsp", "mlm", "random")
LABELS = {"genebert": "GeneBERT (lambda 0.5)", "mlm_nsp": "lambda 0 (MLM + NSP)", "mlm": "MLM only",
          "random": "random init", "composition": "GC + CpG logistic", "kmer3": "3-mer logistic",
          "onehot": "one-hot +-30 nt logistic"}


def _metrics(labels: np.ndarray, probs: np.ndarray) -> dict:
    from splicebert_plugin.analysis.metrics import auroc, average_precision, macro_precision_recall

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


def _pooled(run_dir: Path, group: str, key_columns: int) -> dict:
    """``{example key: (label, probability, baseline probability or None)}`` over every fold of a
    run; the key is the first ``key_columns`` columns, then come (optional name,) label, probability,
    baseline."""
    out = {}
    for path in sorted(run_dir.glob(f"predictions_{group}_fold*.tsv")):
        for line in path.read_text().splitlines()[1:]:
            fields = line.split("\t")
            label, prob, base = fields[-3:]
            out[tuple(fields[:key_columns])] = (int(label), float(prob), float(base) if base else None)
    return out


def _kmer_baseline(genome: str, annotation: str, negatives: str, folds_from: dict) -> dict:
    """3-mer spectrum logistic regression with the fine-tuning's folds (train = not test, not validation)."""
    from splicebert_plugin.io.annotation import read_transcripts
    from splicebert_plugin.io.genome import Genome
    from splicebert_plugin.training.baselines import fit_predict, kmer_spectrum
    from splicebert_plugin.training.finetune.promoters import promoter_examples

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
            out[(e.chrom, str(e.start), str(e.end), e.strand, e.source)] = float(p)
    return out


def _model_of(work: Path, arm: str) -> Path:
    return work / f"pretrain_{'genebert' if arm == 'random' else arm}" / "final"


def _run_arms(work: Path, arms, seeds, out_root: Path, config_class, finetune, settings: list[str]) -> dict:
    """Fine-tune every arm x seed (reusing finished runs); ``{arm: [run folder, ...]}``."""
    from splicebert_plugin.training.config import load_config

    runs = {}
    for arm in arms:
        for seed in seeds:
            out = out_root / arm / f"seed{seed}"
            if not (out / "summary.json").is_file():
                finetune(load_config(config_class, None, [
                    *settings, f"--model={_model_of(work, arm)}", f"--output_dir={out}", f"--seed={seed}",
                    f"--init={'random' if arm == 'random' else 'pretrained'}"]))
            runs.setdefault(arm, []).append(out)
    return runs


def _table(runs: dict, group: str, key_columns: int, baselines: dict, n_boot: int) -> dict:
    """Per arm (and per baseline: ``{name: {key: probability}}`` or ``"file"`` for the baseline
    column of the predictions) the summary over seeds, on the examples every run predicted."""
    pooled = {arm: [_pooled(folder, group, key_columns) for folder in folders] for arm, folders in runs.items()}
    first = next(iter(pooled.values()))[0]
    keys = sorted(first)
    for arm_runs in pooled.values():
        if any(sorted(run) != keys for run in arm_runs):
            raise SystemExit(f"{group}: the runs did not predict the same examples (different data settings?)")
    labels = np.array([first[k][0] for k in keys])
    table = {arm: summarise(labels, [np.array([run[k][1] for k in keys]) for run in arm_runs], n_boot=n_boot)
             for arm, arm_runs in pooled.items()}
    for name, values in baselines.items():
        column = [first[k][2] for k in keys] if values == "file" else [values[k] for k in keys]
        table[name] = summarise(labels, [np.array(column)], n_boot=n_boot)
    return table


def _markdown(results: dict, first_column: str) -> str:
    lines = [f"| {first_column} | model | runs | AUROC | AP | macro precision | macro recall |",
             "|---|---|---|---|---|---|---|"]
    for name, table in results.items():
        for model, row in table.items():
            cells = [f"{row[m]['mean']:.3f} ({row[m]['low']:.2f}-{row[m]['high']:.2f})"
                     for m in ("auroc", "ap", "macro_precision", "macro_recall")]
            lines.append(f"| {name} | {LABELS[model]} | {row['runs']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def promoter_results(work: Path, arms, seeds, sets, overrides, n_boot: int) -> dict:
    from splicebert_plugin.training.finetune.promoter_tasks import PromoterConfig, finetune_promoters

    genome, annotation = work / "pieces.fa", work / "genes.tsv"
    results = {}
    for negatives in sets:
        group = f"promoters_{negatives}"
        runs = _run_arms(work, arms, seeds, work / "promoters" / negatives, PromoterConfig, finetune_promoters,
                         [f"--genome={genome}", f"--annotation={annotation}", f"--negatives={negatives}", *overrides])
        folds = json.loads((runs[arms[0]][0] / "summary.json").read_text())["groups"][group]["folds"]
        kmer = _kmer_baseline(str(genome), str(annotation), negatives, folds)
        results[negatives] = _table(runs, group, 5, {"composition": "file", "kmer3": kmer}, n_boot)
    return results


def splice_results(work: Path, arms, seed: int, width: int, overrides, n_boot: int) -> dict:
    """Donor and acceptor windows of ``width`` nt: one seed (the seed also draws the decoys and
    the folds, so every arm sees the same examples), one-hot baseline on +-30 nt."""
    from splicebert_plugin.training.finetune.engine import SpliceSiteConfig, finetune_splice_sites

    settings = [f"--genome={work / 'pieces.fa'}", f"--annotation={work / 'genes.tsv'}", f"--width={width}",
                "--folds=5", "--learning_rate=1e-4", "--max_epochs=4", "--patience=2", "--plateau_patience=1",
                "--batch_size=32", *overrides]
    runs = _run_arms(work, arms, [seed], work / "splice_sites" / f"{width}nt", SpliceSiteConfig,
                     finetune_splice_sites, settings)
    return {f"{kind} {width} nt": _table(runs, kind, 5, {"onehot": "file"}, n_boot) for kind in ("donor", "acceptor")}


def main(argv=None) -> int:
    from splicebert_plugin.io.outputs import write_text_atomic
    from splicebert_plugin.training.config import ConfigError

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, help="the folder of make_demo_model.py")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--sets", default="genomic,deepromoter")
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--splice-width", type=int, default=80, help="splice-site windows (0 = skip that table)")
    parser.add_argument("--n-boot", type=int, default=1000)
    args, overrides = parser.parse_known_args(argv)
    work = Path(args.work)
    seeds = [int(s) for s in args.seeds.split(",")]
    arms = [a for a in args.arms.split(",") if a]
    unknown = sorted(set(arms) - set(ARMS))
    if unknown or not arms:
        parser.error(f"--arms: choose among {','.join(ARMS)}")
    missing = [str(path) for path in [work / "pieces.fa", work / "genes.tsv",
                                      *{_model_of(work, arm) for arm in arms}] if not path.exists()]
    if missing:
        print(f"evaluate_demo: error: {', '.join(missing)} not found: run training/genebert/make_demo_model.py "
              f"--data ... --work {work} --arms ... first", file=sys.stderr)
        return 2
    try:
        results = {"promoters": promoter_results(work, arms, seeds, [s for s in args.sets.split(",") if s],
                                                 overrides, args.n_boot)}
        text = _markdown(results["promoters"], "negatives")
        if args.splice_width:
            results["splice_sites"] = splice_results(work, arms, seeds[0], args.splice_width, overrides, args.n_boot)
            text += "\n" + _markdown(results["splice_sites"], "sites")
    except (ConfigError, FileNotFoundError, ValueError) as error:
        print(f"evaluate_demo: error: {error}", file=sys.stderr)
        return 2
    write_text_atomic(work / "results.json", json.dumps(results, indent=2) + "\n")
    write_text_atomic(work / "results.md", text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
