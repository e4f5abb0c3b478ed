"""Motif-scan throughput of GeneBERT's region matrix, side by side with Biopython in one run.

All 579 JASPAR 2018 CORE vertebrate motifs on real sequence (the bundled hg19 chr19 slice),
both strands: ours (one float32 conv1d over integer PWMs, exact scores), a numpy gather
(vectorised per motif) and Biopython's ``PSSM.calculate`` (per motif and strand). Reports
bp x motif per second (both strands counted once, as a scan of a position) and the estimate
for the paper's corpus (504,657,456 bp x 579 motifs).

    python benchmarks/bench_genebert.py --threads 2 --bp 20000
"""

from __future__ import annotations

import argparse
import json
import time
from importlib import resources
from pathlib import Path

import numpy as np
import torch

PAPER_BP = 504_657_456


def main(argv=None) -> int:
    from Bio.Seq import Seq

    from splicebert_plugin.training.genebert.motif_scan import MotifBank, codes, region_matrix
    from splicebert_plugin.training.genebert.motifs import build_motifs, load_jaspar
    from splicebert_plugin.io.fasta import read_fasta

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--bp", type=int, default=20_000, help="nucleotides scanned by each method")
    parser.add_argument("--region-bp", type=int, default=50, help="region length of the corpus-style scan")
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    fasta = Path(str(resources.files("splicebert_plugin").joinpath("resources", "example",
                                                                   "hg19_chr19_1-560000.fa")))
    sequence = next(read_fasta(fasta))[1].upper()[300_000 : 300_000 + args.bp]
    background = [sequence.count(b) / len(sequence) for b in "ACGT"]
    raw = load_jaspar("JASPAR2018")
    motifs = build_motifs(raw, background)
    bank = MotifBank.from_motifs(motifs)
    work = len(sequence) * len(motifs)
    rows = {}

    regions = [sequence[i : i + args.region_bp] for i in range(0, len(sequence) - args.region_bp + 1, args.region_bp)]
    region_matrix(bank, regions[:64])  # warm-up
    start = time.perf_counter()
    region_matrix(bank, regions)
    rows["ours: conv1d, corpus regions (hits + max per region)"] = work / (time.perf_counter() - start)

    start = time.perf_counter()
    code = codes(sequence)
    for motif in motifs:
        w = motif.weight_array()
        length = w.shape[1]
        windows = np.lib.stride_tricks.sliding_window_view(code, length)
        forward = w[windows, np.arange(length)].sum(axis=1)
        reverse = w[3 - windows[:, ::-1], np.arange(length)].sum(axis=1)
        np.maximum(forward, reverse)
    rows["numpy gather per motif (both strands)"] = work / (time.perf_counter() - start)

    by_id = {m.matrix_id: m for m in raw}
    bg = dict(zip("ACGT", background))
    pssms = [by_id[m.matrix_id].counts.normalize(pseudocounts={b: 0.8 * bg[b] for b in "ACGT"}).log_odds(bg)
             for m in motifs]
    seq = Seq(sequence)
    start = time.perf_counter()
    for pssm in pssms:
        pssm.calculate(seq)
        pssm.reverse_complement().calculate(seq)
    rows["Biopython PSSM.calculate (both strands)"] = work / (time.perf_counter() - start)

    ours = rows["ours: conv1d, corpus regions (hits + max per region)"]
    print(f"torch {torch.__version__}, {args.threads} threads; {len(sequence):,} bp x {len(motifs)} motifs")
    print(f"{'method':<55} {'bp x motif / s':>15} {'ours / method':>14} {'paper corpus':>13}")
    for name, rate in rows.items():
        hours = PAPER_BP * len(motifs) / rate / 3600
        print(f"{name:<55} {rate / 1e6:>13.1f} M {ours / rate:>13.2f}x {hours:>11.1f} h")
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": args.threads, "bp": len(sequence), "motifs": len(motifs),
                                               "rates": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
