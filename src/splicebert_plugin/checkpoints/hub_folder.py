"""Writing Hub-ready folders, for both model families, in one place.

A Hub folder holds ``config.json`` with a complete ``auto_map``, the weights
(``model.safetensors``), tokenizer files that need no custom code, the family's self-contained
model files (``configuration_*.py``, ``modeling_*.py``; GeneBERT also ``tokenization_*.py``)
and a model card. It loads with ``import splicebert_plugin`` or, without the package, with
``trust_remote_code=True``. Used by conversion (``convert_checkpoint``), both pretraining
recipes (their final model) and ``publish`` (the committed ``hub_models/``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from ..genebert import configuration_genebert as _genebert_config_module
from ..genebert.configuration_genebert import GeneBertConfig
from ..genebert.tokenization_genebert import build_tokenizer_json, kmer_vocab, tokenizer_config
from ..splicebert import configuration_splicebert as _splicebert_config_module
from ..splicebert import tokenization
from . import model_cards
from .folders import FORMATS, CheckpointError, inspect_checkpoint, load_folder

_SPLICEBERT_CODE = Path(_splicebert_config_module.__file__).resolve().parent
_GENEBERT_CODE = Path(_genebert_config_module.__file__).resolve().parent

SPLICEBERT_CODE_FILES = ("configuration_splicebert.py", "modeling_splicebert.py")
SPLICEBERT_AUTO_MAP = {
    "AutoConfig": "configuration_splicebert.SpliceBertConfig",
    "AutoModel": "modeling_splicebert.SpliceBertModel",
    "AutoModelForMaskedLM": "modeling_splicebert.SpliceBertForMaskedLM",
    "AutoModelForTokenClassification": "modeling_splicebert.SpliceBertForTokenClassification",
    "AutoModelForSequenceClassification": "modeling_splicebert.SpliceBertForSequenceClassification",
}
GENEBERT_CODE_FILES = ("configuration_genebert.py", "modeling_genebert.py", "tokenization_genebert.py")
GENEBERT_AUTO_MAP = {
    "AutoConfig": "configuration_genebert.GeneBertConfig",
    "AutoModel": "modeling_genebert.GeneBertModel",
    "AutoModelForPreTraining": "modeling_genebert.GeneBertForPreTraining",
    "AutoModelForMaskedLM": "modeling_genebert.GeneBertForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_genebert.GeneBertForSequenceClassification",
    "AutoModelForTokenClassification": "modeling_genebert.GeneBertForTokenClassification",
}


# ------------------------------------------------------------------------------------ SpliceBERT


def write_tokenizer_files(folder: str | os.PathLike, max_nucleotides: int) -> None:
    """Write ``tokenizer.json``, ``tokenizer_config.json``, ``special_tokens_map.json``, ``vocab.txt``."""
    folder = Path(folder)
    (folder / "tokenizer.json").write_text(tokenization.build_tokenizer_json() + "\n")
    config = tokenization.tokenizer_config(model_max_length=max_nucleotides + 2)
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    (folder / "special_tokens_map.json").write_text(json.dumps(tokenization.SPECIAL_TOKENS, indent=2) + "\n")
    (folder / "vocab.txt").write_text("\n".join(tokenization.VOCAB) + "\n")


def write_code_files(folder: str | os.PathLike) -> None:
    """Copy the self-contained model code next to a config (for ``trust_remote_code=True``)."""
    for name in SPLICEBERT_CODE_FILES:
        shutil.copyfile(_SPLICEBERT_CODE / name, Path(folder) / name)


def finalize_config(folder: str | os.PathLike) -> None:
    """Give ``config.json`` the full ``auto_map`` and drop fields that vary between saves."""
    config_file = Path(folder) / "config.json"
    config = json.loads(config_file.read_text())
    config["auto_map"] = dict(SPLICEBERT_AUTO_MAP)
    config["architectures"] = ["SpliceBertForMaskedLM"]
    config.pop("_name_or_path", None)
    config_file.write_text(json.dumps(dict(sorted(config.items())), indent=2) + "\n")


def convert_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Convert a SpliceBERT checkpoint folder (original release or ours) to a Hub-ready folder.

    ``dst`` receives ``config.json`` (``model_type: splicebert``, full ``auto_map``),
    ``model.safetensors``, tokenizer files, the model code and a ``README.md`` model card.
    The source folder is only read. Returns ``dst``.
    """
    info = inspect_checkpoint(src)
    dst = Path(dst)
    if dst.resolve() == info.path.resolve():
        raise CheckpointError(f"destination {dst} is the source folder; choose a new folder")
    if dst.exists() and not dst.is_dir():
        raise CheckpointError(f"destination {dst} is a file, not a folder; choose a new folder name")
    if not dst.parent.is_dir():
        raise CheckpointError(f"destination {dst}: its folder {dst.parent} does not exist; create it first")
    if dst.exists() and any(dst.iterdir()) and not overwrite:
        raise CheckpointError(f"destination {dst} exists and is not empty; pass --force to overwrite it")
    model = load_folder(info.path)
    dst.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(dst))
    for stale in ("generation_config.json",):
        (dst / stale).unlink(missing_ok=True)
    finalize_config(dst)
    write_tokenizer_files(dst, info.max_nucleotides)
    write_code_files(dst)
    card = model_cards.card_for_converted(info.path.name, model.config, origin=FORMATS[info.format])
    (dst / "README.md").write_text(card)
    return dst


