"""The matching loss over the optimiser batch across gradient accumulation (cached embeddings):
its loss and gradients equal one forward pass over the whole batch."""

import json

import numpy as np
import pytest
import torch

from splicebert_plugin.genebert import GeneBertForPreTraining
from splicebert_plugin.training.genebert.cached_matching import cached_matching_step, split_batch

from .conftest import run_two_processes
from .genebert_fixtures import masked_batch, pretraining_forward, tiny_config


def _grads(model):
    return {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("srm_loss", ["clip", "eq1"])
def test_cached_loss_and_gradients_equal_one_large_batch(srm_loss):
    torch.manual_seed(0)
    config = tiny_config(srm_loss=srm_loss, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = GeneBertForPreTraining(config)
    data, ids, labels = masked_batch(config)
    full = pretraining_forward(model, data, ids, labels)
    full.loss.backward()
    expected = _grads(model)
    assert full.srm_loss is not None and full.nsp_loss is not None
    model.zero_grad()

    chunks = split_batch(data, ids, labels, 3)  # 3 + 3 + 2: unequal micro-batches
    assert [len(chunk.input_ids) for chunk in chunks] == [3, 3, 2]
    done = cached_matching_step(model, model, chunks, lambda m, c: pretraining_forward(m, c.batch, c.input_ids, c.labels, False),
                                srm_weight=config.srm_weight)
    assert done.loss == pytest.approx(full.loss.item(), rel=1e-6)
    assert done.srm_loss == pytest.approx(full.srm_loss.item(), rel=1e-6)
    got = _grads(model)
    assert set(got) == set(expected)
    assert model.logit_scale.grad is not None and model.region_projection.weight.grad.abs().sum() > 0
    for name, grad in expected.items():
        torch.testing.assert_close(got[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_per_micro_batch_matching_differs_from_the_large_batch():
    """The control: averaging micro-batch matching losses (what accumulation alone gives) is not
    the large-batch loss, so the equality above is not automatic."""
    torch.manual_seed(0)
    config = tiny_config(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = GeneBertForPreTraining(config).eval()
    data, ids, labels = masked_batch(config)
    with torch.no_grad():
        full = pretraining_forward(model, data, ids, labels).srm_loss.item()
        micro = np.mean([pretraining_forward(model, c.batch, c.input_ids, c.labels).srm_loss.item()
                         for c in split_batch(data, ids, labels, 2)])
    assert abs(full - micro) > 0.1


def test_dropout_is_replayed_between_the_two_passes():
    """With dropout, the cached gradients equal those of running the micro-batches with a graph
    (same random stream) and back-propagating the large-batch loss through all of them."""
    config = tiny_config(hidden_dropout_prob=0.2, attention_probs_dropout_prob=0.2,
                         region_config={**tiny_config().region_config, "hidden_dropout_prob": 0.2})
    torch.manual_seed(0)
    model = GeneBertForPreTraining(config).train()
    data, ids, labels = masked_batch(config)
    chunks = split_batch(data, ids, labels, 4)

    torch.manual_seed(123)
    outs = [pretraining_forward(model, c.batch, c.input_ids, c.labels, False) for c in chunks]
    srm = model.matching_loss(torch.cat([o.seq_embeds for o in outs]), torch.cat([o.region_embeds for o in outs]))
    masked = [int((c.labels != -100).sum()) for c in chunks]
    loss = sum(o.mlm_loss * m / sum(masked) + o.nsp_loss * len(c.input_ids) / len(ids)
               for o, m, c in zip(outs, masked, chunks)) + config.srm_weight * srm
    loss.backward()
    expected = _grads(model)
    model.zero_grad()

    torch.manual_seed(123)
    done = cached_matching_step(model, model, chunks, lambda m, c: pretraining_forward(m, c.batch, c.input_ids, c.labels, False),
                                srm_weight=config.srm_weight)
    assert done.loss == pytest.approx(loss.item(), rel=1e-6)
    for name, grad in expected.items():
        torch.testing.assert_close(_grads(model)[name], grad, rtol=1e-4, atol=1e-6, msg=name)


def test_cached_step_refuses_what_it_cannot_do():
    config = tiny_config()
    model = GeneBertForPreTraining(config)
    data, ids, labels = masked_batch(config, size=2)
    with pytest.raises(ValueError, match="at least one"):
        cached_matching_step(model, model, [], lambda m, c: None, srm_weight=0.5)
    no_regions = {key: value for key, value in data.items() if key != "region_values"}
    with pytest.raises(ValueError, match="region_values"):
        cached_matching_step(model, model, split_batch(no_regions, ids, labels, 1),
                             lambda m, c: pretraining_forward(m, c.batch, c.input_ids, c.labels, False), srm_weight=0.5)


TWO_PROCESS_SCRIPT = """
import json, sys
import torch, torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from genebert_fixtures import masked_batch, pretraining_forward, tiny_config
from splicebert_plugin.genebert import GeneBertForPreTraining
from splicebert_plugin.training.genebert.cached_matching import cached_matching_step, split_batch

dist.init_process_group("gloo")
rank = dist.get_rank()
torch.manual_seed(0)
config = tiny_config(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
core = GeneBertForPreTraining(config)
model = DistributedDataParallel(core)
data, ids, labels = masked_batch(config, size=8)
half = slice(0, 4) if rank == 0 else slice(4, 8)
mine = {key: value[half] for key, value in data.items()}
done = cached_matching_step(model, core, split_batch(mine, ids[half], labels[half], 2),
                            lambda m, c: pretraining_forward(m, c.batch, c.input_ids, c.labels, False),
                            srm_weight=config.srm_weight, no_sync=model.no_sync)
if rank == 0:
    json.dump({"srm": done.srm_loss, "grads": {n: p.grad.flatten()[:50].tolist() for n, p in core.named_parameters()
                                              if p.grad is not None}}, open(sys.argv[1], "w"))
dist.barrier()
dist.destroy_process_group()
"""


@pytest.mark.slow
def test_two_processes_with_cached_micro_batches_equal_one_large_batch(tmp_path):
    """2 processes x 2 micro-batches of 2: the matching loss is the one of all 8 pairs, and the
    synchronised gradients of the parameters only the matching loss reaches (projections, Swin,
    temperature) equal the one-process gradients of lambda * srm over the 8 pairs. (MLM and NSP
    are per-process means averaged by DDP, as in any data-parallel run.)"""
    run_two_processes(TWO_PROCESS_SCRIPT, tmp_path, str(tmp_path / "out.json"))
    two = json.loads((tmp_path / "out.json").read_text())

    torch.manual_seed(0)
    config = tiny_config(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = GeneBertForPreTraining(config)
    data, ids, labels = masked_batch(config, size=8)
    out = pretraining_forward(model, data, ids, labels)
    assert two["srm"] == pytest.approx(out.srm_loss.item(), rel=1e-6)
    (config.srm_weight * out.srm_loss).backward()
    # parameters only the matching loss reaches: the projections, the Swin, the temperature
    for name in ("region_projection.weight", "seq_projection.weight", "logit_scale", "region_encoder.embeddings.patch_embeddings.projection.weight"):
        np.testing.assert_allclose(two["grads"][name], dict(model.named_parameters())[name].grad.flatten()[:50].numpy(),
                                   rtol=1e-4, atol=1e-6, err_msg=name)
