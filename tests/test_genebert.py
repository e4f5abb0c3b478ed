"""GeneBERT part 1: tokenizer, config, models, matching loss, Hub folders (GENEBERT.md tests 1, 7, 8, 9)."""

import itertools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from splicebert_plugin.genebert import (
    GeneBertConfig,
    GeneBertForMaskedLM,
    GeneBertForPreTraining,
    GeneBertForSequenceClassification,
    GeneBertForTokenClassification,
    GeneBertModel,
    GeneBertTokenizer,
    kmer_decode,
    kmer_encode,
    kmer_vocab,
    srm_loss,
)

from .conftest import REPO, run_two_processes
from .genebert_fixtures import batch, tiny_config


# ---------------------------------------------------------------------------------------------- tokenizer


def test_vocabulary_is_dnaberts():
    vocab = kmer_vocab(3)
    assert vocab[:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    assert vocab[5:13] == ["AAA", "AAT", "AAC", "AAG", "ATA", "ATT", "ATC", "ATG"] and vocab[68] == "GGG"
    for k in range(3, 7):
        assert len(kmer_vocab(k)) == 4 ** k + 5
    assert kmer_vocab(6)[5:] == ["".join(p) for p in itertools.product("ATCG", repeat=6)]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="ACGTacgtuNR", min_size=0, max_size=40), st.integers(3, 6))
def test_kmer_encode_equals_string_slicing(sequence, k):
    vocab = {token: i for i, token in enumerate(kmer_vocab(k))}
    text = sequence.upper().replace("U", "T")
    expected = [vocab.get(text[i : i + k], 1) for i in range(len(text) - k + 1)]
    assert kmer_encode(sequence, k).tolist() == expected
    clean = "".join(c for c in text if c in "ACGT")
    if len(clean) >= k:
        assert kmer_decode(kmer_encode(clean, k), k) == clean


def test_tokenizers_agree_and_build_pairs():
    tokenizer = GeneBertTokenizer(kmer=4)
    sequence = "ACGTTGCAGGTAAGTNACG"
    ids = tokenizer(sequence)["input_ids"]
    assert ids == [2, *kmer_encode(sequence, 4).tolist(), 3]
    spaced = " ".join(sequence[i : i + 4] for i in range(len(sequence) - 3))
    assert tokenizer(spaced)["input_ids"] == ids  # DNABERT's space-separated input, no k-merising
    pair = tokenizer("ACGTAC", "GGGTT")
    assert pair["input_ids"] == [2, *kmer_encode("ACGTAC", 4).tolist(), 3, *kmer_encode("GGGTT", 4).tolist(), 3]
    assert pair["token_type_ids"] == [0, 0, 0, 0, 0, 1, 1, 1]
    with pytest.raises(ValueError, match="'X' at index 2"):
        kmer_encode("ACXT", 3)


# ---------------------------------------------------------------------------------------------- config


def test_config_validation_names_the_problem():
    with pytest.raises(ValueError, match="stage 1.*window_size=7"):
        GeneBertConfig.from_preset("demo", region_config={"window_size": 7})
    with pytest.raises(ValueError, match="stage 0"):  # Swin-T on the raw 10-row matrix
        GeneBertConfig.from_preset("dnabert512", region_layout="native",
                                   region_config={"num_channels": 1})
    with pytest.raises(ValueError, match="vocab_size"):
        GeneBertConfig(kmer=6, vocab_size=69)
    with pytest.raises(ValueError, match="srm_dim"):
        GeneBertConfig.from_preset("demo", srm_dim=None, hidden_size=256, num_attention_heads=4)
    with pytest.raises(ValueError, match="tf_ids"):
        tiny_config(tf_ids=["MA0001.1"])
    with pytest.raises(ValueError, match="max_position_embeddings"):
        tiny_config(max_position_embeddings=64)
    with pytest.raises(ValueError, match="srm_loss"):
        tiny_config(srm_loss="printed")
    with pytest.raises(ValueError, match="preset"):
        GeneBertConfig.from_preset("huge")
    config = tiny_config()
    again = GeneBertConfig.from_dict(config.to_dict())
    assert again.region_config == config.region_config and again.vocab_size == 69


@pytest.mark.parametrize("preset", ["demo", pytest.param("dnabert512", marks=pytest.mark.slow)])
def test_preset_output_shapes(preset):
    config = GeneBertConfig.from_preset(preset)
    model = GeneBertForPreTraining(config).eval()
    ids, regions = batch(config, size=2)
    assert ids.shape[1] == 453  # 10 regions x 45 6-mers + [CLS] + 2 [SEP]
    with torch.no_grad():
        out = model(input_ids=ids, region_values=regions)
    dim = config.srm_dim
    assert out.prediction_logits.shape == (2, 453, 4101) and out.seq_relationship_logits.shape == (2, 2)
    assert out.seq_embeds.shape == (2, dim) and out.region_embeds.shape == (2, dim)
    assert out.srm_loss is not None and out.mlm_loss is None and out.loss == pytest.approx(0.5 * out.srm_loss.item())
    assert GeneBertConfig.from_preset("full_peaks").max_position_embeddings == 4960


