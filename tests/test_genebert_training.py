"""GeneBERT part 2, pretraining: span masking, samples, the loop (GENEBERT.md tests 2, 6, 9, 10).

Expectations are independent of the code: binomial intervals, k-mer strings rebuilt by hand,
a fresh motif scan of the DNA shown, an uninterrupted run against a resumed one.
"""

import json
import math

import numpy as np
import pytest
import torch

pytest.importorskip("pyjaspar")

from splicebert_plugin.training.genebert.motif_scan import MotifBank, matrix_values, region_matrix  # noqa: E402
from splicebert_plugin.genebert.tokenization_genebert import (  # noqa: E402
    CLS_ID,
    MASK_ID,
    PAD_ID,
    SEP_ID,
    kmer_encode,
    kmer_vocab,
)
from splicebert_plugin.training.config import ConfigError, load_config  # noqa: E402
from splicebert_plugin.training.genebert.samples import (  # noqa: E402
    GeneBertSamples,
    SampleError,
    centre_probability,
    collate_samples,
    mask_fraction_at,
    masking_generator,
    span_mask,
    span_offsets,
)

from .conftest import FASTA, REPO, read_fasta_text, run_two_processes  # noqa: E402

TINY_SWIN = {"patch_size": [1, 4], "num_channels": 1, "embed_dim": 16, "depths": [1, 1], "num_heads": [2, 2],
             "window_size": 3, "drop_path_rate": 0.0}


# ---------------------------------------------------------------------------------------------- span masking


def _kmer_batch(rows=64, length=500, k=6, seed=0):
    """[CLS] k-mers [SEP] [PAD]...: rows of real k-mers of random DNA, some padded."""
    rng = np.random.default_rng(seed)
    batch = torch.full((rows, length), PAD_ID, dtype=torch.long)
    for row in range(rows):
        n = length - 2 - (row % 4) * 10
        dna = "".join(rng.choice(list("ACGT"), n + k - 1))
        batch[row, 0], batch[row, 1 : n + 1], batch[row, n + 1] = CLS_ID, torch.from_numpy(kmer_encode(dna, k)), SEP_ID
    return batch


