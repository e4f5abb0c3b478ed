"""The authors' released SpliceBERT checkpoints, listed once.

Every part of the project that knows the releases (``hub_models/`` folders, model cards, Kipoi
packages, original-format test checkpoints) reads this table; the original ``config.json`` of
each release is bundled in ``resources/release_configs/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from ..errors import UserError


@dataclass(frozen=True)
class ReleasedModel:
    """One of the authors' released checkpoints."""

    name: str
    nucleotides: int  # the input length it was trained on (the default scoring window)
    summary: str
    training_data: str
    window: str
    aliases: tuple[str, ...] = ()  # other spellings (MultiMolecule's), matched case-insensitively
    weights_sha256: str = ""  # of pytorch_model.bin in the authors' archive
    multimolecule_repo: str = ""  # the MultiMolecule port on the Hugging Face Hub
    multimolecule_revision: str = ""  # the pinned commit of that port


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
        aliases=("splicebert", "splicebert.1024", "splicebert.1024nt"),
        weights_sha256="2ad91428c318e6c49233154073ca7a35f5f7899c9f4be3444775bae3dba0149d",
        multimolecule_repo="multimolecule/splicebert",
        multimolecule_revision="16d96fd9b5e683384cf71bf1327f8b6ac9a181dd",
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
        aliases=("splicebert.510", "splicebert.510nt"),
        weights_sha256="b3a48c768a029dc6291cde8085c0bc02d40a6d03007b0535e6788573e2ea7808",
        multimolecule_repo="multimolecule/splicebert.510",
        multimolecule_revision="20fed0e00e281b4e0748c9c27f03c33fa84def65",
    ),
    ReleasedModel(
        name="SpliceBERT-human.510nt",
        nucleotides=510,
        summary="SpliceBERT trained on human primary transcripts only, fixed 510-nt inputs.",
        training_data="Human primary RNA sequences only, same recipe as SpliceBERT.510nt (stage 1).",
        window="exactly 510 nt (512 positions with [CLS]/[SEP]); only reliable at that length",
        aliases=("splicebert-human.510", "splicebert-human.510nt"),
        weights_sha256="7d9e7b6d53f2e42efbd19de2ad01c195244c138bff1e4468334294e3a62cae90",
        multimolecule_repo="multimolecule/splicebert-human.510",
    ),
)


@dataclass(frozen=True)
class ArchiveSource:
    """Where an archive of the released checkpoints comes from and how it is checked.

    ``urls`` are tried in order. ``size`` and ``md5`` check the whole archive (``None``: not
    checked); ``weights_sha256`` (release name -> hex digest) checks each extracted
    ``pytorch_model.bin``. ``folder`` is the archive's top folder (``models/<release>/...``).
    """

    urls: tuple[str, ...]
    size: int | None
    md5: str | None
    weights_sha256: dict = field(default_factory=dict)
    folder: str = "models"
    filename: str = "models.tar.gz"
    licence: str = ""


def release_names() -> tuple[str, ...]:
    return tuple(release.name for release in RELEASED_MODELS)


def find_release(name: str) -> ReleasedModel | None:
    """The release a name means: its own name or an alias, any case; None when none."""
    key = name.strip().lower()
    for release in RELEASED_MODELS:
        if key == release.name.lower() or key in release.aliases:
            return release
    return None


def get_release(name: str) -> ReleasedModel:
    """The release ``name`` means (see :func:`find_release`), or a :class:`ValueError` listing them."""
    release = find_release(name)
    if release is None:
        raise UserError(f"{name!r} is not a released SpliceBERT model; the releases are {', '.join(release_names())} "
                       "(any case; MultiMolecule's spellings splicebert, splicebert.510, splicebert-human.510 too)")
    return release


def original_config_text(name: str) -> str:
    """The release's original ``config.json`` (``model_type: bert``), byte for byte as published."""
    release = get_release(name)
    return resources.files("splicebert_plugin").joinpath("resources", "release_configs", f"{release.name}.json").read_text()


def original_config(name: str) -> dict:
    """The release's original ``config.json`` as a dict."""
    return json.loads(original_config_text(name))


def official_weights_sha256() -> dict:
    """Release name -> SHA-256 of its ``pytorch_model.bin`` in the authors' archive."""
    return {release.name: release.weights_sha256 for release in RELEASED_MODELS}


#: the authors' archive: Zenodo record 7995778, ``models.tar.gz`` (the three releases; CC BY 4.0)
ZENODO_ARCHIVE = ArchiveSource(
    urls=(
        "https://zenodo.org/records/7995778/files/models.tar.gz",
        "https://zenodo.org/api/records/7995778/files/models.tar.gz/content",
        "https://zenodo.org/record/7995778/files/models.tar.gz?download=1",
    ),
    size=217_605_407,
    md5="a51911d7d59fa6f0b07db4abaa820d84",
    weights_sha256=official_weights_sha256(),
    licence="CC BY 4.0 (Zenodo record 7995778, Chen et al.)",
)
