"""The model files of both families in transformers' style: attention through the registry with
keyword arguments passed on, tuples on request, a real base-model attribute, heads that carry
only what they use, and the documented problem types."""

import pytest
import torch
import torch.nn.functional as F
from transformers import AttentionInterface

from splicebert_plugin import SpliceBertConfig, SpliceBertForMaskedLM, SpliceBertForSequenceClassification
from splicebert_plugin.genebert import (GeneBertForMaskedLM, GeneBertForPreTraining, GeneBertForSequenceClassification,
                                        GeneBertForTokenClassification, GeneBertModel)
from splicebert_plugin.splicebert import SpliceBertForTokenClassification, SpliceBertModel

from .conftest import random_ids
from .genebert_fixtures import batch, tiny_config

SPLICEBERT_CLASSES = (SpliceBertModel, SpliceBertForMaskedLM, SpliceBertForTokenClassification,
                      SpliceBertForSequenceClassification)
GENEBERT_CLASSES = (GeneBertModel, GeneBertForPreTraining, GeneBertForMaskedLM, GeneBertForSequenceClassification,
                    GeneBertForTokenClassification)


def tiny_splicebert_config(**overrides):
    values = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  max_position_embeddings=130)
    values.update(overrides)
    return SpliceBertConfig(**values)


@pytest.mark.parametrize("cls", SPLICEBERT_CLASSES + GENEBERT_CLASSES)
def test_base_model_prefix_names_a_real_attribute(cls):
    config = tiny_config() if cls in GENEBERT_CLASSES else tiny_splicebert_config()
    model = cls(config)
    if cls in (SpliceBertModel,):
        assert model.base_model is model  # the bare encoder is its own base
    else:
        assert isinstance(getattr(model, cls.base_model_prefix), torch.nn.Module)
        assert model.base_model is getattr(model, cls.base_model_prefix)


def test_splicebert_attention_goes_through_the_registry_with_keyword_arguments():
    seen = []

    def recording(module, query, key, value, attention_mask, **kwargs):
        seen.append(sorted(kwargs))
        return AttentionInterface._global_mapping["sdpa"](module, query, key, value, attention_mask, **kwargs)

    AttentionInterface.register("recording_sdpa", recording)
    torch.manual_seed(0)
    model = SpliceBertForMaskedLM(tiny_splicebert_config()).eval()
    ids = random_ids(2, 40, seed=1)
    with torch.no_grad():
        expected = model(ids).logits
        model.config._attn_implementation = "recording_sdpa"
        got = model(ids, my_flag=True).logits
    assert torch.equal(got, expected)
    assert len(seen) == 2 and all("my_flag" in kwargs and "scaling" in kwargs for kwargs in seen)


def test_eager_and_sdpa_agree_and_maps_come_from_eager():
    torch.manual_seed(0)
    model = SpliceBertForMaskedLM(tiny_splicebert_config()).eval()
    ids = random_ids(2, 40, seed=2)
    mask = torch.ones_like(ids)
    mask[0, 30:] = 0
    with torch.no_grad():
        sdpa = model(ids, attention_mask=mask).logits
        maps = model(ids, attention_mask=mask, output_attentions=True)
    assert torch.allclose(sdpa, maps.logits, atol=1e-5)
    assert len(maps.attentions) == 2 and torch.allclose(maps.attentions[0].sum(-1), torch.ones(2, 4, 42))
    assert float(maps.attentions[0][0, :, :, 31:].abs().max()) == 0.0  # padded keys get no attention


@pytest.mark.parametrize("family", ["splicebert", "genebert"])
def test_return_dict_false_gives_the_tuple(family):
    torch.manual_seed(0)
    if family == "splicebert":
        model, ids = SpliceBertForMaskedLM(tiny_splicebert_config()).eval(), random_ids(1, 20)
    else:
        model = GeneBertForMaskedLM(tiny_config()).eval()
        ids = batch(model.config, size=1)[0]
    with torch.no_grad():
        as_dict = model(ids)
        as_tuple = model(ids, return_dict=False)
    assert isinstance(as_tuple, tuple) and torch.equal(as_tuple[0], as_dict.logits)


@pytest.mark.parametrize("cls,fuse", [(GeneBertForMaskedLM, False), (GeneBertForTokenClassification, False),
                                      (GeneBertForSequenceClassification, False),
                                      (GeneBertForSequenceClassification, True)])
def test_genebert_heads_carry_only_what_they_use(cls, fuse, tmp_path):
    """No Swin, projection or temperature in a head unless it uses them; every parameter gets a
    gradient; a pretraining folder loads into the head with the k-mer encoder's weights."""
    config = tiny_config(fuse_regions=fuse, num_labels=1)
    torch.manual_seed(0)
    pretraining = GeneBertForPreTraining(config)
    pretraining.save_pretrained(str(tmp_path))
    head, info = cls.from_pretrained(str(tmp_path), output_loading_info=True)
    names = [name for name, _ in head.named_parameters()]
    assert any(n.startswith("region_encoder.") for n in names) == fuse
    assert not any(n.startswith(("seq_projection", "region_projection", "logit_scale")) for n in names)
    assert info["unexpected_keys"] == [] or set(info["unexpected_keys"]) == set()
    key = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(head.state_dict()[key], pretraining.state_dict()[key])
    ids, regions = batch(config, size=2)
    kwargs = {"region_values": regions} if fuse else {}
    if cls is GeneBertForMaskedLM:
        labels = ids.clone()
    elif cls is GeneBertForTokenClassification:
        labels = torch.zeros_like(ids).fill_(-100)
        labels[:, 3] = 0
    else:
        labels = torch.tensor([0.0, 1.0])
    head.train()
    head(ids, labels=labels, **kwargs).loss.backward()
    missing = [n for n, p in head.named_parameters() if p.requires_grad and p.grad is None]
    assert missing == []


@pytest.mark.parametrize("cls", [SpliceBertForSequenceClassification, GeneBertForSequenceClassification])
def test_problem_type_is_honoured(cls):
    config = tiny_config(num_labels=3) if cls is GeneBertForSequenceClassification else \
        tiny_splicebert_config(num_labels=3)
    torch.manual_seed(0)
    model = cls(config).eval()
    ids = batch(config, size=2)[0] if cls is GeneBertForSequenceClassification else random_ids(2, 20)
    with torch.no_grad():
        logits = model(ids).logits
        integer = torch.tensor([2, 0])
        assert torch.allclose(model(ids, labels=integer).loss, F.cross_entropy(logits, integer))
        targets = torch.tensor([[0.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
        assert torch.allclose(model(ids, labels=targets).loss, F.binary_cross_entropy_with_logits(logits, targets))
        model.config.problem_type = "regression"
        values = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, 3.0]])
        assert torch.allclose(model(ids, labels=values).loss, F.mse_loss(logits, values))
        model.config.problem_type = "multi_label_classification"
        assert torch.allclose(model(ids, labels=targets).loss, F.binary_cross_entropy_with_logits(logits, targets))
