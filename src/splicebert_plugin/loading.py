"""The one place that turns a model spec into a loaded model.

Every command and API that accepts a model (``-m`` of the CLI, fine-tuning's ``--model``, the
Kipoi packages' ``weights``) goes through :func:`resolve_model`. A spec is:

- ``None`` or ``"demo"``: the bundled demo model (:data:`splicebert_plugin.DEMO_MODEL`);
- a checkpoint folder, converted or in the original release format (every weight checked);
- a Hugging Face Hub id (``owner/name``), loaded through ``transformers``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from .checkpoints import CheckpointError

DEMO_LABEL = "demo (splicebert-plugin demo model, not the paper's weights)"


class ResolvedModel(NamedTuple):
    model: object  # a SpliceBertForMaskedLM in eval mode on the chosen device
    label: str  # what was loaded, for output headers


def resolve_device(device: str | None = None):
    """A ``torch.device``: ``device`` if it is usable here, else a clear :class:`ValueError`.

    ``None``: the process's GPU when CUDA is available (``LOCAL_RANK`` under ``torchrun`` /
    ``accelerate launch``), else the CPU.
    """
    import torch

    if device is None:
        return torch.device(f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu")
    try:
        target = torch.device(device)
    except RuntimeError:
        raise ValueError(f"--device {device!r} is not a torch device; use cpu, cuda, cuda:1, mps, ...") from None
    if target.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"--device {device}: no CUDA device is available here (torch {torch.__version__}, "
                             f"CUDA build: {torch.version.cuda is not None}); omit --device or pass cpu")
        if target.index is not None and target.index >= torch.cuda.device_count():
            raise ValueError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if target.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"--device {device}: MPS is not available here; omit --device or pass cpu")
    return target


def _looks_like_path(spec: str) -> bool:
    return Path(spec).exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1


def load_model_spec(spec: str | None):
    """``(model, label)`` on the CPU, training/eval mode as loaded."""
    from .checkpoints import load_masked_lm

    if spec is None or spec == "demo":
        from . import DEMO_MODEL

        if not Path(DEMO_MODEL, "config.json").is_file():
            raise CheckpointError(
                f"the bundled demo model is missing from {DEMO_MODEL}; recreate it with "
                "'python training/make_demo_model.py --install' or pass -m with a SpliceBERT checkpoint"
            )
        return load_masked_lm(DEMO_MODEL), DEMO_LABEL
    if _looks_like_path(spec):
        return load_masked_lm(Path(spec).expanduser()), spec  # names the folder if it is missing
    from transformers import AutoModelForMaskedLM

    try:
        return AutoModelForMaskedLM.from_pretrained(spec), spec
    except OSError as error:
        raise CheckpointError(
            f"{spec!r} is neither a checkpoint folder nor a reachable Hub model ({error}); "
            "pass a local folder (splicebert convert makes one from the released weights)"
        ) from None


def resolve_model(spec: str | None, *, device: str | None = None) -> ResolvedModel:
    """Load the model ``spec`` names, in eval mode on ``device`` (see :func:`resolve_device`).

    Returns ``(model, label)``; errors are :class:`~.checkpoints.CheckpointError` (the spec) or
    :class:`ValueError` (the device), with messages that name the input and the fix.
    """
    target = resolve_device(device)  # checked first: a bad device fails before the load
    model, label = load_model_spec(spec)
    return ResolvedModel(model.to(target).eval(), label)
