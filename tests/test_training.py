"""Corpus building, MLM masking, data determinism, pretraining (resume, 2 processes)."""

import json
import math

import numpy as np
import pytest
import torch

from splicebert_plugin.splicebert import tokenization
from splicebert_plugin.io.genome import Genome
from splicebert_plugin.training.config import ConfigError, load_config
from splicebert_plugin.training.splicebert.corpus import (VALIDATION, CorpusError, CorpusInput, TokenCorpus, build_corpus,
                                               merge_spans)
from splicebert_plugin.training.splicebert.data import LengthBucketBatchSampler, WindowDataset, collate
from splicebert_plugin.training.splicebert.masking import mask_tokens
from splicebert_plugin.training.splicebert.pretrain import PlateauHalving, PretrainConfig, pretrain
from splicebert_plugin.scoring.windows import reverse_complement

from .conftest import BRANCHPOINTS, EXAMPLE, FASTA, GENES, GTF, HG38, REPO, torchrun


def test_merge_spans():
    spans = [("1", "+", 10, 20), ("1", "+", 15, 30), ("1", "-", 12, 18), ("1", "+", 30, 40), ("2", "+", 0, 5)]
    assert merge_spans(spans) == [("1", "+", 10, 30), ("1", "+", 30, 40), ("1", "-", 12, 18), ("2", "+", 0, 5)]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus") / "c"
    inputs = [
        CorpusInput(str(FASTA), "human_hg19", str(GENES)),
        CorpusInput(str(HG38), "human_hg38", str(GTF)),
        CorpusInput(str(EXAMPLE / "TRAK1_exon1_donor_510nt.fa"), "plain"),
    ]
    return build_corpus(inputs, out, validation=3, seed=1, progress=False)


def test_corpus_holds_the_oriented_transcripts(corpus_dir):
    corpus = TokenCorpus(corpus_dir)
    meta = corpus.meta
    assert meta["species"] == ["human_hg19", "human_hg38", "plain"]
    assert meta["summary"]["human_hg19"]["sequences"] == 7  # 7 non-overlapping genes
    assert meta["summary"]["plain"]["sequences"] == 1
    assert len(corpus.split(VALIDATION)) == 3
    decoded = {tokenization.decode(corpus.window(i, 0, 10**9)) for i in range(len(corpus))}
    with Genome(FASTA) as genome:
        cdc34 = genome.fetch("chr19", 531711, 542092)[0]  # + strand
        mier2 = reverse_complement(genome.fetch("chr19", 301443, 344782)[0])  # - strand
    assert cdc34 in decoded and mier2 in decoded
    assert meta["nucleotides"] == int(corpus.index["length"].sum()) == len(corpus.tokens)
    # overlapping hg38 transcripts were merged: no two same-strand sequences share a nucleotide
    assert meta["summary"]["human_hg38"]["sequences"] < len({line.split('transcript_id "')[1].split('"')[0]
                                                             for line in GTF.read_text().splitlines()})


def test_corpus_is_reused_and_deterministic(corpus_dir, tmp_path):
    stamp = (corpus_dir / "tokens.bin").stat().st_mtime_ns
    inputs = [CorpusInput(str(FASTA), "human_hg19", str(GENES)), CorpusInput(str(HG38), "human_hg38", str(GTF)),
              CorpusInput(str(EXAMPLE / "TRAK1_exon1_donor_510nt.fa"), "plain")]
    build_corpus(inputs, corpus_dir, validation=3, seed=1, progress=False)
    assert (corpus_dir / "tokens.bin").stat().st_mtime_ns == stamp  # cheap to rerun
    again = build_corpus(inputs, tmp_path / "again", validation=3, seed=1, progress=False)
    assert np.array_equal(np.load(again / "index.npy"), np.load(corpus_dir / "index.npy"))


