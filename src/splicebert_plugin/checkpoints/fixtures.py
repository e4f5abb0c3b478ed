"""Checkpoints in the authors' release layout with random weights: for tests, benchmarks and
``splicebert example``. The predictions of such a model mean nothing."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..sources.releases import original_config_text
from ..splicebert import tokenization


def write_random_original_checkpoint(
    dst: str | os.PathLike, release: str = "SpliceBERT.510nt", *, seed: int = 0, init_std: float = 0.2,
    metadata: str | os.PathLike | None = None, shrink: dict | None = None,
) -> Path:
    """Write a checkpoint in the original release layout with random weights.

    The metadata files are the release's own: ``config.json`` (bundled) and ``vocab.txt``, or
    every file of the ``metadata`` folder (e.g. the five released metadata files) copied byte for
    byte. The weights are a transformers ``BertForMaskedLM`` initialised with ``init_std`` (0.2
    gives varied predictions; BERT's default 0.02 makes every output nearly uniform) and saved as
    ``pytorch_model.bin`` the way transformers 4.x did, with the ``position_ids`` buffer and the
    tied decoder weight present. ``shrink`` overrides values of the release's config (e.g.
    ``{"hidden_size": 32, "num_hidden_layers": 2}``: a small model in the same layout, for fast
    tests). For demonstrations and tests only: the predictions mean nothing.
    """
    import torch
    from transformers import BertConfig, BertForMaskedLM


    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    if metadata is not None:
        for item in Path(metadata).iterdir():
            if item.is_file():
                shutil.copyfile(item, dst / item.name)
    else:
        (dst / "config.json").write_text(original_config_text(release))
        (dst / "vocab.txt").write_text("\n".join(tokenization.VOCAB) + "\n")
    if shrink:
        values = json.loads((dst / "config.json").read_text())
        values.update(shrink)
        (dst / "config.json").write_text(json.dumps(values, indent=2) + "\n")
    config = BertConfig.from_pretrained(str(dst))
    config.initializer_range = init_std
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    state = dict(model.state_dict())
    state["bert.embeddings.position_ids"] = torch.arange(config.max_position_embeddings)[None]
    torch.save(state, dst / "pytorch_model.bin")
    return dst
