"""Generate the ``hub_models/`` folders (one per released model, everything but the weights).

The folders are generated from ``src/`` and the bundled release configs; a test regenerates them
and fails if the committed copies drift (``python -m splicebert_plugin.publish hub-models --check``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ..checkpoints import hub_folder, model_cards
from ..genebert.configuration_genebert import GeneBertConfig
from ..sources.releases import RELEASED_MODELS, ReleasedModel, original_config

#: the GeneBERT presets published as hub_models/GeneBERT-<preset>
GENEBERT_PRESETS = ("dnabert512", "demo")


def release_config(name: str):
    """Our ``SpliceBertConfig`` for a released model, read from its original ``config.json``."""
    from ..splicebert.configuration_splicebert import SpliceBertConfig

    original = original_config(name)
    original["model_type"] = SpliceBertConfig.model_type
    original.pop("_name_or_path", None)
    return SpliceBertConfig.from_dict(original)


def write_release_folder(release: ReleasedModel, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = release_config(release.name)
    config.architectures = ["SpliceBertForMaskedLM"]
    config.save_pretrained(str(folder))
    hub_folder.finalize_config(folder)
    # the transformers version that wrote the file would make the folder drift between installs
    config_file = folder / "config.json"
    data = json.loads(config_file.read_text())
    data.pop("transformers_version", None)
    config_file.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")
    hub_folder.write_tokenizer_files(folder, config.max_nucleotides)
    hub_folder.write_code_files(folder)
    (folder / "README.md").write_text(model_cards.card_for_release(release, config))


def write_genebert_folder(preset: str, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    config = GeneBertConfig.from_preset(preset)
    config.architectures = ["GeneBertForPreTraining"]
    config.save_pretrained(str(folder))
    hub_folder.write_genebert_support_files(folder, config)
    (folder / "README.md").write_text(model_cards.card_for_genebert(preset, config))


def export_genebert_folders(out: str | Path) -> list[Path]:
    out = Path(out)
    written = []
    for preset in GENEBERT_PRESETS:
        folder = out / f"GeneBERT-{preset}"
        write_genebert_folder(preset, folder)
        written.append(folder)
    return written


def export_hub_models(out: str | Path) -> list[Path]:
    """Write ``out/<name>/`` for every released SpliceBERT model and every published GeneBERT
    preset (``GeneBERT-<preset>``); returns the folders written."""
    out = Path(out)
    written = []
    for release in RELEASED_MODELS:
        folder = out / release.name
        write_release_folder(release, folder)
        written.append(folder)
    return written + export_genebert_folders(out)


def drifted_files(out: str | Path) -> list[str]:
    """Files under ``out`` that differ from a fresh export (missing, extra or changed)."""
    from .drift import drifted_files as drift

    return drift(out, export_hub_models)
