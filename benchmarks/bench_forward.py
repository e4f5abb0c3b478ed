"""Forward throughput of SpliceBertForMaskedLM against transformers' BertForMaskedLM.

Same random weights (SpliceBERT.1024nt size), same inputs, one process, CPU fp32, a fixed
number of threads (default 2). For each length (510 and 1024 nt) it reports tokens/s of:

* ``bert-eager``: transformers ``BertForMaskedLM`` with eager attention (the original scripts);
* ``bert-sdpa``: the same with SDPA (for reference);
* ``splicebert``: our ``SpliceBertForMaskedLM`` (SDPA, default settings);
* ``splicebert+compile``: the same under ``torch.compile`` (optional, ``--compile``);

the ratio to ``bert-eager``, and achieved GFLOP/s as a fraction of this machine's fp32 matrix
multiply rate measured in the same run (``torch.mm`` on the model's largest GEMM shape).

Run::

    python benchmarks/bench_forward.py --threads 2 --batch 8 --compile --json benchmarks/results/forward_cpu_2threads.json

Last results on the 2-core CI-class CPU: ``benchmarks/results/forward_cpu_2threads.txt``.
"""

from __future__ import annotations

import argparse
import copy
import json
import time

import torch
from transformers import BertConfig, BertForMaskedLM

from splicebert_plugin import SpliceBertConfig, SpliceBertForMaskedLM


def model_flops_per_token(config, length: int) -> float:
    """Multiply-adds x 2 per token of one forward pass (projections, attention, FFN, MLM head)."""
    h, f, v = config.hidden_size, config.intermediate_size, config.vocab_size
    per_layer = 2 * (4 * h * h + 2 * h * f) + 2 * 2 * length * h
    head = 2 * (h * h + h * v)
    return config.num_hidden_layers * per_layer + head


def matmul_gflops(m: int, k: int, n: int, seconds: float = 3.0) -> float:
    """Sustained fp32 ``torch.mm`` rate for an (m x k) @ (k x n) product."""
    a, b = torch.randn(m, k), torch.randn(k, n)
    for _ in range(3):
        torch.mm(a, b)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        torch.mm(a, b)
        count += 1
    return 2 * m * k * n * count / (time.perf_counter() - start) / 1e9


def machine_matmul_gflops(tokens: int, hidden: int = 512, ffn: int = 2048) -> tuple[float, list]:
    """This machine's fp32 rate: the best of the model's GEMM shapes and a large square product."""
    shapes = [(tokens, hidden, 3 * hidden), (tokens, hidden, ffn), (tokens, ffn, hidden), (2048, 2048, 2048)]
    return max(matmul_gflops(*shape, seconds=2.0) for shape in shapes), shapes


def time_forward(model, ids: torch.Tensor, seconds: float, warmup: int = 2) -> float:
    """Tokens per second of ``model(ids)`` under inference mode."""
    with torch.inference_mode():
        for _ in range(warmup):
            model(ids)
        count, start = 0, time.perf_counter()
        while True:
            model(ids)
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds and count >= 2:
                break
    return ids.numel() * count / elapsed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lengths", type=int, nargs="+", default=[510, 1024], help="nucleotides per sequence")
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per configuration and round")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best round counts")
    parser.add_argument("--compile", action="store_true", help="also time our model under torch.compile")
    parser.add_argument("--json", help="write the results here as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    config = SpliceBertConfig()  # the released 1024-nt size
    ours = SpliceBertForMaskedLM(config).eval()
    bert_config = BertConfig(**{k: v for k, v in config.to_dict().items() if k in BertConfig().to_dict()})
    # each model gets its own config: set_attn_implementation mutates the config object
    bert_eager = BertForMaskedLM._from_config(copy.deepcopy(bert_config), attn_implementation="eager").eval()
    bert_eager.load_state_dict(ours.state_dict(), strict=False)
    bert_sdpa = BertForMaskedLM._from_config(copy.deepcopy(bert_config), attn_implementation="sdpa").eval()
    bert_sdpa.load_state_dict(ours.state_dict(), strict=False)

    h, f = config.hidden_size, config.intermediate_size
    peak, shapes = machine_matmul_gflops(args.batch * 1024, h, f)
    print(f"torch {torch.__version__}, {args.threads} threads, fp32 matmul rate {peak:.1f} GFLOP/s "
          f"(best torch.mm over {shapes})")
    compiled = torch.compile(ours) if args.compile else None

    results = {"threads": args.threads, "batch": args.batch, "matmul_gflops": peak, "rows": []}
    print(f"{'length':>6} {'model':<20} {'tokens/s':>10} {'vs eager':>9} {'GFLOP/s':>8} {'of matmul':>9}")
    for nt in args.lengths:
        ids = torch.randint(5, 10, (args.batch, nt + 2))
        ids[:, 0], ids[:, -1] = 2, 3
        with torch.inference_mode():
            diff = (ours(ids).logits - bert_eager(ids).logits).abs().max().item()
        flops = model_flops_per_token(config, nt + 2)
        assert bert_eager.config._attn_implementation == "eager" and ours.config._attn_implementation == "sdpa"
        runs = [("bert-eager", bert_eager), ("bert-sdpa", bert_sdpa), ("splicebert", ours)]
        if compiled is not None:
            runs.append(("splicebert+compile", compiled))
        # interleaved rounds, best of each, so that drift of the machine hits every model alike
        best = {name: 0.0 for name, _ in runs}
        for _ in range(args.rounds):
            for name, model in runs:
                best[name] = max(best[name], time_forward(model, ids, args.seconds))
        base = best["bert-eager"]
        for name, _ in runs:
            rate = best[name]
            gflops = rate * flops / 1e9
            row = {"length_nt": nt, "model": name, "tokens_per_s": rate, "ratio_vs_bert_eager": rate / base,
                   "gflops": gflops, "fraction_of_matmul": gflops / peak, "max_abs_logit_diff": diff}
            results["rows"].append(row)
            print(f"{nt:>6} {name:<20} {rate:>10.0f} {rate / base:>8.2f}x {gflops:>8.1f} {gflops / peak:>8.0%}")
        print(f"{nt:>6} max |logit diff| ours vs bert-eager: {diff:.2e}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(results, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