def test_corpus_errors(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        build_corpus([CorpusInput("/no/such.fa", "x")], tmp_path / "c")
    with pytest.raises(CorpusError, match="not a corpus folder"):
        TokenCorpus(tmp_path)


def test_masking_rates_and_rules():
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(5, 10, (256, 1000), generator=torch.Generator().manual_seed(1))
    ids[:, 0], ids[:, -1], ids[:, -50:-1] = 2, 3, 0  # [CLS], [SEP], padding
    before = ids.clone()
    masked, labels = mask_tokens(ids, generator)
    assert torch.equal(ids, before)  # input untouched
    chosen = labels != -100
    eligible = ids >= 5
    assert not chosen[~eligible].any()
    assert abs(chosen.sum().item() / eligible.sum().item() - 0.15) < 0.005
    as_mask = (masked == 4) & chosen
    changed = (masked != ids) & (masked != 4) & chosen
    same = (masked == ids) & chosen
    n = chosen.sum().item()
    assert abs(as_mask.sum().item() / n - 0.8) < 0.01
    # random replacements are A/C/G/T (and may hit the original base: 10% x 3/4 change it)
    assert abs(changed.sum().item() / n - 0.075) < 0.01
    assert abs(same.sum().item() / n - 0.125) < 0.01
    assert set(masked[changed].unique().tolist()) <= {6, 7, 8, 9}
    assert torch.equal(masked[~chosen], ids[~chosen])
    again = mask_tokens(ids, torch.Generator().manual_seed(0))
    assert torch.equal(again[0], masked) and torch.equal(again[1], labels)


def test_samples_are_a_function_of_seed_epoch_and_item(corpus_dir):
    corpus = TokenCorpus(corpus_dir)
    data = WindowDataset(corpus, min_length=64, max_length=300, seed=3)
    first = data[2]
    assert torch.equal(WindowDataset(corpus, min_length=64, max_length=300, seed=3)[2]["input_ids"], first["input_ids"])
    data.use_epoch(1)
    assert not torch.equal(data[2]["input_ids"], first["input_ids"])
    lengths = {len(data[i]["input_ids"]) - 2 for i in range(len(data))}
    assert min(lengths) >= 64 and max(lengths) <= 300


def test_repeated_windows_per_sequence(corpus_dir):
    """Validation draws several fixed windows per sequence: item i + k * n is sequence i again, elsewhere."""
    corpus = TokenCorpus(corpus_dir)
    once = WindowDataset(corpus, min_length=64, max_length=64, seed=5, mask=False)
    four = WindowDataset(corpus, min_length=64, max_length=64, seed=5, mask=False, repeats=4)
    n = len(once)
    assert len(four) == 4 * n
    assert torch.equal(four[1]["input_ids"], once[1]["input_ids"])
    sequence = tokenization.decode(corpus.window(int(corpus.split(0)[1]), 0, 10**9).tolist())
    for item in (1, 1 + n, 1 + 3 * n):
        assert tokenization.decode(four[item]["input_ids"].tolist()) in sequence
    assert len({tuple(four[1 + k * n]["input_ids"].tolist()) for k in range(4)}) > 1
    with pytest.raises(ValueError, match="repeats"):
        WindowDataset(corpus, repeats=0)


def test_length_buckets_cover_every_sample_once_with_little_padding(corpus_dir):
    corpus = TokenCorpus(corpus_dir)
    data = WindowDataset(corpus, min_length=64, max_length=1024, seed=0)
    sampler = LengthBucketBatchSampler(data, batch_size=2, seed=0)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(len(data)))
    assert len(batches) == len(sampler)
    padded = sum(max(data.length_of(i) for i in b) * len(b) for b in batches)
    real = sum(data.length_of(i) for b in batches for i in b)
    assert padded / real < 1.25
    batch = collate([data[i] for i in batches[0]])
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape


def test_plateau_halving():
    plateau = PlateauHalving(patience=3, factor=0.5)
    losses = [1.0, 0.9, 0.95, 0.92, 0.91, 0.93, 0.89]
    reduced = [plateau.step(x) for x in losses]
    assert reduced == [False, False, False, False, True, False, False]
    assert plateau.scale == 0.5


def test_config_overrides_and_unknown_keys(tmp_path):
    config = load_config(PretrainConfig, REPO / "training/configs/stage1.yaml",
                         ["--corpus=c", "--output_dir=o", "--max_steps=10", "--adam_betas=0.9,0.98"])
    assert config.max_steps == 10 and config.min_length == 510 and config.adam_betas == (0.9, 0.98)
    with pytest.raises(ConfigError, match="unknown config key"):
        load_config(PretrainConfig, None, ["--corpus=c", "--output_dir=o", "--learning_rat=1"])
    with pytest.raises(ConfigError, match="corpus"):
        load_config(PretrainConfig, None, ["--output_dir=o"])
    with pytest.raises(ConfigError, match="max_length"):
        load_config(PretrainConfig, None, ["--corpus=c", "--output_dir=o", "--min_length=600", "--max_length=510"])
    with pytest.raises(ConfigError, match="dropout"):
        load_config(PretrainConfig, None, ["--corpus=c", "--output_dir=o", "--dropout=1.0"])
    with pytest.raises(ConfigError, match="val_windows"):
        load_config(PretrainConfig, None, ["--corpus=c", "--output_dir=o", "--val_windows=0"])
    for name in ("stage1", "stage2", "demo"):  # every shipped recipe loads
        load_config(PretrainConfig, REPO / f"training/configs/{name}.yaml", ["--corpus=c", "--output_dir=o"])