def _runs(flags):
    """(start, end) of the maximal runs of True."""
    runs, start = [], None
    for i, flag in enumerate(list(flags) + [False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            runs.append((start, i))
            start = None
    return runs


def test_centre_probability_and_offsets_are_dnaberts():
    assert centre_probability(0.15, 6) == pytest.approx(0.0267, abs=5e-5)
    assert centre_probability(0.20, 6) == pytest.approx(0.0365, abs=5e-5)
    assert 1 - (1 - 0.025) ** 6 == pytest.approx(0.141, abs=5e-4)  # DNABERT's fixed 0.025 covers 14.1 %
    before, after = span_offsets(6)
    assert [o for o in range(before, after + 1) if o] == [-2, -1, 1, 2, 3]  # DNABERT's MASK_LIST for k = 6
    assert span_offsets(3) == (-1, 1) and span_offsets(4) == (-1, 2)


@pytest.mark.parametrize("fraction", [0.15, 0.20])
def test_span_masking_covers_the_fraction(fraction):
    """Interior k-mers (k or more from an edge) are covered with probability ``fraction``; spans make
    neighbours dependent, so the binomial 99 % interval is widened by the design effect k."""
    k = 6
    batch = _kmer_batch(rows=200, k=k)
    _, labels = span_mask(batch, k, torch.Generator().manual_seed(1), fraction=fraction)
    eligible = batch >= 5
    interior = eligible.clone()
    for row in range(len(batch)):
        n = int(eligible[row].sum())
        interior[row, : 1 + k] = False
        interior[row, n + 1 - k :] = False
    covered = (labels != -100)[interior].float()
    n = covered.numel()
    half_width = 2.576 * math.sqrt(fraction * (1 - fraction) * k / n)
    assert abs(covered.mean().item() - fraction) < half_width


def test_span_masking_rules():
    k = 6
    batch = _kmer_batch(rows=80, k=k, seed=3)
    original = batch.clone()
    ids, labels = span_mask(batch, k, torch.Generator().manual_seed(2), fraction=0.05)
    assert torch.equal(batch, original)  # input untouched
    chosen = labels != -100
    assert not chosen[batch < 5].any()  # never [CLS], [SEP], [PAD] (or [UNK])
    assert torch.equal(labels[chosen], batch[chosen])
    # 80 / 10 / 10: [MASK], a random k-mer (never a special id), unchanged
    replaced = ids[chosen]
    share_mask = (replaced == MASK_ID).float().mean().item()
    assert 0.75 < share_mask < 0.85
    randoms = replaced[(replaced != MASK_ID) & (replaced != batch[chosen])]
    assert len(randoms) and randoms.min() >= 5 and randoms.max() < 5 + 4**k
    # spans: every run of masked k-mers away from the edges is at least k long (k when isolated)
    lengths = []
    for row in range(len(batch)):
        n = int((batch[row] >= 5).sum())
        for start, end in _runs(chosen[row].tolist()):
            if start > 1 and end < n + 1:
                lengths.append(end - start)
    assert lengths and min(lengths) >= k and np.mean(np.array(lengths) == k) > 0.6
    # the same generator gives the same draw; another seed another one
    again, _ = span_mask(batch, k, torch.Generator().manual_seed(2), fraction=0.05)
    other, _ = span_mask(batch, k, torch.Generator().manual_seed(9), fraction=0.05)
    assert torch.equal(ids, again) and not torch.equal(ids, other)


def test_an_isolated_span_hides_exactly_one_nucleotide():
    """Rebuild the sequence from the unmasked k-mers' strings: each isolated span of k masked k-mers
    leaves exactly one nucleotide that no unmasked k-mer spells."""
    k = 6
    rng = np.random.default_rng(4)
    dna = "".join(rng.choice(list("ACGT"), 400))
    ids = torch.from_numpy(kmer_encode(dna, k))[None]
    vocab = kmer_vocab(k)
    masked, labels = span_mask(ids, k, torch.Generator().manual_seed(5), fraction=0.03)
    chosen = (labels != -100)[0].tolist()
    spelled = [False] * len(dna)
    for position, token in enumerate(ids[0].tolist()):
        if not chosen[position]:
            assert vocab[token] == dna[position : position + k]
            for offset in range(k):
                spelled[position + offset] = True
    runs = [(s, e) for s, e in _runs(chosen) if e - s == k and s > 0 and e < len(chosen)]
    assert runs
    for start, end in runs:
        hidden = [i for i in range(start, end + k - 1) if not spelled[i]]
        assert hidden == [end - 1]  # the last base of the first masked k-mer: every k-mer holding it is masked


def test_masking_schedule_and_generators():
    assert [mask_fraction_at(s, 0.15, 0.20, 3) for s in (0, 2, 3, 9)] == [0.15, 0.15, 0.20, 0.20]
    assert mask_fraction_at(10**6, 0.15, 0.20, 0) == 0.15  # 0: never switch
    a = torch.rand(5, generator=masking_generator(0, 7, 1, 0))
    assert torch.equal(a, torch.rand(5, generator=masking_generator(0, 7, 1, 0)))
    for other in [(1, 7, 1, 0), (0, 8, 1, 0), (0, 7, 0, 0), (0, 7, 1, 1)]:
        assert not torch.equal(a, torch.rand(5, generator=masking_generator(*other)))


# ---------------------------------------------------------------------------------------------- samples


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    """Genome tiles of 30 nt over 80 kb of real hg19 chr19; 24 short JASPAR motifs."""
    from splicebert_plugin.training.genebert.motifs import load_jaspar
    from splicebert_plugin.training.genebert.corpus import (CorpusSettings, GeneBertCorpus, TrackInput,
                                                            build_genebert_corpus)

    folder = tmp_path_factory.mktemp("genebert")
    fasta = folder / "g.fa"
    fasta.write_text(">chr19\n" + read_fasta_text(FASTA)[400_000:480_000] + "\n")
    motifs = [m for m in load_jaspar("JASPAR2018") if m.length <= 12][:24]
    out = build_genebert_corpus(str(fasta), [TrackInput("tiles", "tiles")], folder / "corpus", motifs_raw=motifs,
                                settings=CorpusSettings(region_bp=30), progress=False)
    return GeneBertCorpus(out)


def test_samples_layout(tiny_corpus):
    k = 3
    samples = GeneBertSamples(tiny_corpus, kmer=k, values="match", seed=1, val_fraction=0.1)
    per_region = 30 - k + 1
    sample = samples[0]
    ids, types = sample["input_ids"], sample["token_type_ids"]
    assert ids.shape == types.shape == (3 + 10 * per_region,) and sample["region_values"].shape == (10, 24)
    first_sep = 1 + 5 * per_region
    assert ids[0] == CLS_ID and ids[first_sep] == SEP_ID and ids[-1] == SEP_ID and (ids == SEP_ID).sum() == 2
    assert (types[: first_sep + 1] == 0).all() and (types[first_sep + 1 :] == 1).all()
    # each region's k-mers spell exactly the window the corpus shows for it
    vocab = kmer_vocab(k)
    for item in range(6):
        sample, regions = samples[item], samples.region_ids(item)
        body = [t for t in sample["input_ids"].tolist() if t not in (CLS_ID, SEP_ID)]
        for index, region in enumerate(regions):
            kmers = body[index * per_region : (index + 1) * per_region]
            window = tiny_corpus.window(int(region))
            assert [vocab[t] for t in kmers] == [window[i : i + k] for i in range(per_region)]
        # the matrix rows are a fresh scan of exactly the DNA shown
        counts, best = region_matrix(MotifBank.from_motifs(tiny_corpus.motifs),
                                     [tiny_corpus.window(int(r)) for r in regions])
        np.testing.assert_array_equal(sample["region_values"].numpy(), matrix_values(counts, best, "match"))
    batch = collate_samples([samples[0], samples[1]])
    assert batch["input_ids"].shape == (2, 3 + 10 * per_region) and batch["attention_mask"].all()
    assert batch["region_values"].shape == (2, 10, 24) and batch["next_sentence_label"].shape == (2,)


def test_samples_next_sequence_labels_and_partners(tiny_corpus):
    samples = GeneBertSamples(tiny_corpus, kmer=3, seed=1, val_fraction=0.1)
    n = len(samples)
    groups = {tuple(g) for g in samples.groups.tolist()}
    for epoch in (0, 1):
        samples.use_epoch(epoch)
        labels = samples.labels()
        assert labels.sum() == n // 2  # exactly balanced
        for item in range(n):
            assert int(samples[item]["next_sentence_label"]) == labels[item]
            regions = samples.region_ids(item)
            assert np.array_equal(regions[:5], samples.groups[item][:5])
            if labels[item] == 0:
                assert np.array_equal(regions[5:], samples.groups[item][5:])  # B follows A: consecutive regions
                assert np.all(np.diff(tiny_corpus.regions["start"][regions]) == 30)
            else:
                partner = samples.partner(item)
                assert abs(partner - item) >= 2 and np.array_equal(regions[5:], samples.groups[partner][5:])
        epoch_labels = labels
    samples.use_epoch(0)
    assert not np.array_equal(samples.labels(), epoch_labels)  # a new draw each epoch
    # sample = f(seed, epoch, item): a second dataset gives the same items
    twin = GeneBertSamples(tiny_corpus, kmer=3, seed=1, val_fraction=0.1)
    for item in (0, 5, n - 1):
        for key, value in samples[item].items():
            assert torch.equal(value, twin[item][key])
    # validation and training split the groups; nsp=False: B always follows A
    validation = GeneBertSamples(tiny_corpus, kmer=3, seed=1, val_fraction=0.1, split="validation")
    assert groups.isdisjoint({tuple(g) for g in validation.groups.tolist()})
    assert len(validation) + n == len(tiny_corpus.tracks["tiles"]) // 10
    plain = GeneBertSamples(tiny_corpus, kmer=3, nsp=False)
    assert plain.labels().sum() == 0 and all(plain.partner(i) == i for i in range(len(plain)))


def test_a_track_with_few_samples_draws_random_halves_from_the_others(tiny_corpus, tmp_path):
    from splicebert_plugin.training.genebert.motifs import load_jaspar
    from splicebert_plugin.training.genebert.corpus import (CorpusSettings, GeneBertCorpus, TrackInput,
                                                            build_genebert_corpus)

    peaks = tmp_path / "few.bed"  # 20 peaks: two samples of 10 regions
    peaks.write_text("".join(f"chr19\t{1000 + 300 * i}\t{1100 + 300 * i}\n" for i in range(20)))
    motifs = [m for m in load_jaspar("JASPAR2018") if m.length <= 12][:24]
    corpus = GeneBertCorpus(build_genebert_corpus(
        tiny_corpus.meta["genome"], [TrackInput("few", "bed", str(peaks)), TrackInput("tiles", "tiles")],
        tmp_path / "corpus", motifs_raw=motifs, settings=CorpusSettings(region_bp=30), progress=False))
    samples = GeneBertSamples(corpus, kmer=3, val_fraction=0.01, seed=2)
    few = [i for i in range(len(samples)) if samples.tracks[samples.group_track[i]] == "few"]
    assert len(few) == 2
    for epoch in range(4):
        samples.use_epoch(epoch)
        for item in few:
            partner = samples.partner(item)
            assert partner == item or (abs(partner - item) >= 2 and partner not in few)
        for item in range(len(samples)):  # tiles keep to their own track
            if item not in few:
                assert samples.partner(item) not in few


def test_samples_bad_settings(tiny_corpus):
    with pytest.raises(SampleError, match="track"):
        GeneBertSamples(tiny_corpus, kmer=3, tracks=["neurons"])
    with pytest.raises(SampleError, match="no train sample"):
        GeneBertSamples(tiny_corpus, kmer=3, exclude_contigs=["chr19"])
    with pytest.raises(SampleError, match="shorter than k"):
        GeneBertSamples(tiny_corpus, kmer=31)
    with pytest.raises(ValueError, match="matrix values"):
        GeneBertSamples(tiny_corpus, kmer=3, values="binary")


# ---------------------------------------------------------------------------------------------- the loop


def tiny_run(corpus, output_dir, **overrides):
    from splicebert_plugin.training.genebert.pretrain import GeneBertPretrainConfig

    values = dict(corpus=str(corpus.path), output_dir=str(output_dir), kmer=3, hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=4, intermediate_size=64, srm_dim=16, dropout=0.0, region_config=TINY_SWIN,
                  values="max_score", batch_size=8, learning_rate=2e-3, warmup_steps=10, max_steps=6, eval_every=3,
                  save_every=2, log_every=1, val_fraction=0.2, seed=3)
    values.update(overrides)
    return GeneBertPretrainConfig(**values)


def test_resumed_run_across_the_masking_switch_equals_an_uninterrupted_run(tiny_corpus, tmp_path):
    from safetensors.torch import load_file

    from splicebert_plugin.training.genebert.pretrain import pretrain_genebert
    from splicebert_plugin.training.loop import Callback

    class Crash(Callback):
        def on_batch(self, step, batch, accelerator):
            if step == 3:  # after the checkpoint of step 2, before the switch at step 3 is used
                raise KeyboardInterrupt

    settings = dict(mask_switch_step=3, gradient_accumulation_steps=2)
    straight = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "a", **settings), progress=False)
    with pytest.raises(KeyboardInterrupt):
        pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "b", **settings), progress=False, callbacks=[Crash()])
    resumed = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "b", **settings), progress=False)
    a, b = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    summary = json.loads((resumed / "training_summary.json").read_text())
    steps = [entry["step"] for entry in summary["history"]]
    assert steps == [3, 6]
    for entry in summary["history"]:
        assert {"step", "val_mlm_loss", "val_nsp_loss", "val_srm_loss", "val_r_at_1"} <= set(entry)
    # the demo model's card is written from such a summary: one row per evaluation
    from splicebert_plugin.checkpoints.model_cards import card_for_genebert_demo

    card = card_for_genebert_demo(summary, {"genebert": summary["last_eval"]}, None)
    assert "| 3 | " in card and "| 6 | " in card and "not computed" in card
    assert f"{summary['last_eval']['val_srm_loss']:.3f}" in card
    # the final folder is a Hub folder: it loads through the Auto classes
    from transformers import AutoModelForPreTraining

    model = AutoModelForPreTraining.from_pretrained(str(resumed))
    assert model.config.tf_ids == tiny_corpus.tf_ids and model.config.region_values == "max_score"


