"""Shared fixtures: checkpoints in the exact original release format, tiny configs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

DATA = Path(__file__).parent / "data"
ORIGINAL = DATA / "splicebert_original"


def build_original_checkpoint(dst: Path, release: str, *, std: float = 0.2, seed: int = 0) -> Path:
    """The released metadata files + random weights saved by transformers' own BertForMaskedLM.

    The state dict is saved like transformers 4.x did (``pytorch_model.bin`` with the
    ``bert.embeddings.position_ids`` buffer and the tied decoder weight/bias present).
    std 0.2 instead of BERT's 0.02 so that predictions vary (see ALGORITHMS.md testing note).
    """
    from transformers import BertConfig, BertForMaskedLM

    shutil.copytree(ORIGINAL / release, dst)
    config = BertConfig.from_pretrained(str(dst))
    config.initializer_range = std
    torch.manual_seed(seed)
    model = BertForMaskedLM(config)
    state = dict(model.state_dict())
    state["bert.embeddings.position_ids"] = torch.arange(config.max_position_embeddings)[None]
    torch.save(state, dst / "pytorch_model.bin")
    return dst


@pytest.fixture(scope="session")
def original_510(tmp_path_factory) -> Path:
    return build_original_checkpoint(tmp_path_factory.mktemp("orig") / "SpliceBERT.510nt", "SpliceBERT.510nt")


@pytest.fixture(scope="session")
def original_1024(tmp_path_factory) -> Path:
    return build_original_checkpoint(tmp_path_factory.mktemp("orig") / "SpliceBERT.1024nt", "SpliceBERT.1024nt", seed=1)


@pytest.fixture(scope="session")
def reference_bert_510(original_510):
    """transformers' BertForMaskedLM on the original folder, eager attention (the original path)."""
    from transformers import BertForMaskedLM

    return BertForMaskedLM.from_pretrained(str(original_510), attn_implementation="eager").eval()


@pytest.fixture()
def tiny_config():
    from splicebert_plugin import SpliceBertConfig

    return SpliceBertConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=66,
        initializer_range=0.2,
    )


def random_ids(batch: int, nucleotides: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 10, (batch, nucleotides + 2), generator=generator)
    ids[:, 0], ids[:, -1] = 2, 3
    return ids