def tiny(corpus_dir, output_dir, **overrides):
    values = dict(corpus=str(corpus_dir), output_dir=str(output_dir), hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=4, intermediate_size=64, max_position_embeddings=130, min_length=64,
                  max_length=128, batch_size=2, warmup_steps=2, max_steps=6, eval_every=3, save_every=3,
                  log_every=1, learning_rate=3e-3, seed=5)
    values.update(overrides)
    return PretrainConfig(**values)


def test_resumed_run_equals_uninterrupted_run(corpus_dir, tmp_path):
    from safetensors.torch import load_file

    straight = pretrain(tiny(corpus_dir, tmp_path / "a"), progress=False)
    pretrain(tiny(corpus_dir, tmp_path / "b", max_steps=3), progress=False)  # "killed" after its checkpoint
    resumed = pretrain(tiny(corpus_dir, tmp_path / "b"), progress=False)
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    for key in a:
        assert torch.equal(a[key], b[key]), key
    history_a = [json.loads(l) for l in (tmp_path / "a/eval_history.jsonl").read_text().splitlines()]
    history_b = [json.loads(l) for l in (tmp_path / "b/eval_history.jsonl").read_text().splitlines()]
    assert history_a[-1]["val_loss"] == history_b[-1]["val_loss"]
    # rerunning a finished run rewrites the final folder with the same last evaluation
    again = pretrain(tiny(corpus_dir, tmp_path / "b"), progress=False)
    summary = json.loads((again / "training_summary.json").read_text())
    assert summary["last_eval"]["step"] == 6 and summary["last_eval"]["val_loss"] == history_b[-1]["val_loss"]
    # the final folder is a Hub folder
    from transformers import AutoModelForMaskedLM

    model = AutoModelForMaskedLM.from_pretrained(str(straight), trust_remote_code=True)
    assert model.config.hidden_size == 32


def test_stage_two_continues_from_stage_one(corpus_dir, tmp_path):
    """Stage 1 (fixed 64 nt, 1026 positions as the paper's model) then stage 2 at the top of the
    paper's lengths (900-1024 nt) from its final folder: the stage-1 weights are the starting
    point, and a model with too few positions is refused up front."""
    from safetensors.torch import load_file

    stage1 = pretrain(tiny(corpus_dir, tmp_path / "s1", max_position_embeddings=1026, min_length=64, max_length=64,
                           max_steps=3), progress=False)
    stage2 = tiny(corpus_dir, tmp_path / "s2", init_from=str(stage1), max_position_embeddings=1026, min_length=900,
                  max_length=1024, max_steps=2, eval_every=1, save_every=1, learning_rate=1e-12, warmup_steps=1)
    lengths = [WindowDataset(TokenCorpus(corpus_dir), min_length=900, max_length=1024, seed=5).length_of(i)
               for i in range(4)]
    assert max(lengths) > 512  # beyond stage 1's positions
    final = pretrain(stage2, progress=False)
    before, after = load_file(stage1 / "model.safetensors"), load_file(final / "model.safetensors")
    for key in before:
        torch.testing.assert_close(after[key], before[key], atol=1e-6, rtol=0)  # lr 1e-12: steps move nothing
    history = [json.loads(line) for line in (tmp_path / "s2/eval_history.jsonl").read_text().splitlines()]
    assert len(history) == 2 and all(math.isfinite(h["val_loss"]) for h in history)
    short = pretrain(tiny(corpus_dir, tmp_path / "short", max_position_embeddings=66, min_length=64, max_length=64,
                          max_steps=1), progress=False)
    with pytest.raises(ConfigError, match="position embeddings"):
        pretrain(tiny(corpus_dir, tmp_path / "s3", init_from=str(short), max_length=128), progress=False)


RECORDING_SCRIPT = """
import hashlib, sys
import torch
from splicebert_plugin.training.config import load_config
from splicebert_plugin.training.splicebert.pretrain import Callback, PretrainConfig, pretrain


def checksum(tensor):
    return hashlib.sha256(tensor.detach().cpu().numpy().tobytes()).hexdigest()[:16]


class Record(Callback):
    # what each process saw, and its weights at the end (a test's instrument, outside the loop)
    def __init__(self, output_dir):
        self.output_dir = output_dir

    def _write(self, accelerator, line):
        with open(f"{self.output_dir}/record_rank{accelerator.process_index}.txt", "a") as handle:
            handle.write(line + "\\n")

    def on_batch(self, step, batch, accelerator):
        self._write(accelerator, f"batch {step} {checksum(batch['input_ids'])}")

    def on_train_end(self, model, accelerator):
        weights = torch.cat([p.detach().float().flatten().cpu() for p in model.parameters()])
        self._write(accelerator, f"weights {checksum(weights)} world {accelerator.num_processes}")


config = load_config(PretrainConfig, None, sys.argv[1:])
pretrain(config, progress=False, callbacks=[Record(config.output_dir)])
"""