def test_accumulated_matching_batch_trains_like_one_large_batch(tiny_corpus, tmp_path):
    """srm_batch=optimizer: 2 micro-batches of 4 accumulated give the weights of batches of 8 with
    no accumulation (same samples, same masking); srm_batch=micro (the matching loss per
    micro-batch) does not."""
    from safetensors.torch import load_file

    from splicebert_plugin.training.genebert.pretrain import pretrain_genebert

    common = dict(max_steps=3, eval_every=3, save_every=3, log_every=1)
    large = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "large", batch_size=8, **common), progress=False)
    cached = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "cached", batch_size=4, gradient_accumulation_steps=2,
                                        **common), progress=False)
    micro = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "micro", batch_size=4, gradient_accumulation_steps=2,
                                       srm_batch="micro", **common), progress=False)
    a, b, c = (load_file(folder / "model.safetensors") for folder in (large, cached, micro))
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=2e-5, msg=key)
    assert max((c[key] - a[key]).abs().max().item() for key in a) > 1e-3
    logged = [json.loads(line) for line in (tmp_path / "cached/eval_history.jsonl").read_text().splitlines()]
    assert logged[-1]["val_srm_loss"] > 0 and 0 <= logged[-1]["val_mlm_mask_accuracy"] <= 1


@pytest.mark.slow
def test_losses_fall_and_retrieval_beats_chance_on_real_sequence(tiny_corpus, tmp_path):
    """300 steps of the tiny model on tiles of real sequence: the masked-k-mer and matching losses
    fall and in-batch retrieval beats 1/b. (Next-sequence prediction is not learnt at this size
    and budget: its loss stays at log 2 - reported, not asserted.)"""
    from splicebert_plugin.training.genebert.pretrain import pretrain_genebert

    final = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "run", max_steps=300, eval_every=100,
                                       save_every=1000, log_every=50), progress=False)
    history = json.loads((final / "training_summary.json").read_text())["history"]
    first, last = history[0], history[-1]
    assert last["val_mlm_loss"] < first["val_mlm_loss"] < math.log(64)  # 64 possible 3-mers
    assert min(h["val_srm_loss"] for h in history) < math.log(8)  # below chance: log b, b = 8
    assert last["val_r_at_1"] > 2 * last["val_r_at_1_chance"]
    assert all(math.isfinite(h["val_nsp_loss"]) for h in history)  # reported at every evaluation


