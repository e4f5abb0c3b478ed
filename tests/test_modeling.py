"""Our models against transformers' own BertForMaskedLM on checkpoints in the original format."""

import pytest
import torch
from transformers import BertForMaskedLM

from splicebert_plugin import (
    SpliceBertConfig,
    SpliceBertForMaskedLM,
    SpliceBertForSequenceClassification,
    SpliceBertForTokenClassification,
    SpliceBertModel,
)

from .conftest import random_ids

TOL = 1e-5


@pytest.fixture(scope="module")
def tiny_1024(tmp_path_factory):
    from .conftest import TINY, build_original_checkpoint

    return build_original_checkpoint(tmp_path_factory.mktemp("tiny") / "tiny.1024nt", "SpliceBERT.1024nt", seed=1,
                                     shrink=TINY)


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
@pytest.mark.parametrize("release", ["tiny-510", "tiny-1024", pytest.param("510", marks=pytest.mark.slow),
                                     pytest.param("1024", marks=pytest.mark.slow)])
def test_mlm_logits_equal_transformers_bert(request, release, backend):
    fixture = {"tiny-510": "tiny_510", "tiny-1024": "tiny_1024", "510": "original_510", "1024": "original_1024"}
    folder = str(request.getfixturevalue(fixture[release]))
    reference = BertForMaskedLM.from_pretrained(folder, attn_implementation=backend).eval()
    ours = SpliceBertForMaskedLM.from_pretrained(folder, attn_implementation=backend).eval()
    assert ours.config._attn_implementation == backend
    ids = random_ids(2, int(release.split("-")[-1]), seed=3)
    with torch.no_grad():
        expected = reference(ids).logits
        got = ours(ids).logits
    assert expected.std() > 0.5  # the weights give varied logits, so the comparison means something
    assert (got - expected).abs().max().item() <= TOL


@pytest.mark.parametrize("release", ["tiny", pytest.param("SpliceBERT.510nt", marks=pytest.mark.slow),
                                     pytest.param("SpliceBERT.1024nt", marks=pytest.mark.slow)])
def test_eager_equals_sdpa_and_the_original_eager_path(tmp_path, release):
    """Ours (SDPA, the default) against transformers' eager BERT (the original scripts' path).

    Built with init std 0.05 (logits std ~1, nucleotide probabilities 0.04-0.6): at std 0.2
    attention is nearly one-hot and the kernels' float rounding alone reaches 2e-4 in the logits,
    for transformers' own BERT (eager vs SDPA) just as for ours.
    """
    from .conftest import TINY, build_original_checkpoint

    shrink = TINY if release == "tiny" else None
    name = "SpliceBERT.510nt" if release == "tiny" else release
    folder = str(build_original_checkpoint(tmp_path / name, name, std=0.05 if shrink is None else 0.2, seed=5,
                                           shrink=shrink))
    reference = BertForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    sdpa = SpliceBertForMaskedLM.from_pretrained(folder).eval()
    eager = SpliceBertForMaskedLM.from_pretrained(folder, attn_implementation="eager").eval()
    nucleotides = 510 if "510" in name else 1024
    ids = random_ids(2, nucleotides, seed=4)
    with torch.no_grad():
        expected = reference(ids).logits
        got_sdpa, got_eager = sdpa(ids).logits, eager(ids).logits
    assert expected.std() > 0.5
    assert (got_sdpa - expected).abs().max().item() <= TOL
    assert (got_eager - expected).abs().max().item() <= TOL
    assert (got_sdpa - got_eager).abs().max().item() <= TOL


