"""Hub folders of GeneBERT: config, tokenizer files, the model code and a card (weights: none
unless a model is trained; ``save_hub_folder`` writes a trained one the same way)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from .configuration_genebert import GeneBertConfig
from .tokenization_genebert import build_tokenizer_json, kmer_vocab, tokenizer_config

CODE_FILES = ("configuration_genebert.py", "modeling_genebert.py", "tokenization_genebert.py")
AUTO_MAP = {
    "AutoConfig": "configuration_genebert.GeneBertConfig",
    "AutoModel": "modeling_genebert.GeneBertModel",
    "AutoModelForPreTraining": "modeling_genebert.GeneBertForPreTraining",
    "AutoModelForMaskedLM": "modeling_genebert.GeneBertForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_genebert.GeneBertForSequenceClassification",
    "AutoModelForTokenClassification": "modeling_genebert.GeneBertForTokenClassification",
}
#: the presets published as hub_models/GeneBERT-<preset>
HUB_PRESETS = ("dnabert512", "demo")


def write_support_files(folder: Path, config: GeneBertConfig) -> None:
    """Tokenizer files, the model code and the full ``auto_map`` next to a saved config."""
    folder = Path(folder)
    (folder / "tokenizer.json").write_text(build_tokenizer_json(config.kmer) + "\n")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(tokenizer_config(config.kmer, config.max_position_embeddings), indent=2) + "\n")
    (folder / "vocab.txt").write_text("\n".join(kmer_vocab(config.kmer)) + "\n")
    source = Path(__file__).resolve().parent
    for name in CODE_FILES:
        shutil.copyfile(source / name, folder / name)
    config_file = folder / "config.json"
    data = json.loads(config_file.read_text())
    data["auto_map"] = dict(AUTO_MAP)
    for volatile in ("transformers_version", "_name_or_path"):
        data.pop(volatile, None)
    config_file.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")


def save_hub_folder(model, folder: str | Path) -> Path:
    """A trained GeneBERT model as a Hub-ready folder (loads with the package or trust_remote_code)."""
    folder = Path(folder)
    model.save_pretrained(str(folder))
    write_support_files(folder, model.config)
    return folder


def write_preset_folder(preset: str, folder: Path) -> None:
    from ..model_cards import card_for_genebert

    folder.mkdir(parents=True, exist_ok=True)
    config = GeneBertConfig.from_preset(preset)
    config.architectures = ["GeneBertForPreTraining"]
    config.save_pretrained(str(folder))
    write_support_files(folder, config)
    (folder / "README.md").write_text(card_for_genebert(preset, config))


def export_genebert_folders(out: str | Path) -> list[Path]:
    out = Path(out)
    written = []
    for preset in HUB_PRESETS:
        folder = out / f"GeneBERT-{preset}"
        write_preset_folder(preset, folder)
        written.append(folder)
    return written