@pytest.mark.slow
def test_all_three_losses_fall_when_continuity_carries_signal(tmp_path):
    """The NSP labels and segments are right: on a contig of real sequence arranged as alternating
    AT-rich and GC-rich 1.2-kb blocks (the 40 lowest- and highest-GC blocks of the example), a
    true B shares A's composition and a random B (>= 2 samples away) does so about half the time,
    so the best achievable loss is 0.75 x H(2/3) = 0.477 at 75 % accuracy. Mis-paired labels or
    rows would keep it at log 2."""
    from splicebert_plugin.training.genebert.motifs import load_jaspar
    from splicebert_plugin.training.genebert.corpus import (CorpusSettings, GeneBertCorpus, TrackInput,
                                                            build_genebert_corpus)
    from splicebert_plugin.training.genebert.pretrain import pretrain_genebert

    text, block = read_fasta_text(FASTA).upper(), 1200
    blocks = sorted((text[i:i + block] for i in range(0, len(text) - block, block) if "N" not in text[i:i + block]),
                    key=lambda b: (b.count("G") + b.count("C")) / block)
    fasta = tmp_path / "mix.fa"
    fasta.write_text(">mix\n" + "".join(a + g for a, g in zip(blocks[:40], blocks[-40:])) + "\n")
    motifs = [m for m in load_jaspar("JASPAR2018") if m.length <= 12][:24]
    corpus = GeneBertCorpus(build_genebert_corpus(str(fasta), [TrackInput("tiles", "tiles")], tmp_path / "corpus",
                                                  motifs_raw=motifs, settings=CorpusSettings(region_bp=30),
                                                  progress=False))
    final = pretrain_genebert(tiny_run(corpus, tmp_path / "run", max_steps=1000, eval_every=250, save_every=1000,
                                       log_every=100), progress=False)
    history = json.loads((final / "training_summary.json").read_text())["history"]
    first, last = history[0], history[-1]
    # all three validation losses fall; NSP well below log 2 = 0.693 (measured: 0.698 -> 0.525, 73 %)
    assert last["val_mlm_loss"] < first["val_mlm_loss"] and last["val_srm_loss"] < first["val_srm_loss"]
    assert last["val_nsp_loss"] < min(0.6, first["val_nsp_loss"]) and last["val_nsp_accuracy"] > 0.65


