"""The matching loss over the whole optimiser batch, across gradient accumulation (GradCache).

Gradient accumulation splits an optimiser batch into micro-batches that fit in memory; a
contrastive loss computed per micro-batch then sees only the micro-batch's pairs as negatives
(32 of the paper's 2,000). :func:`cached_matching_step` gives the loss and the gradients of the
whole batch with one micro-batch's memory, as GradCache does (Gao et al. 2021):

1. every micro-batch runs forward without a graph; its sequence and region embeddings are kept
   (with the random state of the pass, so dropout is replayed exactly in step 3);
2. the matching loss of all embeddings (and, across processes, every process's: gathered) is
   computed once, with gradients with respect to the embeddings and the temperature;
3. every micro-batch runs forward again with a graph, and backward on
   ``w_mlm * mlm + w_nsp * nsp + <embeddings, their cached gradients>`` (the temperature's
   gradient is added once); DDP synchronises on the last micro-batch only.

The MLM loss is weighted by each micro-batch's share of the masked positions and next-sequence
loss by its share of the samples, so on one process the loss and the gradients equal those of
one forward pass over the whole batch (tested). Across processes the matching loss is over the
global batch; MLM and next-sequence are per-process means averaged by DDP, as usual.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable, Sequence

import torch


@dataclass
class Chunk:
    """One micro-batch: the collated batch and its masked inputs and labels."""

    batch: dict
    input_ids: torch.Tensor
    labels: torch.Tensor


@dataclass
class CachedStep:
    loss: float  # mlm + nsp + srm_weight * srm of the whole batch (this process's parts)
    srm_loss: float
    outputs: list  # each micro-batch's output of the pass with gradients
    seq_embeds: torch.Tensor  # (b, D) this process's embeddings of pass 1, detached
    region_embeds: torch.Tensor


def split_batch(batch: dict, input_ids: torch.Tensor, labels: torch.Tensor, size: int) -> list[Chunk]:
    """Micro-batches of ``size`` samples (the last may be smaller), every tensor split on dim 0."""
    pieces = {key: torch.split(value, size) for key, value in batch.items()}
    ids, labs = torch.split(input_ids, size), torch.split(labels, size)
    return [Chunk({key: pieces[key][i] for key in batch}, ids[i], labs[i]) for i in range(len(ids))]


def _rng_state():
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() and torch.cuda.is_initialized() else None
    return torch.get_rng_state(), cuda


def _set_rng_state(state) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state_all(state[1])


def cached_matching_step(model, core, chunks: Sequence[Chunk], forward: Callable, *, srm_weight: float,
                         backward: Callable[[torch.Tensor], None] = torch.Tensor.backward,
                         no_sync: Callable = nullcontext) -> CachedStep:
    """Run one optimiser batch's forward and backward passes (gradients accumulate in ``model``).

    ``model``: what to call (possibly DDP-wrapped); ``core``: the unwrapped
    ``GeneBertForPreTraining`` (its ``matching_loss`` and ``logit_scale``); ``forward(model,
    chunk)`` returns the model's output for a chunk called with ``compute_matching_loss=False``;
    ``backward``: e.g. ``accelerator.backward``; ``no_sync()``: a context that suspends gradient
    synchronisation (``lambda: accelerator.no_sync(model)``), used for all but the last chunk.
    """
    if not chunks:
        raise ValueError("cached_matching_step needs at least one micro-batch")
    states, seq, region = [], [], []
    with torch.no_grad():
        for chunk in chunks:
            states.append(_rng_state())
            out = forward(model, chunk)
            if out.region_embeds is None:
                raise ValueError("cached matching needs region_values in every micro-batch")
            seq.append(out.seq_embeds.float())
            region.append(out.region_embeds.float())
    after = _rng_state()
    seq_all = torch.cat(seq).requires_grad_(True)
    region_all = torch.cat(region).requires_grad_(True)
    with torch.enable_grad():
        srm = core.matching_loss(seq_all, region_all)
        targets = [seq_all, region_all]
        learn_scale = core.logit_scale.requires_grad
        if learn_scale:
            targets.append(core.logit_scale)
        grads = torch.autograd.grad(srm_weight * srm, targets)
    sizes = [len(part) for part in seq]
    seq_grads, region_grads = torch.split(grads[0], sizes), torch.split(grads[1], sizes)
    scale_grad = grads[2] if learn_scale else None

    masked = [int((chunk.labels != -100).sum()) for chunk in chunks]
    samples = [len(chunk.input_ids) for chunk in chunks]
    total_masked, total_samples = max(sum(masked), 1), sum(samples)
    outputs, total = [], srm_weight * float(srm.detach())
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        _set_rng_state(states[index])
        with nullcontext() if last else no_sync():
            out = forward(model, chunk)
            loss = (out.seq_embeds.float() * seq_grads[index]).sum() + \
                (out.region_embeds.float() * region_grads[index]).sum()
            if out.mlm_loss is not None and masked[index]:
                weighted = out.mlm_loss * (masked[index] / total_masked)
                loss = loss + weighted
                total += float(weighted.detach())
            if out.nsp_loss is not None:
                weighted = out.nsp_loss * (samples[index] / total_samples)
                loss = loss + weighted
                total += float(weighted.detach())
            if last and scale_grad is not None:
                loss = loss + out.logit_scale * scale_grad
            backward(loss)
        outputs.append(out)
    _set_rng_state(after)
    return CachedStep(loss=total, srm_loss=float(srm.detach()), outputs=outputs, seq_embeds=seq_all.detach(),
                      region_embeds=region_all.detach())
