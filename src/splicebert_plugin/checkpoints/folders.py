"""Checkpoint folders of SpliceBERT: recognise their format and load them, checked.

A checkpoint folder in the *original release format* holds ``config.json`` (``model_type:
bert``, ``BertForMaskedLM``), ``vocab.txt``, tokenizer files and ``pytorch_model.bin`` (or
``model.safetensors``). A *converted* folder holds our config (``model_type: splicebert``, a
complete ``auto_map``), ``model.safetensors``, tokenizer files that need no custom code, the
self-contained ``configuration_splicebert.py`` / ``modeling_splicebert.py`` and a model card.

Pickled weights are read with ``torch.load(weights_only=True)``; nothing in a checkpoint folder
is executed by this module.
"""

from __future__ import annotations

import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError

from ..splicebert import tokenization
from ..errors import UserError

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class CheckpointError(UserError):
    """A folder is not a usable SpliceBERT checkpoint."""


FORMATS = {
    "original": "the original SpliceBERT release format",
    "converted": "a splicebert-plugin folder",
    "multimolecule": "MultiMolecule's format",
    "bert-port": "a plain BERT port with SpliceBERT's vocabulary",
}


@dataclass(frozen=True)
class CheckpointInfo:
    """What :func:`inspect_checkpoint` found in a folder."""

    path: Path
    format: str  # a key of FORMATS
    weights_file: Path | None
    max_nucleotides: int

    @property
    def original_format(self) -> bool:
        return self.format == "original"


def inspect_checkpoint(path: str | os.PathLike, *, require_weights: bool = True) -> CheckpointInfo:
    """Check that ``path`` is a SpliceBERT checkpoint folder and describe it.

    Recognised: the authors' release (``model_type: bert``), this package's converted folders,
    MultiMolecule's ports and plain BERT ports with SpliceBERT's vocabulary (``formats``).

    Raises
    ------
    CheckpointError
        The folder is missing, has no ``config.json``, its config is not SpliceBERT's, its
        ``vocab.txt`` differs from SpliceBERT's vocabulary, or (``require_weights``) it has
        no weights file. The message names the folder and what is wrong.
    """
    from . import formats
    from ..splicebert.configuration_splicebert import SpliceBertConfig

    folder = Path(path)
    if folder.is_file():
        raise CheckpointError(f"{folder} is a file, not a checkpoint folder; pass the folder that holds config.json "
                              f"and the weights (perhaps {folder.parent})")
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise CheckpointError(
            f"{folder} is not a SpliceBERT checkpoint: it has no config.json "
            f"(found: {sorted(p.name for p in folder.iterdir())[:10]})"
        )
    try:
        raw = json.loads(config_file.read_text())
    except json.JSONDecodeError as error:
        raise CheckpointError(f"{config_file} is not valid JSON: {error}") from None
    weights = next((folder / name for name in WEIGHT_FILES if (folder / name).is_file()), None)
    port = formats.detect(folder, raw)
    if port is None:
        try:
            config = SpliceBertConfig.from_pretrained(str(folder))
        except (ValueError, OSError) as error:
            raise CheckpointError(str(error)) from None
        vocab = folder / "vocab.txt"
        if vocab.is_file():
            try:
                tokenization.check_vocab_file(str(vocab))
            except ValueError as error:
                raise CheckpointError(f"{folder} is not a SpliceBERT checkpoint: {error}") from None
    if require_weights and weights is None:
        raise CheckpointError(
            f"{folder} has a SpliceBERT config but no weights ({' or '.join(WEIGHT_FILES)}); download the released "
            "weights with 'splicebert download', or place them in this folder"
        )
    if port is not None:
        positions = int(raw.get("max_position_embeddings", 0))
        return CheckpointInfo(path=folder, format=port, weights_file=weights, max_nucleotides=positions - 2)
    return CheckpointInfo(
        path=folder,
        format="original" if raw.get("model_type") == "bert" else "converted",
        weights_file=weights,
        max_nucleotides=config.max_nucleotides,
    )


_READ_ERRORS = (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError, SafetensorError)