@pytest.mark.slow
def test_two_process_data_parallel_training(corpus_dir, tmp_path):
    """A real 2-process DDP job on CPU (torchrun; accelerate launch --cpu would start one), observed
    through a callback: different data on each rank, identical weights at the end."""
    out = tmp_path / "ddp"
    script = tmp_path / "recorded_pretrain.py"
    script.write_text(RECORDING_SCRIPT)
    args = [f"--{k}={v}" for k, v in vars(tiny(corpus_dir, out, max_steps=4)).items()
            if v is not None and k != "adam_betas"]
    torchrun(script, *args)
    records = [(out / f"record_rank{r}.txt").read_text().splitlines() for r in (0, 1)]
    batches = [{line.split()[2] for line in rec if line.startswith("batch")} for rec in records]
    assert batches[0] and batches[1] and not (batches[0] & batches[1])  # different data on each rank
    weights = [next(line for line in rec if line.startswith("weights")).split() for rec in records]
    assert weights[0][1] == weights[1][1]  # identical weights at the end
    assert weights[0][3] == weights[1][3] == "2"  # world size 2


def test_callbacks_see_every_batch_and_change_nothing(corpus_dir, tmp_path):
    from safetensors.torch import load_file

    from splicebert_plugin.training.splicebert.pretrain import Callback

    class Count(Callback):
        def __init__(self):
            self.steps, self.ended = [], 0

        def on_batch(self, step, batch, accelerator):
            self.steps.append(step)

        def on_train_end(self, model, accelerator):
            self.ended += 1

    counter = Count()
    watched = pretrain(tiny(corpus_dir, tmp_path / "w", max_steps=3, eval_every=10, save_every=10), progress=False,
                       callbacks=[counter])
    plain = pretrain(tiny(corpus_dir, tmp_path / "p", max_steps=3, eval_every=10, save_every=10), progress=False)
    assert counter.steps == [0, 1, 2] and counter.ended == 1
    a, b = load_file(watched / "model.safetensors"), load_file(plain / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_kmer_baseline_counts_by_hand():
    from splicebert_plugin.training.baselines import KmerModel

    ids = tokenization.encode("ACGTACGTN" + "ACGTA", add_special_tokens=False)
    model = KmerModel(flank=1, alpha=0.0).fit([ids])
    # contexts (left, right) with both neighbours A/C/G/T: AcG, CgT, GtA, TaC, AcG, CgT, GtN(skip), ... AcG, CgT, GtA
    positions, probs = model.probabilities(tokenization.encode("TACG", add_special_tokens=False))
    assert positions.tolist() == [1, 2]
    np.testing.assert_allclose(probs[0], [1, 0, 0, 0])  # T?C: only 'TAC' was seen
    np.testing.assert_allclose(probs[1], [0, 1, 0, 0])  # A?G -> C
    assert model.unigram.tolist() == [4, 3, 3, 3]
    smoothed = KmerModel(flank=2, alpha=1.0).fit([ids])
    _, p = smoothed.probabilities(tokenization.encode("NNNNN", add_special_tokens=False))
    assert p.shape == (0, 4)  # contexts with N are not predicted


def test_branchpoint_windows_match_an_independent_derivation():
    from splicebert_plugin.training.finetune.branchpoints import branchpoint_windows

    rows = [line.split("\t") for line in (BRANCHPOINTS / "expected_windows_chr19.tsv").read_text().splitlines()[1:]]
    expected = {(int(r[1]), int(r[2])): (r[6], [int(x) for x in r[7].split(",")]) for r in rows}
    with Genome(FASTA) as genome:
        windows = list(branchpoint_windows(BRANCHPOINTS / "mercer_chr19_1-559000.hg19.bed", genome))
    checked = 0
    for window in windows:
        region = np.flatnonzero(window.labels != -100)
        assert (window.labels == 1).any() and len(window.sequence) == 510
        flank = region[0]
        start = window.start + flank if window.strand == "+" else window.start + 510 - flank - len(region)
        key = next((k for k in expected if k[0] <= start < k[1]), None)
        if key is None:
            continue
        sequence, labels = expected[key]
        assert window.sequence == sequence.upper() and window.labels.tolist() == labels
        checked += 1
    assert checked >= 10 and {w.strand for w in windows} == {"+", "-"}