def test_ablation_arms_leave_the_unused_parts_untouched(tiny_corpus, tmp_path):
    """srm_weight 0 and nsp false (MLM only): no loss reaches the region encoder or the NSP head,
    so they keep their initial weights (AdamW skips parameters without gradients), and their
    losses are not logged; the full arm moves them."""
    from accelerate.utils import set_seed

    from splicebert_plugin.genebert import GeneBertForPreTraining
    from splicebert_plugin.training.genebert.pretrain import build_model, pretrain_genebert

    full = pretrain_genebert(tiny_run(tiny_corpus, tmp_path / "full", max_steps=2, eval_every=2), progress=False)
    config = tiny_run(tiny_corpus, tmp_path / "mlm", max_steps=2, eval_every=2, srm_weight=0.0, nsp=False)
    mlm = pretrain_genebert(config, progress=False)
    history = json.loads((mlm / "training_summary.json").read_text())["history"]
    assert "val_mlm_loss" in history[-1] and "val_nsp_loss" not in history[-1] and "val_srm_loss" not in history[-1]
    set_seed(config.seed)
    initial = build_model(config, tiny_corpus).state_dict()
    # through from_pretrained: transformers renames some Swin weights in the file
    trained, mlm_only = (GeneBertForPreTraining.from_pretrained(str(folder)).state_dict() for folder in (full, mlm))
    idle = [key for key in mlm_only if key.startswith(("region_encoder.", "region_projection.", "cls.seq_relationship"))]
    assert idle
    for key in idle:
        assert torch.equal(mlm_only[key], initial[key]), key
    assert not torch.equal(mlm_only["bert.encoder.layer.0.attention.self.query.weight"],
                           initial["bert.encoder.layer.0.attention.self.query.weight"])
    assert any(not torch.equal(trained[key], initial[key]) for key in idle)


