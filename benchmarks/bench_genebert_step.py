"""GeneBERT pretraining step cost, side by side with a SpliceBERT MLM step in one run.

Both models at the ``demo`` text-encoder size (4 layers x 128, 4 heads, dropout 0), one
forward + backward + AdamW step on the same number of tokens (batch x 453: 10 regions x 45
6-mers + 3). Rows: the SpliceBERT MLM step (the baseline); GeneBERT with lambda = 0 (MLM + NSP:
the text encoder alone); the whole GeneBERT step (lambda = 0.5), as the training loop runs it
(the k-mer head on the masked positions only) and with the head on every position; and parts
measured alone: the region encoder (Swin over the 10 x 579 matrix) forward + backward, and the
matching loss on given embeddings; and gradient accumulation over two half batches with the
matching loss per micro-batch (``srm_batch: micro``) or over the whole batch with cached
embeddings (``srm_batch: optimizer``: one extra forward pass without a graph per micro-batch).
The ratio column is each row's time over the SpliceBERT step.

    python benchmarks/bench_genebert_step.py --threads 2 --batch 16
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch


def _timed(step, repeats: int) -> float:
    step()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _optimised(model, loss_fn):
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step():
        optimizer.zero_grad()
        loss_fn().backward()
        optimizer.step()
    return step


def main(argv=None) -> int:
    from splicebert_plugin.splicebert.configuration_splicebert import SpliceBertConfig
    from splicebert_plugin.genebert import GeneBertConfig, GeneBertForPreTraining
    from splicebert_plugin.splicebert.modeling_splicebert import SpliceBertForMaskedLM
    from splicebert_plugin.training.genebert.samples import span_mask

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b = args.batch

    genebert = GeneBertForPreTraining(GeneBertConfig.from_preset("demo"))
    config = genebert.config
    length = config.num_regions * (config.region_bp - config.kmer + 1) + 3
    ids = torch.randint(5, config.vocab_size, (b, length))
    ids[:, 0], ids[:, length // 2], ids[:, -1] = 2, 3, 3
    types = torch.zeros_like(ids)
    types[:, length // 2 + 1 :] = 1
    masked, labels = span_mask(ids, config.kmer, torch.Generator().manual_seed(1))
    regions = (torch.rand(b, config.num_regions, config.num_tfs) < 0.05).float()
    nsp = torch.randint(0, 2, (b,))

    splicebert = SpliceBertForMaskedLM(SpliceBertConfig(
        hidden_size=config.hidden_size, num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads, intermediate_size=config.intermediate_size,
        max_position_embeddings=512, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0))
    nucleotides = torch.randint(6, 10, (b, length))
    nucleotides[:, 0], nucleotides[:, -1] = 2, 3
    nt_labels = torch.where(torch.rand(b, length) < 0.15, nucleotides, torch.full_like(nucleotides, -100))

    rows = {}
    rows["SpliceBERT MLM step (baseline)"] = _timed(_optimised(splicebert, lambda: splicebert(
        input_ids=nucleotides, labels=nt_labels).loss), args.repeats)
    def genebert_step(**extra):
        return _optimised(genebert, lambda: genebert(input_ids=masked, token_type_ids=types, labels=labels,
                                                     next_sentence_label=nsp, **extra).loss)

    # the training loop's step: the k-mer head on the masked positions only
    rows["GeneBERT lambda 0 (MLM + NSP)"] = _timed(genebert_step(masked_logits_only=True), args.repeats)
    rows["GeneBERT lambda 0.5 (MLM + NSP + SRM)"] = _timed(
        genebert_step(masked_logits_only=True, region_values=regions), args.repeats)
    rows["  the same, k-mer head on every position"] = _timed(genebert_step(region_values=regions), args.repeats)
    # gradient accumulation over 2 micro-batches of b/2: matching per micro-batch (srm_batch=micro)
    # against the matching loss over the whole batch with cached embeddings (srm_batch=optimizer)
    from splicebert_plugin.training.genebert.cached_matching import cached_matching_step, split_batch

    data = {"token_type_ids": types, "next_sentence_label": nsp, "region_values": regions}
    chunks = split_batch(data, masked, labels, max(1, b // 2))

    def forward(model, chunk, matching=True):
        return model(input_ids=chunk.input_ids, labels=chunk.labels, masked_logits_only=True,
                     compute_matching_loss=matching, **chunk.batch)

    optimizer = torch.optim.AdamW(genebert.parameters(), lr=1e-4)

    def micro_step():
        optimizer.zero_grad()
        for chunk in chunks:
            (forward(genebert, chunk).loss / len(chunks)).backward()
        optimizer.step()

    def cached_step():
        optimizer.zero_grad()
        cached_matching_step(genebert, genebert, chunks, lambda m, c: forward(m, c, False),
                             srm_weight=config.srm_weight)
        optimizer.step()

    rows["  2 micro-batches, matching per micro-batch"] = _timed(micro_step, args.repeats)
    rows["  2 micro-batches, matching over both (cached)"] = _timed(cached_step, args.repeats)
    rows["  region encoder alone (Swin fwd + bwd)"] = _timed(_optimised(genebert, lambda: genebert.encode_regions(
        regions).square().mean()), args.repeats)
    seq = torch.randn(b, config.srm_dim, requires_grad=True)
    region = torch.randn(b, config.srm_dim, requires_grad=True)
    rows["  matching loss alone (fwd + bwd)"] = _timed(lambda: genebert.matching_loss(seq, region).backward(),
                                                       args.repeats)

    baseline = rows["SpliceBERT MLM step (baseline)"]
    print(f"torch {torch.__version__}, {args.threads} threads; batch {b} x {length} tokens, "
          f"text encoder {config.num_hidden_layers} x {config.hidden_size}, Swin over {config.num_regions} x "
          f"{config.num_tfs}; median of {args.repeats}")
    print(f"{'step':<48}{'seconds':>10}{'x baseline':>12}")
    for name, seconds in rows.items():
        print(f"{name:<48}{seconds:>10.3f}{seconds / baseline:>11.2f}x")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"batch": b, "tokens": length, "threads": args.threads, "seconds": rows}, handle, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