def test_hidden_states_and_attention_maps(checkpoint_510):
    reference_bert_510 = BertForMaskedLM.from_pretrained(str(checkpoint_510), attn_implementation="eager").eval()
    ours = SpliceBertModel.from_pretrained(str(checkpoint_510)).eval()  # SDPA by default
    assert ours.config._attn_implementation == "sdpa"
    ids = random_ids(2, 100)
    with torch.no_grad():
        out = ours(ids, output_attentions=True, output_hidden_states=True)
        ref = reference_bert_510(ids, output_attentions=True, output_hidden_states=True)
    config = ours.config
    layers, heads = config.num_hidden_layers, config.num_attention_heads
    assert len(out.hidden_states) == layers + 1 and out.hidden_states[0].shape == (2, 102, config.hidden_size)
    assert len(out.attentions) == layers and out.attentions[0].shape == (2, heads, 102, 102)
    # real maps: rows are probability distributions and equal BERT's eager maps
    torch.testing.assert_close(out.attentions[0].sum(-1), torch.ones(2, heads, 102))
    for mine, theirs in zip(out.attentions, ref.attentions, strict=True):
        assert (mine - theirs).abs().max().item() <= TOL
    for mine, theirs in zip(out.hidden_states, ref.hidden_states, strict=True):
        assert (mine - theirs).abs().max().item() <= 1e-4
    assert ours.config._attn_implementation == "sdpa"  # the eager fallback did not change the model


def test_attention_maps_default_off_and_released_hidden_states_on(original_510):
    model = SpliceBertForMaskedLM.from_pretrained(str(original_510)).eval()
    with torch.no_grad():
        out = model(random_ids(1, 20))
    assert out.attentions is None
    assert len(out.hidden_states) == 7  # the released config stores output_hidden_states: true
    with torch.no_grad():
        assert model(random_ids(1, 20), output_hidden_states=False).hidden_states is None


@pytest.mark.parametrize("backend", ["sdpa", "eager"])
def test_batch_of_one_equals_padded_batch(tiny_config, backend):
    torch.manual_seed(0)
    model = SpliceBertForMaskedLM(tiny_config).eval()
    model.set_attn_implementation(backend)
    lengths = [40, 17, 64, 3]
    batch = torch.zeros(len(lengths), 66, dtype=torch.long)
    mask = torch.zeros_like(batch)
    singles = []
    for row, n in enumerate(lengths):
        ids = random_ids(1, n, seed=row)
        batch[row, : n + 2] = ids[0]
        mask[row, : n + 2] = 1
        with torch.no_grad():
            singles.append(model(ids).logits[0])
    with torch.no_grad():
        padded = model(batch, attention_mask=mask).logits
    for row, n in enumerate(lengths):
        assert (padded[row, : n + 2] - singles[row]).abs().max().item() <= TOL


def test_eager_equals_sdpa_with_padding(tiny_config):
    torch.manual_seed(1)
    model = SpliceBertForMaskedLM(tiny_config).eval()
    ids = random_ids(3, 30)
    mask = torch.ones_like(ids)
    mask[1, 20:] = 0
    mask[2, 5:] = 0
    with torch.no_grad():
        sdpa = model(ids, attention_mask=mask).logits
        model.set_attn_implementation("eager")
        eager = model(ids, attention_mask=mask).logits
    assert (sdpa - eager).abs().max().item() <= TOL


def test_save_load_round_trip(tiny_config, tmp_path):
    torch.manual_seed(2)
    model = SpliceBertForMaskedLM(tiny_config).eval()
    model.save_pretrained(str(tmp_path))
    again = SpliceBertForMaskedLM.from_pretrained(str(tmp_path)).eval()
    ids = random_ids(2, 50)
    with torch.no_grad():
        assert torch.equal(model(ids).logits, again(ids).logits)
    assert again.cls.predictions.decoder.weight.data_ptr() == again.bert.embeddings.word_embeddings.weight.data_ptr()