def test_recipe_config_and_errors(tiny_corpus, tmp_path, capsys):
    from splicebert_plugin.training.genebert.pretrain import GeneBertPretrainConfig

    from .conftest import load_recipe

    config = load_config(GeneBertPretrainConfig, REPO / "training/genebert/configs/dnabert512.yaml",
                         ["--corpus=c", "--output_dir=o", '--region_config={"window_size": 5}'])
    assert config.adam_betas == (0.9, 0.98) and config.region_config == {"window_size": 5}
    assert config.mask_switch_step == 100_000 and config.lr_schedule == "linear"
    for bad, message in [("--lr_schedule=cosine", "lr_schedule"), ("--mask_fraction=1.5", "mask_fraction"),
                         ("--region_config=[1]", "region_config"), ("--srm_weight=-1", "srm_weight")]:
        with pytest.raises(ConfigError, match=message):
            load_config(GeneBertPretrainConfig, None, ["--corpus=c", "--output_dir=o", bad])
    recipe = load_recipe("genebert/pretrain")
    assert recipe.main([f"--corpus={tmp_path / 'none'}", f"--output_dir={tmp_path / 'o'}"]) == 2
    assert "not a GeneBERT corpus folder" in capsys.readouterr().err
    # a Swin that cannot run on this corpus's matrix: the config error names the stage
    args = [f"--corpus={tiny_corpus.path}", f"--output_dir={tmp_path / 'o'}", "--kmer=3",
            '--region_config={"patch_size": [1, 4], "num_channels": 1, "embed_dim": 16, "depths": [1, 1, 1], '
            '"num_heads": [2, 2, 2], "window_size": 3}']
    assert recipe.main(args) == 2
    assert "stage" in capsys.readouterr().err


TWO_PROCESS_SCRIPT = """
import sys
from splicebert_plugin.training.config import load_config
from splicebert_plugin.training.genebert.pretrain import GeneBertPretrainConfig, pretrain_genebert
pretrain_genebert(load_config(GeneBertPretrainConfig, None, sys.argv[1:]), progress=False)
"""