def save_splicebert_folder(model, folder: str | os.PathLike) -> Path:
    """A trained SpliceBERT model as a Hub-ready folder (no card: the recipe writes its own)."""
    folder = Path(folder)
    model.save_pretrained(str(folder))
    finalize_config(folder)
    write_tokenizer_files(folder, model.config.max_position_embeddings - 2)
    write_code_files(folder)
    return folder


# -------------------------------------------------------------------------------------- GeneBERT


def write_genebert_support_files(folder: Path, config: GeneBertConfig) -> None:
    """Tokenizer files, the model code and the full ``auto_map`` next to a saved config."""
    folder = Path(folder)
    (folder / "tokenizer.json").write_text(build_tokenizer_json(config.kmer) + "\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(tokenizer_config(config.kmer, config.max_position_embeddings), indent=2) + "\n")
    (folder / "vocab.txt").write_text("\n".join(kmer_vocab(config.kmer)) + "\n")
    for name in GENEBERT_CODE_FILES:
        shutil.copyfile(_GENEBERT_CODE / name, folder / name)
    config_file = folder / "config.json"
    data = json.loads(config_file.read_text())
    data["auto_map"] = dict(GENEBERT_AUTO_MAP)
    for volatile in ("transformers_version", "_name_or_path"):
        data.pop(volatile, None)
    config_file.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")


def save_genebert_folder(model, folder: str | Path) -> Path:
    """A trained GeneBERT model as a Hub-ready folder (loads with the package or trust_remote_code)."""
    folder = Path(folder)
    model.save_pretrained(str(folder))
    write_genebert_support_files(folder, model.config)
    return folder


# ------------------------------------------------------------------------------ bundled models


def install_without_code(final: str | os.PathLike, target: str | os.PathLike, code_files) -> None:
    """Copy a trained Hub folder into the package as a bundled model: without its model code and
    ``auto_map``, so that it loads through the installed package, never as remote code."""
    final, target = Path(final), Path(target)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(final, target, ignore=shutil.ignore_patterns(*code_files))
    for path in target.iterdir():
        path.chmod(0o644)  # package data, readable by every user of an installed copy
    config_file = target / "config.json"
    config = json.loads(config_file.read_text())
    config.pop("auto_map", None)
    config_file.write_text(json.dumps(config, indent=2) + "\n")
