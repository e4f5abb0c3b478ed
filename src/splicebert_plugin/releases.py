"""The authors' released SpliceBERT checkpoints, listed once.

Every part of the project that knows the releases (``hub_models/`` folders, model cards, Kipoi
packages, original-format test checkpoints) reads this table; the original ``config.json`` of
each release is bundled in ``resources/release_configs/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class ReleasedModel:
    """One of the authors' released checkpoints."""

    name: str
    nucleotides: int  # the input length it was trained on (the default scoring window)
    summary: str
    training_data: str
    window: str


RELEASED_MODELS: tuple[ReleasedModel, ...] = (
    ReleasedModel(
        name="SpliceBERT.1024nt",
        nucleotides=1024,
        summary="The main SpliceBERT model: inputs of 64 to 1024 nucleotides.",
        training_data=(
            "Primary RNA sequences (pre-mRNA: exons and introns, overlapping transcripts merged) of 72 "
            "vertebrates, about 2 M sequences and 65 G nucleotides, 50,000 sequences held out. Stage 1: "
            "fixed 510-nt windows; stage 2 (this model): variable lengths 64-1024 nt. Final validation "
            "loss 1.02 (paper)."
        ),
        window="any length from 64 to 1024 nt (1026 positions with [CLS]/[SEP])",
    ),
    ReleasedModel(
        name="SpliceBERT.510nt",
        nucleotides=510,
        summary="SpliceBERT after stage 1 of pretraining: fixed 510-nt inputs.",
        training_data=(
            "Primary RNA sequences of 72 vertebrates (as SpliceBERT.1024nt), stage 1 only: fixed 510-nt "
            "windows drawn at random from whole transcripts. The paper's zero-shot variant analyses "
            "(KL-context score) use this model."
        ),
        window="exactly 510 nt (512 positions with [CLS]/[SEP]); only reliable at that length",
    ),
    ReleasedModel(
        name="SpliceBERT-human.510nt",
        nucleotides=510,
        summary="SpliceBERT trained on human primary transcripts only, fixed 510-nt inputs.",
        training_data="Human primary RNA sequences only, same recipe as SpliceBERT.510nt (stage 1).",
        window="exactly 510 nt (512 positions with [CLS]/[SEP]); only reliable at that length",
    ),
)


def release_names() -> tuple[str, ...]:
    return tuple(release.name for release in RELEASED_MODELS)


def get_release(name: str) -> ReleasedModel:
    """The release called ``name`` (exact spelling), or a :class:`KeyError` listing them."""
    for release in RELEASED_MODELS:
        if release.name == name:
            return release
    raise KeyError(f"{name!r} is not a released SpliceBERT model; the releases are {', '.join(release_names())}")


def original_config_text(name: str) -> str:
    """The release's original ``config.json`` (``model_type: bert``), byte for byte as published."""
    get_release(name)
    return resources.files(__package__).joinpath("resources", "release_configs", f"{name}.json").read_text()


def original_config(name: str) -> dict:
    """The release's original ``config.json`` as a dict."""
    return json.loads(original_config_text(name))