@pytest.mark.slow
@pytest.mark.parametrize("accumulation,nsp", [(1, True), (2, True), (2, False)])
def test_two_process_pretraining_completes(tiny_corpus, tmp_path, accumulation, nsp):
    """torchrun with 2 CPU processes (gloo): the run finishes, and its final weights are written
    once; with accumulation, the matching loss spans both micro-batches of both processes."""
    config = tiny_run(tiny_corpus, tmp_path / "ddp", max_steps=4, eval_every=2, batch_size=4,
                      gradient_accumulation_steps=accumulation, nsp=nsp)
    args = [f"--{k}={json.dumps(v) if isinstance(v, dict) else v}" for k, v in vars(config).items()
            if v is not None and k != "adam_betas"]
    run_two_processes(TWO_PROCESS_SCRIPT, tmp_path, *args)
    summary = json.loads((tmp_path / "ddp/final/training_summary.json").read_text())
    assert [entry["step"] for entry in summary["history"]] == [2, 4]
    assert summary["history"][-1]["val_srm_loss"] > 0


# ---------------------------------------------------------------------------------------------- evaluation and baseline


def test_region_gc_matches_the_decoded_sequence():
    from splicebert_plugin.genebert.tokenization_genebert import kmer_decode
    from splicebert_plugin.training.genebert.retrieval_baseline import region_gc

    rng = np.random.default_rng(4)
    k, regions, bp = 6, 10, 20
    dna = ["".join(rng.choice(list("ACGT"), bp)) for _ in range(regions)]
    ids = [CLS_ID]
    for index, region in enumerate(dna):
        ids += list(kmer_encode(region, k))
        if index in (4, 9):
            ids.append(SEP_ID)
    gc = region_gc(np.array(ids), k, regions)
    expected = [(region.count("G") + region.count("C")) / bp for region in dna]
    np.testing.assert_allclose(gc, expected)
    assert kmer_decode(kmer_encode(dna[0], k), k) == dna[0]  # the spelling the count relies on
    with pytest.raises(ValueError, match="equal regions"):
        region_gc(np.array(ids[:-3]), k, regions)


def test_gc_retrieval_counts_by_hand():
    from splicebert_plugin.training.genebert.retrieval_baseline import fit_gc_ridge, in_batch_r_at_1

    actual = np.array([[0.1, 0.1], [0.5, 0.5], [0.9, 0.9], [0.2, 0.8]])
    # batch 1 (rows 0-1): both right; batch 2 (rows 2-3): predictions swapped, both wrong
    predicted = np.array([[0.12, 0.1], [0.5, 0.45], [0.2, 0.8], [0.9, 0.9]])
    assert in_batch_r_at_1(actual, predicted, 2) == (0.5, 0.5)
    assert in_batch_r_at_1(actual, actual, 4) == (1.0, 0.25)
    # ridge with tiny alpha recovers an exact linear relation
    x = rng_rows = np.random.default_rng(0).random((200, 5))
    y = 0.3 * rng_rows[:, 0] - 0.1 * rng_rows[:, 3] + 0.4
    np.testing.assert_allclose(fit_gc_ridge(x, y, alpha=1e-9)(x[:7]), y[:7], atol=1e-6)


def test_evaluate_pretrained_repeats_the_loops_last_evaluation(tiny_corpus, tmp_path):
    """A finished folder evaluated afresh gives the loop's last validation numbers (same split,
    masking and batches), with MLM accuracy at [MASK] inputs and the GC-only baseline."""
    from splicebert_plugin.training.genebert.pretrain import evaluate_pretrained, pretrain_genebert

    config = tiny_run(tiny_corpus, tmp_path / "run", max_steps=3, eval_every=3, save_every=3)
    final = pretrain_genebert(config, progress=False)
    last = json.loads((final / "training_summary.json").read_text())["last_eval"]
    result = evaluate_pretrained(str(final), config)
    for key in ("val_mlm_loss", "val_nsp_loss", "val_srm_loss", "val_r_at_1", "val_mlm_mask_accuracy"):
        assert result[key] == pytest.approx(last[key], rel=1e-5), key
    assert 0 <= result["val_mlm_mask_accuracy"] <= 1
    base = result["baseline"]
    assert base["val_samples"] == result["val_samples"] and 0 <= base["gc_r_at_1"] <= 1
    assert base["r_at_1_chance"] == pytest.approx(last["val_r_at_1_chance"])


