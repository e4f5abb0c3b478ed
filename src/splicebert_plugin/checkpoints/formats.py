"""Checkpoint layouts other than the authors' and ours, turned into the original weights.

- **MultiMolecule ports** (``multimolecule/splicebert``, ``splicebert.510``,
  ``splicebert-human.510`` on the Hugging Face Hub, and local folders in their format): their
  parameter names under a ``splicebert.`` or ``model.`` prefix, ``layer_norm`` for
  ``LayerNorm``, ``lm_head`` for ``cls.predictions``, no ``position_ids``, the decoder absent from
  ``model.safetensors``, and a larger vocabulary (26 or 28 tokens) in another order. The ten rows
  SpliceBERT uses are gathered **by token name** from their ``vocab.txt`` (``<pad> <unk> <cls>
  <eos> <mask> N A C G U`` = ``[PAD] [UNK] [CLS] [SEP] [MASK] N A C G T``); those rows are plain
  copies of the original ones, so the result equals the original weights bit for bit. The
  decoder is tied to the word embeddings and its bias is the gathered ``lm_head.bias``.
- **Plain-BERT ports**: BERT parameter names and the original 10-token vocabulary under a
  config this package does not know (e.g. one that points at another repository's code).

The facts come from the ports' public files; none of their code is used.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..splicebert import tokenization
from ..errors import UserError

MULTIMOLECULE = "multimolecule"
BERT_PORT = "bert-port"
#: our token -> the MultiMolecule names it may have (U or T for T)
_TOKEN_NAMES = {"[PAD]": ("<pad>",), "[UNK]": ("<unk>",), "[CLS]": ("<cls>",), "[SEP]": ("<eos>", "<sep>"),
                "[MASK]": ("<mask>",), "N": ("N",), "A": ("A",), "C": ("C",), "G": ("G",), "T": ("U", "T")}
_PREFIXES = ("splicebert.", "model.")


class FormatError(UserError):
    """A folder looks like a port but cannot be read as one; the message names what is wrong."""


def read_vocab(folder: Path) -> list[str] | None:
    """The tokens of ``folder/vocab.txt`` (one per line), or None when there is none."""
    path = folder / "vocab.txt"
    if not path.is_file():
        return None
    return [line.strip() for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def detect(folder: Path, config: dict) -> str | None:
    """``"multimolecule"``, ``"bert-port"`` or None (the authors' or our own layout)."""
    vocab = read_vocab(folder)
    if vocab is not None and "<pad>" in vocab and "<mask>" in vocab:
        return MULTIMOLECULE
    if config.get("model_type") not in ("bert", "splicebert") and vocab is not None and \
            tuple(vocab) == tokenization.VOCAB:
        return BERT_PORT
    return None


def read_weights(folder: Path) -> dict:
    """The tensors of ``model.safetensors`` (preferred) or ``pytorch_model.bin``."""
    import torch

    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        return load_file(str(folder / "model.safetensors"))
    if (folder / "pytorch_model.bin").is_file():
        return torch.load(folder / "pytorch_model.bin", map_location="cpu", weights_only=True)
    raise FormatError(f"{folder} has no weights (model.safetensors or pytorch_model.bin)")


def _rows(vocab: list[str], folder: Path) -> list[int]:
    rows = []
    for token in tokenization.VOCAB:
        found = next((vocab.index(name) for name in _TOKEN_NAMES[token] if name in vocab), None)
        if found is None:
            raise FormatError(f"{folder}/vocab.txt lacks {' or '.join(_TOKEN_NAMES[token])} (SpliceBERT's {token})")
        rows.append(found)
    return rows


def _original_name(name: str) -> str | None:
    """The original (transformers BERT) name of a MultiMolecule parameter; None to drop it."""
    if name.startswith("lm_head."):
        rest = name[len("lm_head."):]
        if rest.startswith("decoder."):
            return None  # tied: rebuilt from the embeddings and lm_head.bias
        if rest == "bias":
            return "cls.predictions.bias"
        return "cls.predictions." + rest.replace("layer_norm", "LayerNorm")
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            rest = name[len(prefix):]
            if rest.startswith("pooler."):
                return None
            return "bert." + rest.replace("layer_norm", "LayerNorm")
    raise FormatError(f"unexpected parameter {name!r} (expected the prefixes {_PREFIXES} or lm_head.)")


def multimolecule_state_dict(folder: Path) -> dict:
    """The original state dict (BERT names, 10-token rows, tied decoder) of a MultiMolecule folder."""
    vocab = read_vocab(folder)
    rows = _rows(vocab, folder)
    state = {}
    for name, tensor in read_weights(folder).items():
        target = _original_name(name)
        if target is not None:
            state[target] = tensor
    word = "bert.embeddings.word_embeddings.weight"
    for key in (word, "cls.predictions.bias"):
        if key not in state:
            raise FormatError(f"{folder}: the weights lack {key} (in MultiMolecule's names)")
        if state[key].shape[0] != len(vocab):
            raise FormatError(f"{folder}: {key} has {state[key].shape[0]} rows for {len(vocab)} tokens in vocab.txt")
        state[key] = state[key][rows].clone()
    state["cls.predictions.decoder.weight"] = state[word]
    state["cls.predictions.decoder.bias"] = state["cls.predictions.bias"]
    return state


def release_for_positions(positions: int, hint: str = "") -> str:
    """The release whose layout has ``positions`` position embeddings; ``hint`` (a folder or
    repository name such as ``splicebert-human.510``) picks between releases of one layout."""
    from ..sources.releases import RELEASED_MODELS, find_release

    candidates = [r for r in RELEASED_MODELS if r.nucleotides + 2 == positions]
    hinted = find_release(hint.split("/")[-1]) if hint else None
    if hinted is not None and hinted in candidates:
        return hinted.name
    return (candidates[0] if candidates else RELEASED_MODELS[0]).name


#: the port's config keys -> ours (the shape and numerics of the network)
_CONFIG_KEYS = {"hidden_size": "hidden_size", "num_hidden_layers": "num_hidden_layers",
                "num_attention_heads": "num_attention_heads", "intermediate_size": "intermediate_size",
                "max_position_embeddings": "max_position_embeddings", "layer_norm_eps": "layer_norm_eps",
                "hidden_act": "hidden_act", "hidden_dropout": "hidden_dropout_prob",
                "hidden_dropout_prob": "hidden_dropout_prob", "attention_dropout": "attention_probs_dropout_prob",
                "attention_probs_dropout_prob": "attention_probs_dropout_prob"}


def port_config(folder: Path, state: dict, port: dict, hint: str = ""):
    """Our config for a port: the matching release's original config with the network's shape
    read from the port's own config (whose keys are named differently), checked against the weights."""
    from ..splicebert.configuration_splicebert import SpliceBertConfig
    from ..sources.releases import original_config

    positions = state["bert.embeddings.position_embeddings.weight"].shape[0]
    values = {**original_config(release_for_positions(positions, hint or folder.name)),
              "model_type": SpliceBertConfig.model_type}
    values.pop("_name_or_path", None)
    values.update({ours: port[theirs] for theirs, ours in _CONFIG_KEYS.items() if theirs in port})
    try:
        config = SpliceBertConfig.from_dict(values)
    except ValueError as error:
        raise FormatError(f"{folder}/config.json: {error}") from None
    hidden = state["bert.embeddings.word_embeddings.weight"].shape[1]
    layers = 1 + max(int(k.split(".")[3]) for k in state if k.startswith("bert.encoder.layer."))
    if (hidden, layers, positions) != (config.hidden_size, config.num_hidden_layers, config.max_position_embeddings):
        raise FormatError(f"{folder}: the weights (hidden {hidden}, {layers} layers, {positions} positions) do not "
                          f"match its config.json ({config.hidden_size}, {config.num_hidden_layers}, "
                          f"{config.max_position_embeddings})")
    return config


def read_config(folder: Path) -> dict:
    try:
        return json.loads((folder / "config.json").read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise FormatError(f"{folder}/config.json cannot be read: {error}") from None
