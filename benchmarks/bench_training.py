"""Pretraining step throughput: our step against a plain transformers step, same model size and batch.

Ours: ``SpliceBertForMaskedLM`` (SDPA) on batches from ``WindowDataset`` + ``collate`` (masking
done per sample in the dataset). Baseline: transformers ``BertForMaskedLM`` (its default attention)
fed by ``DataCollatorForLanguageModeling`` (15 % masking) on the same token windows. Both: AdamW,
fp32, CPU, forward + backward + step. Reports tokens/s and the ratio, our step again without
dropout (what attention dropout costs on CPU), then a paper-scale estimate.

    python benchmarks/bench_training.py --threads 2 --batch 8 --steps 6
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from importlib import resources
from pathlib import Path

import torch
from bench_forward import (  # the script's folder is on sys.path
    machine_matmul_gflops,
    model_flops_per_token,
)


def run_steps(model, batches, steps: int) -> float:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    tokens, start = 0, None
    for i, batch in enumerate(batches[: steps + 1]):
        if i == 1:  # the first step warms up
            tokens, start = 0, time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        tokens += int(batch["attention_mask"].sum())
    return tokens / (time.perf_counter() - start)


def main(argv=None) -> int:
    from transformers import (
        BertConfig,
        BertForMaskedLM,
        DataCollatorForLanguageModeling,
        PreTrainedTokenizerFast,
    )

    from splicebert_plugin import SpliceBertConfig, SpliceBertForMaskedLM, tokenization
    from splicebert_plugin.training.splicebert.corpus import CorpusInput, TokenCorpus, build_corpus
    from splicebert_plugin.training.splicebert.data import WindowDataset, collate

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=6)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    example = Path(str(resources.files("splicebert_plugin").joinpath("resources", "example")))
    with tempfile.TemporaryDirectory() as tmp:
        corpus = TokenCorpus(build_corpus([CorpusInput(str(example / "hg19_chr19_1-560000.fa"), "human",
                                                       str(example / "genes.tsv"))], Path(tmp) / "c", validation=1,
                                          progress=False))
        data = WindowDataset(corpus, min_length=510, max_length=510, seed=0)
        n = args.batch * (args.steps + 1)
        ours_batches = [collate([data[(i + j) % len(data)] for j in range(args.batch)]) for i in range(0, n, args.batch)]
        plain = WindowDataset(corpus, min_length=510, max_length=510, seed=0, mask=False)
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=tokenization._tokenizers_backend(),
                                            **tokenization.SPECIAL_TOKENS)
        collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
        base_batches = []
        for i in range(0, n, args.batch):
            examples = [{"input_ids": plain[(i + j) % len(plain)]["input_ids"].tolist()} for j in range(args.batch)]
            batch = collator(examples)
            batch["attention_mask"] = torch.ones_like(batch["input_ids"])
            base_batches.append(batch)

    config = SpliceBertConfig(max_position_embeddings=512)
    ours = SpliceBertForMaskedLM(config)
    bert_config = BertConfig(**{k: v for k, v in config.to_dict().items() if k in BertConfig().to_dict()})
    bert = BertForMaskedLM(copy.deepcopy(bert_config))
    bert.load_state_dict(ours.state_dict(), strict=False)

    peak, _ = machine_matmul_gflops(args.batch * 512)
    rate_base = run_steps(bert, base_batches, args.steps)
    rate_ours = run_steps(ours, ours_batches, args.steps)
    # the same step without dropout: what (attention) dropout costs on CPU
    no_dropout = SpliceBertForMaskedLM(SpliceBertConfig(max_position_embeddings=512, hidden_dropout_prob=0.0,
                                                        attention_probs_dropout_prob=0.0))
    no_dropout.load_state_dict(ours.state_dict())
    rate_plain = run_steps(no_dropout, ours_batches, args.steps)
    flops = 3 * model_flops_per_token(config, 512)  # forward + backward
    print(f"torch {torch.__version__}, {args.threads} threads, batch {args.batch} x 512 tokens, "
          f"{args.steps} timed steps, fp32 matmul rate {peak:.0f} GFLOP/s")
    print(f"transformers BertForMaskedLM ({bert.config._attn_implementation}) + DataCollatorForLanguageModeling: "
          f"{rate_base:.0f} tokens/s ({rate_base * flops / 1e9 / peak:.0%} of matmul)")
    print(f"splicebert-plugin step (SDPA): {rate_ours:.0f} tokens/s ({rate_ours * flops / 1e9 / peak:.0%} of matmul); "
          f"ratio {rate_ours / rate_base:.2f}x")
    print(f"splicebert-plugin step without dropout (SDPA): {rate_plain:.0f} tokens/s "
          f"({rate_plain * flops / 1e9 / peak:.0%} of matmul); {rate_plain / rate_ours:.2f}x the step with dropout 0.1")

    # Paper stage 1 on 8 H100, estimated from the paper's own budget (7 days on 8 V100).
    v100, h100, mfu_v100, mfu_h100 = 125e12, 989e12, 0.30, 0.40  # dense fp16/bf16 peaks; assumed utilisation
    budget = 8 * v100 * mfu_v100 * 7 * 86400  # FLOPs the paper's stage 1 could have used
    tokens = budget / flops
    hours = budget / (8 * h100 * mfu_h100) / 3600
    print(f"stage-1 estimate: {flops / 1e6:.0f} MFLOP per training token (510-nt windows); the paper's 7 days on "
          f"8 V100 at an assumed {mfu_v100:.0%} utilisation = {budget:.2e} FLOP = {tokens:.2e} tokens; on 8 H100 "
          f"(bf16 dense {h100 / 1e12:.0f} TFLOP/s each) at an assumed {mfu_h100:.0%} utilisation with SDPA/flash "
          f"attention: about {hours:.0f} hours")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