# ---------------------------------------------------------------------------------------------- models


def test_every_head_runs_and_round_trips(tmp_path):
    config = tiny_config(num_labels=2)
    ids, regions = batch(config)
    for cls in (GeneBertModel, GeneBertForPreTraining, GeneBertForMaskedLM, GeneBertForSequenceClassification,
                GeneBertForTokenClassification):
        torch.manual_seed(0)
        model = cls(config).eval()
        kwargs = {"region_values": regions} if cls in (GeneBertModel, GeneBertForPreTraining) else {}
        with torch.no_grad():
            first = model(input_ids=ids, **kwargs)
        model.save_pretrained(tmp_path / cls.__name__)
        loaded = cls.from_pretrained(tmp_path / cls.__name__).eval()
        with torch.no_grad():
            second = loaded(input_ids=ids, **kwargs)
        key = next(k for k in ("prediction_logits", "logits", "seq_embeds") if getattr(first, k, None) is not None)
        assert torch.equal(getattr(first, key), getattr(second, key)), cls.__name__
    token = GeneBertForTokenClassification(config)
    labels = torch.full(ids.shape, -100)
    labels[:, 5] = 1
    assert token(input_ids=ids, labels=labels).loss > 0


def test_losses_by_hand():
    config = tiny_config()
    model = GeneBertForPreTraining(config).eval()
    ids, regions = batch(config)
    labels = torch.full(ids.shape, -100)
    labels[:, 7], labels[:, 20] = ids[:, 7], ids[:, 20]
    nsp = torch.tensor([0, 1, 0])
    with torch.no_grad():
        out = model(input_ids=ids, region_values=regions, labels=labels, next_sentence_label=nsp)
    logits = out.prediction_logits
    mlm = torch.nn.functional.cross_entropy(logits[:, [7, 20]].reshape(-1, config.vocab_size), ids[:, [7, 20]].reshape(-1))
    rel = out.seq_relationship_logits
    nsp_loss = -torch.log_softmax(rel, -1)[torch.arange(3), nsp].mean()
    seq = torch.nn.functional.normalize(out.seq_embeds, dim=-1)
    reg = torch.nn.functional.normalize(out.region_embeds, dim=-1)
    srm = srm_loss(seq @ reg.t(), config.srm_temperature_init, "clip")
    assert out.mlm_loss.item() == pytest.approx(mlm.item(), abs=1e-5)
    assert out.nsp_loss.item() == pytest.approx(nsp_loss.item(), abs=1e-5)
    assert out.srm_loss.item() == pytest.approx(srm.item(), abs=1e-4)
    assert out.loss.item() == pytest.approx((mlm + nsp_loss + 0.5 * srm).item(), abs=1e-4)
    # the training shortcut: the head on the masked positions only, same loss, the same logits there
    with torch.no_grad():
        short = model(input_ids=ids, region_values=regions, labels=labels, next_sentence_label=nsp,
                      masked_logits_only=True)
    assert short.prediction_logits.shape == (6, config.vocab_size)
    torch.testing.assert_close(short.prediction_logits, logits[labels != -100])
    assert short.loss.item() == pytest.approx(out.loss.item(), abs=1e-6)


def test_matching_loss_reference_values_and_the_printed_formula():
    s = torch.tensor([[0.9, 0.1, -0.2], [0.0, 0.8, 0.3], [0.2, -0.1, 0.7]], dtype=torch.float64)
    assert srm_loss(s, 1.0, "clip").item() == pytest.approx(0.672856, abs=1e-6)
    rows = torch.nn.functional.cross_entropy(s, torch.arange(3)).item()
    columns = torch.nn.functional.cross_entropy(s.t(), torch.arange(3)).item()
    assert (rows, columns) == (pytest.approx(0.673079, abs=1e-6), pytest.approx(0.672632, abs=1e-6))
    assert srm_loss(s, 0.1, "clip").item() == pytest.approx(0.005798, abs=1e-6)
    assert srm_loss(s, 1.0, "eq1").item() == pytest.approx(0.670585, abs=1e-6)
    # Eq. (1) exactly as printed: the denominator indexes both factors with j, a constant
    seq = torch.randn(3, 8, requires_grad=True)
    reg = torch.randn(3, 8, requires_grad=True)
    dots = (seq * reg).sum(-1)
    printed = -torch.log(dots.sum() / (3 * dots.sum()))
    printed.backward()
    assert printed.item() == pytest.approx(math.log(3), abs=1e-6)
    assert seq.grad.abs().max().item() < 1e-6 and reg.grad.abs().max().item() < 1e-6


def test_matching_loss_trains_both_encoders():
    config = tiny_config()
    model = GeneBertForPreTraining(config)
    ids, regions = batch(config, size=4)
    model(input_ids=ids, region_values=regions).srm_loss.backward()
    text = model.bert.encoder.layer[0].attention.self.query.weight.grad
    swin = next(p.grad for n, p in model.region_encoder.named_parameters() if n.endswith("patch_embeddings.projection.weight"))
    assert text.abs().sum() > 0 and swin.abs().sum() > 0 and model.logit_scale.grad.abs() > 0


