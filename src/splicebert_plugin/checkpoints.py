"""Released checkpoints: recognise, load, convert to Hub-ready folders.

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
import shutil
from dataclasses import dataclass
from pathlib import Path

from safetensors import SafetensorError

from . import tokenization

CODE_FILES = ("configuration_splicebert.py", "modeling_splicebert.py")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
AUTO_MAP = {
    "AutoConfig": "configuration_splicebert.SpliceBertConfig",
    "AutoModel": "modeling_splicebert.SpliceBertModel",
    "AutoModelForMaskedLM": "modeling_splicebert.SpliceBertForMaskedLM",
    "AutoModelForTokenClassification": "modeling_splicebert.SpliceBertForTokenClassification",
    "AutoModelForSequenceClassification": "modeling_splicebert.SpliceBertForSequenceClassification",
}


class CheckpointError(ValueError):
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


def _package_dir() -> Path:
    return Path(__file__).resolve().parent


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
    from .configuration_splicebert import SpliceBertConfig

    folder = Path(path)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist (or is not a folder)")
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


def _weights_error(info: CheckpointInfo, error: BaseException) -> CheckpointError:
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return CheckpointError(
        f"cannot load the weights in {info.weights_file}: {first}. The file is truncated, damaged or not "
        "SpliceBERT's; download it again (and check its checksum)"
    )


def _load_port(info: CheckpointInfo, **kwargs):
    """A MultiMolecule or plain-BERT port as ``SpliceBertForMaskedLM`` (original weights)."""
    from . import formats
    from .modeling_splicebert import SpliceBertForMaskedLM

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


def load_masked_lm(path: str | os.PathLike, **kwargs):
    """``SpliceBertForMaskedLM`` from a checkpoint folder, or from a release name, checked.

    A folder may be in any format :func:`inspect_checkpoint` recognises. A name
    (``SpliceBERT.510nt``, any case, or MultiMolecule's ``splicebert.510`` ...) that is not a
    folder here is taken from the cache, downloaded on first use (``loading.release_folder``).
    Every checkpoint weight must be used and every model weight must be found (tied decoder
    weights excepted); otherwise a :class:`CheckpointError` lists the offending names.
    """
    from .modeling_splicebert import SpliceBertForMaskedLM
    from .releases import find_release

    if not Path(path).exists() and find_release(str(path)) is not None:
        from .loading import release_folder

        path = release_folder(str(path))
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
    for name in CODE_FILES:
        shutil.copyfile(_package_dir() / name, Path(folder) / name)


def finalize_config(folder: str | os.PathLike) -> None:
    """Give ``config.json`` the full ``auto_map`` and drop fields that vary between saves."""
    config_file = Path(folder) / "config.json"
    config = json.loads(config_file.read_text())
    config["auto_map"] = dict(AUTO_MAP)
    config["architectures"] = ["SpliceBertForMaskedLM"]
    config.pop("_name_or_path", None)
    config_file.write_text(json.dumps(dict(sorted(config.items())), indent=2) + "\n")


def convert_checkpoint(src: str | os.PathLike, dst: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Convert a SpliceBERT checkpoint folder (original release or ours) to a Hub-ready folder.

    ``dst`` receives ``config.json`` (``model_type: splicebert``, full ``auto_map``),
    ``model.safetensors``, tokenizer files, the model code and a ``README.md`` model card.
    The source folder is only read. Returns ``dst``.
    """
    from . import model_cards

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
    model = load_masked_lm(info.path)
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

    from .releases import original_config_text

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


def install_without_code(final: str | os.PathLike, target: str | os.PathLike, code_files) -> None:
    """Copy a trained Hub folder into the package as a bundled model: without its model code and
    ``auto_map``, so that it loads through the installed package, never as remote code."""
    import json
    import shutil

    final, target = Path(final), Path(target)
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(final, target, ignore=shutil.ignore_patterns(*code_files))
    for path in target.iterdir():
        path.chmod(0o644)  # package data, readable by every user of an installed copy
    config_file = target / "config.json"
    config = json.loads(config_file.read_text())
    config.pop("auto_map", None)
    config_file.write_text(json.dumps(config, indent=2) + "\n")