def test_pretraining_starts_from_dnabert_weights(tiny_corpus, tmp_path):
    """init_from a DNABERT-style BertForMaskedLM folder (model_type bert): k from its vocabulary,
    sizes from its config, encoder and MLM head copied by name, the rest new; region_values set."""
    from transformers import BertConfig, BertForMaskedLM

    from splicebert_plugin.training.genebert.pretrain import build_model

    torch.manual_seed(0)
    bert = BertForMaskedLM(BertConfig(vocab_size=4**3 + 5, hidden_size=24, num_hidden_layers=1, num_attention_heads=2,
                                      intermediate_size=48, max_position_embeddings=512))
    bert.save_pretrained(tmp_path / "dnabert3")
    config = tiny_run(tiny_corpus, tmp_path / "run", init_from=str(tmp_path / "dnabert3"), kmer=None, hidden_size=None,
                      num_hidden_layers=None, num_attention_heads=None, intermediate_size=None)
    model = build_model(config, tiny_corpus)
    assert (model.config.kmer, model.config.hidden_size, model.config.num_hidden_layers) == (3, 24, 1)
    assert model.config.region_values == "max_score" and model.config.tf_ids == tiny_corpus.tf_ids
    assert torch.equal(model.bert.encoder.layer[0].output.dense.weight, bert.bert.encoder.layer[0].output.dense.weight)
    assert torch.equal(model.cls.predictions.transform.dense.weight, bert.cls.predictions.transform.dense.weight)
    # the run's dropout override reaches a DNABERT start too
    dropped = build_model(tiny_run(tiny_corpus, tmp_path / "run", init_from=str(tmp_path / "dnabert3"), kmer=None,
                                   hidden_size=None, num_hidden_layers=None, num_attention_heads=None,
                                   intermediate_size=None, dropout=0.25), tiny_corpus)
    assert (dropped.config.hidden_dropout_prob, dropped.config.attention_probs_dropout_prob) == (0.25, 0.25)
    assert dropped.bert.encoder.layer[0].output.dropout.p == 0.25
    BertForMaskedLM(BertConfig(vocab_size=100, hidden_size=24, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=48)).save_pretrained(tmp_path / "other")
    with pytest.raises(ConfigError, match="not DNABERT's"):
        build_model(tiny_run(tiny_corpus, tmp_path / "run", init_from=str(tmp_path / "other")), tiny_corpus)


def test_pretraining_region_init_from_scratch_and_with_dnabert(tiny_corpus, tmp_path):
    """The pretraining key region_init loads a local Swin folder into the region encoder, also when
    the k-mer encoder comes from DNABERT (the documented paper setup); a GeneBERT init_from, which
    has its own region encoder, is refused with it."""
    from transformers import BertConfig, BertForMaskedLM, SwinConfig, SwinModel

    from splicebert_plugin.training.genebert.pretrain import build_model

    torch.manual_seed(2)
    swin = SwinModel(SwinConfig(**TINY_SWIN, image_size=[10, len(tiny_corpus.tf_ids)]))
    swin.save_pretrained(tmp_path / "swin")
    (tmp_path / "swin" / "preprocessor_config.json").write_text(json.dumps({"image_mean": [0.25], "image_std": [0.5]}))
    BertForMaskedLM(BertConfig(vocab_size=4**3 + 5, hidden_size=32, num_hidden_layers=1, num_attention_heads=4,
                               intermediate_size=64, max_position_embeddings=512)).save_pretrained(tmp_path / "dnabert3")
    for init_from in (None, str(tmp_path / "dnabert3")):
        model = build_model(tiny_run(tiny_corpus, tmp_path / "run", init_from=init_from,
                                     region_init=str(tmp_path / "swin")), tiny_corpus)
        mine = model.region_encoder.state_dict()
        for key, value in swin.state_dict().items():
            assert torch.equal(mine[key], value), (init_from, key)
        assert (model.config.region_pixel_mean, model.config.region_pixel_std) == ([0.25], [0.5])
    genebert = build_model(tiny_run(tiny_corpus, tmp_path / "run"), tiny_corpus)
    genebert.save_pretrained(tmp_path / "genebert")
    with pytest.raises(ConfigError, match="already holds a region encoder"):
        build_model(tiny_run(tiny_corpus, tmp_path / "run", init_from=str(tmp_path / "genebert"),
                             region_init=str(tmp_path / "swin")), tiny_corpus)