def test_dnabert_weights_load_by_name(tmp_path):
    """A DNABERT-shaped BertForMaskedLM (k = 6 vocabulary, BERT names) loads into GeneBERT: only
    the new parts (NSP head, Swin, projections, temperature) are missing."""
    from transformers import BertConfig, BertForMaskedLM

    config = GeneBertConfig.from_preset("demo")
    bert = BertForMaskedLM(BertConfig(vocab_size=4101, hidden_size=128, num_hidden_layers=4, num_attention_heads=4,
                                      intermediate_size=512, max_position_embeddings=512))
    bert.save_pretrained(tmp_path / "dnabert")
    import json

    values = {**config.to_dict(), "architectures": ["GeneBertForPreTraining"]}
    (tmp_path / "dnabert" / "config.json").write_text(json.dumps(values))
    model, info = GeneBertForPreTraining.from_pretrained(tmp_path / "dnabert", output_loading_info=True)
    missing = set(info["missing_keys"])
    assert missing and all(k.startswith(("cls.seq_relationship", "region_encoder", "seq_projection",
                                         "region_projection", "logit_scale")) for k in missing), missing
    assert not info["unexpected_keys"]
    assert torch.equal(model.bert.encoder.layer[3].output.dense.weight, bert.bert.encoder.layer[3].output.dense.weight)
    assert torch.equal(model.cls.predictions.transform.dense.weight, bert.cls.predictions.transform.dense.weight)


# ---------------------------------------------------------------------------------------------- Hub


def test_hub_folders_load_with_the_package():
    """(Their drift from a fresh export is checked once, for every family, in test_checkpoints.)"""
    import splicebert_plugin  # noqa: F401  (registers GeneBERT)
    from transformers import AutoConfig, AutoModelForPreTraining, AutoTokenizer

    folder = REPO / "hub_models/GeneBERT-demo"
    config = AutoConfig.from_pretrained(folder)
    assert isinstance(config, GeneBertConfig)
    assert type(AutoModelForPreTraining.from_config(config)) is GeneBertForPreTraining
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer("ACGTACGT")["input_ids"] == [2, *kmer_encode("ACGTACGT", 6).tolist(), 3]


@pytest.mark.slow
def test_hub_folder_loads_by_remote_code_without_the_package(tmp_path):
    code = f"""
import sys, torch
from transformers import AutoConfig, AutoModelForPreTraining, AutoTokenizer
folder = {str(REPO / 'hub_models/GeneBERT-demo')!r}
config = AutoConfig.from_pretrained(folder, trust_remote_code=True)
model = AutoModelForPreTraining.from_config(config, trust_remote_code=True).eval()
tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=True)
ids = torch.tensor([tokenizer('ACGT' * 120)['input_ids'][:453]])
out = model(input_ids=ids, region_values=torch.zeros(1, 10, 579))
print(type(model).__module__, 'splicebert_plugin' in sys.modules, tuple(out.region_embeds.shape))
"""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    module, imported, shape = result.stdout.split(maxsplit=2)
    assert module.startswith("transformers_modules") and imported == "False" and shape.strip() == "(1, 128)"


TWO_PROCESS_SCRIPT = """
import json, sys, torch, torch.distributed as dist
from splicebert_plugin.genebert import GeneBertForPreTraining
from tests.genebert_fixtures import batch, tiny_config

dist.init_process_group("gloo")
rank, world = dist.get_rank(), dist.get_world_size()
torch.manual_seed(0)
model = GeneBertForPreTraining(tiny_config()).eval()  # no dropout: both runs see the same function
ids, regions = batch(model.config, size=5, seed=1)
part = slice(0, 3) if rank == 0 else slice(3, 5)  # uneven, as an epoch's last batch can be
out = model(input_ids=ids[part], region_values=regions[part])
out.srm_loss.backward()
grad = model.region_projection.weight.grad.clone()
dist.all_reduce(grad)
grad /= world  # what DDP's averaging gives
if rank == 0:
    json.dump({"loss": out.srm_loss.item(), "grad": grad.flatten()[:20].tolist()}, open(sys.argv[1], "w"))
dist.barrier()
dist.destroy_process_group()  # a gloo group left open can abort the interpreter at exit
"""


@pytest.mark.slow
def test_two_processes_give_the_single_process_matching_loss(tmp_path):
    """Each process holds part of the batch (3 and 2 pairs); the gathered loss (negatives from both)
    equals the one-process loss on the whole batch, and so do the averaged gradients."""
    import json

    run_two_processes(TWO_PROCESS_SCRIPT, tmp_path, str(tmp_path / "out.json"))
    two = json.loads((tmp_path / "out.json").read_text())
    torch.manual_seed(0)
    model = GeneBertForPreTraining(tiny_config()).eval()
    ids, regions = batch(model.config, size=5, seed=1)
    out = model(input_ids=ids, region_values=regions)
    out.srm_loss.backward()
    assert two["loss"] == pytest.approx(out.srm_loss.item(), abs=1e-6)
    np.testing.assert_allclose(two["grad"], model.region_projection.weight.grad.flatten()[:20].numpy(), atol=1e-6)