def _shape_mismatches(info: CheckpointInfo) -> list[str]:
    """``name: file shape vs config shape`` for weights whose size differs from what config.json
    describes (empty when the file cannot be read or every size fits)."""
    import torch

    from ..splicebert.configuration_splicebert import SpliceBertConfig
    from ..splicebert.modeling_splicebert import SpliceBertForMaskedLM
    from . import formats

    try:
        state = formats.read_weights(info.path)
        with torch.device("meta"):
            expected = SpliceBertForMaskedLM(SpliceBertConfig.from_pretrained(str(info.path))).state_dict()
    except Exception:  # the caller reports the original error instead
        return []
    return [f"{name}: {tuple(tensor.shape)} in the file, {tuple(expected[name].shape)} from config.json"
            for name, tensor in state.items() if name in expected and tuple(tensor.shape) != tuple(expected[name].shape)]


def _weights_error(info: CheckpointInfo, error: BaseException) -> CheckpointError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    mismatched = _shape_mismatches(info) if "mismatch" in str(error).lower() else []
    if mismatched:
        return CheckpointError(
            f"the weights in {info.weights_file} do not fit {info.path / 'config.json'}: {'; '.join(mismatched[:3])}"
            f"{' ...' if len(mismatched) > 3 else ''} ({len(mismatched)} tensors). The config and the weights come "
            "from different models: put the config.json that was saved with these weights beside them")
    return CheckpointError(
        f"cannot load the weights in {info.weights_file}: {first}. The file is truncated, damaged or not "
        "SpliceBERT's; download it again (and check its checksum)"
    )


def _load_port(info: CheckpointInfo, **kwargs):
    """A MultiMolecule or plain-BERT port as ``SpliceBertForMaskedLM`` (original weights)."""
    from . import formats
    from ..splicebert.modeling_splicebert import SpliceBertForMaskedLM

    try:
        raw = formats.read_config(info.path)
        if info.format == formats.MULTIMOLECULE:
            state = formats.multimolecule_state_dict(info.path)
        else:
            state = {k: v for k, v in formats.read_weights(info.path).items()}
            if "cls.predictions.decoder.weight" not in state and "bert.embeddings.word_embeddings.weight" in state:
                state["cls.predictions.decoder.weight"] = state["bert.embeddings.word_embeddings.weight"]
            state.setdefault("cls.predictions.decoder.bias", state.get("cls.predictions.bias"))
        config = formats.port_config(info.path, state, raw)
    except formats.FormatError as error:
        raise CheckpointError(f"{info.path} ({FORMATS[info.format]}): {error}") from None
    except _READ_ERRORS as error:
        raise _weights_error(info, error) from None
    state = {k: v for k, v in state.items() if not k.endswith(("position_ids", "token_type_ids"))}
    model = SpliceBertForMaskedLM._from_config(config, **kwargs)
    result = model.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(
            f"weights in {info.weights_file} ({FORMATS[info.format]}) do not fit a SpliceBERT masked-LM model: "
            f"missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}"
        )
    model.tie_weights()
    return model.eval()


def load_folder(path: str | os.PathLike, **kwargs):
    """``SpliceBertForMaskedLM`` from a checkpoint folder, checked (names are resolved by
    ``checkpoints.resolve``; this function reads folders only).

    A folder may be in any format :func:`inspect_checkpoint` recognises. Every checkpoint weight
    must be used and every model weight must be found (tied decoder weights excepted);
    otherwise a :class:`CheckpointError` lists the offending names.
    """
    from ..splicebert.modeling_splicebert import SpliceBertForMaskedLM

    info = inspect_checkpoint(path)
    if info.format not in ("original", "converted"):
        return _load_port(info, **kwargs)
    try:
        model, loading = SpliceBertForMaskedLM.from_pretrained(str(info.path), output_loading_info=True, **kwargs)
    except _READ_ERRORS as error:
        raise _weights_error(info, error) from None
    tied = set(SpliceBertForMaskedLM._tied_weights_keys)
    missing = [k for k in loading.get("missing_keys", []) if k not in tied]
    unexpected = [k for k in loading.get("unexpected_keys", []) if not k.endswith(("position_ids", "token_type_ids"))]
    mismatched = loading.get("mismatched_keys", [])
    if missing or unexpected or mismatched:
        raise CheckpointError(
            f"weights in {info.weights_file} do not fit a SpliceBERT masked-LM model: "
            f"missing {missing[:5]}, unexpected {unexpected[:5]}, mismatched shapes {list(mismatched)[:5]}"
        )
    return model
