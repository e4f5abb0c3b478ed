"""Arithmetic precision of the model passes (``docs/scoring.md``, "Precision").

- ``fp32`` (default, exact): every matmul in float32, on CPU and GPU (no autocast).
- ``bf16``: the encoder under ``torch.autocast`` in bfloat16 (matmuls and attention in bf16,
  layer norms and the residual stream in float32, as autocast keeps them), the masked-LM head in
  float32; on a CUDA GPU with ``flash-attn`` installed the attention runs flash attention 2.
- ``int8``: CPU only. The encoder's attention-output and feed-forward linear layers (three
  quarters of its matmul work) run as int8 x int8 matmuls (:class:`Int8Linear`: int8 weights per
  output channel, int8 activations per token, so a sequence's result never depends on its batch);
  the fused query/key/value projection, attention, layer norms and the masked-LM head stay fp32.

Whatever the mode, the logits are converted to float32 before any softmax, and the
probabilities, KL divergences and scores are computed in float64 (``variant_effect``). The
model given is never changed: modes that need another model work on a copy.
"""

from __future__ import annotations

import copy
import importlib.util

import torch
from torch import nn

from ..errors import UserError

PRECISIONS = ("fp32", "bf16", "int8")
#: the encoder's linear layers int8 quantises, by name ending: the attention output and the two
#: feed-forward layers (``.output.dense`` is both the attention's and the feed-forward's); the
#: attention's query/key/value weights are concatenated in the forward pass and stay fp32
_INT8_LAYERS = (".output.dense", ".intermediate.dense")
_INT8_ROWS = 512  # rows (tokens) per int8 matmul block


def check_precision_name(precision: str) -> None:
    """A clear error for an unknown mode."""
    if precision not in PRECISIONS:
        raise UserError(f"precision {precision!r} is unknown; choose one of {', '.join(PRECISIONS)}")


def check_precision(precision: str, device: torch.device | str) -> None:
    """A clear error for an unknown mode or one the device cannot run."""
    check_precision_name(precision)
    if precision == "int8" and torch.device(device).type != "cpu":
        raise UserError(f"precision int8 runs on the CPU only (PyTorch's dynamic quantisation); the model is on "
                        f"{device}: use bf16 on a GPU")


def flash_attention_installed() -> bool:
    return importlib.util.find_spec("flash_attn") is not None


def int8_layer_names(model: nn.Module) -> set[str]:
    """Qualified names of the linear layers :func:`prepare_model` quantises in int8 mode."""
    return {name for name, module in model.named_modules()
            if type(module) is nn.Linear and name.endswith(_INT8_LAYERS) and ".encoder." in f".{name}"}


class Int8Linear(nn.Module):
    """A linear layer computed as an int8 x int8 -> int32 matmul (``torch._int_mm``).

    Weights: symmetric int8 per output channel. Activations: symmetric int8 per token (row),
    scaled by the row's largest magnitude, so a token's output never depends on the other tokens
    or sequences of the batch (PyTorch's ``quantize_dynamic`` scales a whole batch at once: a
    variant's score would change with its batch mates). Output and bias in float32.
    """

    def __init__(self, linear: nn.Linear):
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1).clamp(min=1e-12) / 127.0
        self.register_buffer("weight_int8", torch.round(weight / scale[:, None]).to(torch.int8).t().contiguous())
        self.register_buffer("weight_scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows = x.reshape(-1, self.in_features).float()
        out = torch.empty(rows.shape[0], self.out_features, device=rows.device)
        # blocks of rows small enough to stay in cache (the int32 products are exact: the result
        # does not depend on the block size)
        for start in range(0, rows.shape[0], _INT8_ROWS):
            block = rows[start : start + _INT8_ROWS]
            scale = block.abs().amax(dim=1, keepdim=True).clamp_(min=1e-12).div_(127.0)
            quantised = torch.round(block / scale).to(torch.int8)  # |values| <= 127 by construction
            target = out[start : start + _INT8_ROWS]
            torch.mul(torch._int_mm(quantised, self.weight_int8), scale, out=target)
            target.mul_(self.weight_scale)
            if self.bias is not None:
                target.add_(self.bias)
        return out.reshape(*x.shape[:-1], self.out_features)


def prepare_model(model: nn.Module, precision: str) -> nn.Module:
    """The model to run in ``precision``: ``model`` itself for fp32 (and bf16 without flash
    attention), else a copy (int8: with :class:`Int8Linear` layers; bf16 on CUDA with flash-attn:
    flash attention)."""
    device = next(model.parameters()).device
    check_precision(precision, device)
    if precision == "int8":
        names = int8_layer_names(model)
        if not names:
            raise UserError("precision int8: this model has no encoder layers to quantise")
        if not hasattr(torch, "_int_mm"):  # pragma: no cover - depends on the PyTorch version
            raise UserError("precision int8 needs torch._int_mm (PyTorch >= 2.1); use bf16")
        quantised = copy.deepcopy(model)
        for name in sorted(names):
            parent, _, child = name.rpartition(".")
            owner = quantised.get_submodule(parent)
            setattr(owner, child, Int8Linear(getattr(owner, child)))
        return quantised.eval()
    if precision == "bf16" and device.type == "cuda" and flash_attention_installed():
        fast = copy.deepcopy(model)
        # every attention layer reads the (shared) config's backend at run time
        fast.config._attn_implementation = "flash_attention_2"
        return fast.eval()
    return model


def forward_logits(model: nn.Module, ids: torch.Tensor, precision: str) -> torch.Tensor:
    """Float32 masked-LM logits of ``ids`` (on the model's device) in ``precision``.

    bf16: the encoder runs under autocast, and the masked-LM head (``model.cls``) runs in float32
    on its float32 output, so the logits are not rounded to bf16 (a logit of 10 would be rounded to
    a multiple of 1/16); a model without that layout runs wholly under autocast.
    """
    if precision != "bf16":
        return model(input_ids=ids, output_hidden_states=False).logits.float()
    with torch.autocast(ids.device.type, dtype=torch.bfloat16):
        if not (hasattr(model, "bert") and hasattr(model, "cls")):
            return model(input_ids=ids, output_hidden_states=False).logits.float()
        hidden = model.bert(input_ids=ids, output_hidden_states=False).last_hidden_state
    return model.cls(hidden.float()).float()
