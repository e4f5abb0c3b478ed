"""Precision modes against fp32: speed and agreement of KL-context scores, side by side in one run.

The same SNVs (random positions inside the bundled example's genes, hg19 chr19 slice) are scored
by ``VariantScorer`` (genome and annotation I/O included) with ``precision`` fp32, bf16 and int8,
on two models: the full-size SpliceBERT.510nt architecture (random weights, std 0.2: the released
weights are not reachable from this machine) and the bundled demo model (trained). For each mode:
variants/s and the speed-up over fp32 (best of ``--repeats`` timed runs after a warm-up), and the
agreement of KL_CONTEXT with fp32: Spearman correlation, max |difference|, the fraction of
variants whose rank moves by more than 1 % of the number of variants, and how many of fp32's top
10 % stay in the mode's top 10 %. A control row, ``fp32-eager`` (the same weights in fp32 with
eager instead of SDPA attention: only the order of float operations differs), shows how much a
model's scores move under rounding alone.

    python benchmarks/bench_precision.py --threads 2 --snvs 200
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from splicebert_plugin.checkpoints import load_masked_lm, write_random_original_checkpoint
from splicebert_plugin.checkpoints.resolve import resolve_model
from splicebert_plugin.io.annotation import read_annotation
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.io.vcf import parse_record
from splicebert_plugin.scoring.passes import ScoringOptions, VariantScorer
from splicebert_plugin.scoring.precision import PRECISIONS

sys.path.insert(0, str(Path(__file__).parent))
from bench_scoring import EXAMPLE, sample_snvs  # noqa: E402


def agreement(reference: np.ndarray, values: np.ndarray) -> dict[str, float]:
    """Spearman, max |diff|, the fraction of ranks moved by more than 1 % of n, and the share of
    the reference's top 10 % (largest KL-context: most disruptive) also in the mode's top 10 %."""
    n = len(reference)
    ranks_ref = pd.Series(reference).rank(method="average").to_numpy()
    ranks = pd.Series(values).rank(method="average").to_numpy()
    top = max(1, n // 10)
    top_ref, top_mode = set(np.argsort(-reference, kind="stable")[:top]), set(np.argsort(-values, kind="stable")[:top])
    return {"spearman": float(pd.Series(reference).corr(pd.Series(values), method="spearman")),
            "max_abs_diff": float(np.max(np.abs(values - reference))),
            "rank_moved_over_1pct": float(np.mean(np.abs(ranks - ranks_ref) > 0.01 * n)),
            "top10pct_kept": len(top_ref & top_mode) / top}


def run_mode(model, records, genome, genes, precision: str, batch: int, repeats: int):
    scorer = VariantScorer(model, genome, genes, ScoringOptions(batch_size=batch, scores=("KL_CONTEXT",),
                                                                precision=precision))
    list(scorer.score(records[:batch]))  # warm-up (kernels, quantised weights)
    best, results = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        results = list(scorer.score(records))
        best = min(best, time.perf_counter() - start)
    values = np.array([r.alleles[0].scores["KL_CONTEXT"] for r in results])
    return best, values


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--snvs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    genome_text = "".join(l.strip() for l in open(EXAMPLE / "hg19_chr19_1-560000.fa") if not l.startswith(">")).upper()
    genes = read_annotation(EXAMPLE / "genes.tsv")
    lines, _ = sample_snvs(genome_text, genes, args.snvs)
    records = [parse_record(line, i + 1, "bench") for i, line in enumerate(lines)]
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_random_original_checkpoint(Path(tmp) / "SpliceBERT.510nt", seed=0, init_std=0.2)
        models = {"SpliceBERT.510nt architecture (random, std 0.2)": load_masked_lm(folder).eval(),
                  "demo model": resolve_model("demo", device="cpu")[0]}
    out = {"torch": torch.__version__, "threads": args.threads, "batch": args.batch, "snvs": len(records),
           "cpu_capability": torch.backends.cpu.get_cpu_capability(), "rows": []}
    print(f"torch {torch.__version__}, {args.threads} threads ({out['cpu_capability']}), batch {args.batch}, "
          f"{len(records)} SNVs of the bundled example, best of {args.repeats}")
    print(f"{'model':<48} {'mode':<10} {'variants/s':>10} {'speed-up':>8} {'spearman':>8} {'max |diff|':>10} "
          f"{'rank moved >1%':>14} {'top 10% kept':>12}")
    with Genome(EXAMPLE / "hg19_chr19_1-560000.fa") as genome:
        for name, model in models.items():
            eager = copy.deepcopy(model)
            eager.config._attn_implementation = "eager"  # read by every attention layer at run time
            reference, t_ref = None, None
            for label, runs, precision in [*((p, model, p) for p in PRECISIONS), ("fp32-eager", eager, "fp32")]:
                seconds, values = run_mode(runs, records, genome, genes, precision, args.batch, args.repeats)
                if label == "fp32":
                    reference, t_ref = values, seconds
                row = {"model": name, "precision": label, "variants_per_s": len(records) / seconds,
                       "speed_up": t_ref / seconds, **agreement(reference, values)}
                out["rows"].append(row)
                print(f"{name:<48} {label:<10} {row['variants_per_s']:>10.2f} {row['speed_up']:>7.2f}x "
                      f"{row['spearman']:>8.4f} {row['max_abs_diff']:>10.3g} {row['rank_moved_over_1pct']:>14.1%} "
                      f"{row['top10pct_kept']:>12.0%}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
