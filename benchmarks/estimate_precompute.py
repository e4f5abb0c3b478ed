"""Back-of-the-envelope cost of ``splicebert precompute`` over every annotated exon +-N nt.

Counts the positions (exons of the annotation with ``--flank`` nt each side, merged), the model
passes (one WT pass shared by the three ALTs, plus three MT passes: 4 per position and
overlapping gene; positions in two genes are counted once here, so this is a lower bound), and
the FLOPs of one pass counted by ``torch.utils.flop_counter`` on the SpliceBERT.510nt
architecture (512 tokens). Prints the total and the time on 1 and 8 GPUs at the sustained rates
given (defaults: 400 TFLOP/s bf16 and 40 TFLOP/s fp32 per GPU, i.e. about 40 % and 60 % of an
H100's dense peaks: assumptions, not measurements), and on this CPU at the fp32 rate measured
here by ``bench_precision.py`` (``--cpu-variants-per-s``).

    python benchmarks/estimate_precompute.py -A grch38.txt --flank 50
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import torch

from splicebert_plugin.checkpoints import load_masked_lm, write_random_original_checkpoint
from splicebert_plugin.io.annotation import read_annotation
from splicebert_plugin.scoring.precompute import exon_intervals, merge_intervals


def merged_length(intervals) -> int:
    """Positions covered by ``intervals`` once overlaps are merged (the regions precompute scores)."""
    intervals = list(intervals)
    merged = merge_intervals(intervals, sorted({chrom for chrom, _, _ in intervals}))
    return sum(end - start for _, start, end in merged)


def flops_per_pass(width: int = 510) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with tempfile.TemporaryDirectory() as tmp:
        # eager attention: its matmuls are counted (the CPU SDPA kernel has no FLOP formula)
        model = load_masked_lm(write_random_original_checkpoint(Path(tmp) / "m", seed=0),
                               attn_implementation="eager").eval()
    ids = torch.full((1, width + 2), 6)
    ids[0, 0], ids[0, -1] = 2, 3
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model(input_ids=ids)
    return float(counter.get_total_flops())


def hours(flop: float, rate_tflops: float, gpus: int) -> float:
    return flop / (rate_tflops * 1e12 * gpus) / 3600


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-A", "--annotation", required=True)
    parser.add_argument("--flank", type=int, default=50)
    parser.add_argument("--bf16-tflops", type=float, default=400.0)
    parser.add_argument("--fp32-tflops", type=float, default=40.0)
    parser.add_argument("--cpu-variants-per-s", type=float, default=3.21,
                        help="fp32 SNVs/s of the 510-nt architecture on this CPU (bench_precision.py)")
    args = parser.parse_args(argv)

    genes = read_annotation(args.annotation)
    positions = merged_length(exon_intervals(genes, args.flank))
    passes = 4 * positions
    per_pass = flops_per_pass()
    total = passes * per_pass
    print(f"{len(genes)} genes; exons +-{args.flank} nt merged: {positions:,} positions, {3 * positions:,} SNVs, "
          f"{passes:,} passes")
    print(f"FLOPs per pass (SpliceBERT.510nt, 512 tokens, counted): {per_pass / 1e9:.2f} GFLOP; total "
          f"{total:.3g} FLOP")
    for label, rate in (("bf16", args.bf16_tflops), ("fp32", args.fp32_tflops)):
        print(f"  {label} at {rate:g} TFLOP/s per GPU: {hours(total, rate, 1):.1f} h on 1 GPU, "
              f"{hours(total, rate, 8):.1f} h on 8")
    cpu_hours = 3 * positions / args.cpu_variants_per_s / 3600
    print(f"  this CPU (2 cores, fp32, {args.cpu_variants_per_s:g} SNVs/s measured): {cpu_hours:,.0f} h")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