def test_gradient_checkpointing_trains_and_matches_gradients(tiny_config):
    torch.manual_seed(3)
    config = SpliceBertConfig(**{**tiny_config.to_dict(), "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0})
    plain = SpliceBertForMaskedLM(config).train()
    checkpointed = SpliceBertForMaskedLM(config).train()
    checkpointed.load_state_dict(plain.state_dict())
    enable = getattr(checkpointed, "activation_checkpointing_enable", None) or checkpointed.gradient_checkpointing_enable
    enable()
    assert checkpointed.bert.encoder.gradient_checkpointing
    ids = random_ids(2, 30)
    labels = torch.full_like(ids, -100)
    labels[:, 5:10] = ids[:, 5:10]
    for model in (plain, checkpointed):
        model(ids, labels=labels).loss.backward()
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, msg=name)
    # and a few optimiser steps lower the loss
    optimiser = torch.optim.AdamW(checkpointed.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        optimiser.zero_grad()
        loss = checkpointed(ids, labels=labels).loss
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_mlm_loss_is_cross_entropy_on_labelled_positions(tiny_config):
    model = SpliceBertForMaskedLM(tiny_config).eval()
    ids = random_ids(2, 10)
    labels = torch.full_like(ids, -100)
    labels[0, 3] = 6
    labels[1, 5] = 9
    with torch.no_grad():
        out = model(ids, labels=labels)
    expected = -(
        torch.log_softmax(out.logits[0, 3], -1)[6] + torch.log_softmax(out.logits[1, 5], -1)[9]
    ) / 2
    torch.testing.assert_close(out.loss, expected)


def test_token_classification_head(tiny_config):
    config = SpliceBertConfig(**{**tiny_config.to_dict(), "num_labels": 2})
    model = SpliceBertForTokenClassification(config).eval()
    ids = random_ids(2, 20)
    labels = torch.full_like(ids, -100)
    labels[:, 4:8] = torch.tensor([0, 1, 0, 0])
    with torch.no_grad():
        out = model(ids, labels=labels)
    assert out.logits.shape == (2, 22, 2)
    picked = out.logits[:, 4:8].reshape(-1, 2)
    expected = torch.nn.functional.cross_entropy(picked, labels[:, 4:8].reshape(-1))
    torch.testing.assert_close(out.loss, expected)


def test_sequence_classification_head_binary_bce(tiny_config):
    config = SpliceBertConfig(**{**tiny_config.to_dict(), "num_labels": 1})
    model = SpliceBertForSequenceClassification(config).eval()
    ids = random_ids(3, 20)
    labels = torch.tensor([1.0, 0.0, 1.0])
    with torch.no_grad():
        out = model(ids, labels=labels)
        cls_state = model.bert(ids, output_hidden_states=False).last_hidden_state[:, 0]
    # [CLS] -> Linear + tanh -> (dropout) -> Linear
    manual = model.classifier(torch.tanh(model.bert.pooler.dense(cls_state)))
    torch.testing.assert_close(out.logits, manual)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(out.logits.squeeze(-1), labels)
    torch.testing.assert_close(out.loss, expected)
    assert "bert.pooler.dense.weight" in model.state_dict()  # BertForSequenceClassification names


def test_sequence_classification_multiclass_cross_entropy(tiny_config):
    config = SpliceBertConfig(**{**tiny_config.to_dict(), "num_labels": 3})
    model = SpliceBertForSequenceClassification(config).eval()
    labels = torch.tensor([0, 2])
    with torch.no_grad():
        out = model(random_ids(2, 10), labels=labels)
    torch.testing.assert_close(out.loss, torch.nn.functional.cross_entropy(out.logits, labels))


def test_heads_load_from_released_mlm_checkpoint(original_510):
    model = SpliceBertForTokenClassification.from_pretrained(str(original_510), num_labels=2)
    reference = SpliceBertModel.from_pretrained(str(original_510))
    torch.testing.assert_close(
        model.bert.encoder.layer[3].output.dense.weight, reference.encoder.layer[3].output.dense.weight
    )


def test_too_long_input_is_a_clear_error(tiny_config):
    model = SpliceBertModel(tiny_config)
    with pytest.raises(ValueError, match="longer than this model's 66 positions"):
        model(random_ids(1, 65))


def test_unknown_attention_backend_is_a_clear_error(tiny_config):
    with pytest.raises(ValueError, match="attn_implementation"):
        SpliceBertForMaskedLM._from_config(tiny_config, attn_implementation="not-a-kernel")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only error")
def test_flash_attention_without_cuda_is_a_clear_error(tiny_config):
    with pytest.raises((ValueError, ImportError), match="(?i)flash"):
        model = SpliceBertForMaskedLM._from_config(tiny_config, attn_implementation="flash_attention_2")
        model(random_ids(1, 10))


def test_bad_attention_mask_shape(tiny_config):
    model = SpliceBertModel(tiny_config)
    with pytest.raises(ValueError, match="attention_mask must have shape"):
        model(random_ids(2, 10), attention_mask=torch.ones(2, 5))
