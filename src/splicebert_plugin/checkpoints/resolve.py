"""The one place that turns a model spec into a loaded model.

Every command and API that accepts a model (``-m`` of the CLI, fine-tuning's ``--model``, the
Kipoi packages' ``weights``, :func:`load_masked_lm`) goes through here, and nothing else turns a
name into a folder. A spec is:

- ``None`` or ``"demo"``: the bundled demo model (:data:`splicebert_plugin.DEMO_MODEL`);
- a release name, any case: ``SpliceBERT.510nt``, ``SpliceBERT.1024nt``,
  ``SpliceBERT-human.510nt``, or MultiMolecule's ``splicebert``, ``splicebert.510``,
  ``splicebert-human.510``: taken from the cache (``downloads.cache_dir``), fetched from the
  authors' archive on first use unless offline (``HF_HUB_OFFLINE=1`` or ``offline=True``);
- a checkpoint folder: the authors' format, ours, MultiMolecule's or a plain BERT port (every
  weight checked);
- a Hugging Face Hub id (``owner/name``), fetched through ``huggingface_hub`` (MultiMolecule's
  ports at their pinned revision unless ``revision`` says otherwise).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import NamedTuple

from ..errors import UserError
from ..sources.downloads import cache_dir, is_offline
from ..sources.releases import RELEASED_MODELS, find_release, get_release
from .folders import CheckpointError, load_folder
from .install import cached_folder, download_releases, models_dir

log = logging.getLogger(__name__)

DEMO_LABEL = "demo (splicebert-plugin demo model, not the paper's weights)"


class ResolvedModel(NamedTuple):
    model: object  # a SpliceBertForMaskedLM in eval mode on the chosen device
    label: str  # what was loaded, for output headers


def resolve_device(device: str | None = None):
    """A ``torch.device``: ``device`` if it is usable here, else a clear :class:`UserError`.

    ``None``: the process's GPU when CUDA is available (``LOCAL_RANK`` under ``torchrun`` /
    ``accelerate launch``), else the CPU.
    """
    import torch

    if device is None:
        return torch.device(f"cuda:{os.environ.get('LOCAL_RANK', '0')}" if torch.cuda.is_available() else "cpu")
    try:
        target = torch.device(device)
    except RuntimeError:
        raise UserError(f"--device {device!r} is not a torch device; use cpu, cuda, cuda:1, mps, ...") from None
    if target.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(f"--device {device}: no CUDA device is available here (torch {torch.__version__}, "
                             f"CUDA build: {torch.version.cuda is not None}); omit --device or pass cpu")
        if target.index is not None and target.index >= torch.cuda.device_count():
            raise UserError(f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    if target.type == "mps" and not torch.backends.mps.is_available():
        raise UserError(f"--device {device}: MPS is not available here; omit --device or pass cpu")
    return target


def _looks_like_path(spec: str) -> bool:
    return Path(spec).exists() or spec.startswith((".", "/", "~")) or spec.count("/") > 1


def release_folder(name: str, *, offline: bool = False, progress: bool = True) -> Path:
    """The cached Hub-ready folder of release ``name``, downloaded first if needed and allowed."""
    release = get_release(name)
    folder = cached_folder(release.name)
    if folder is not None:
        return folder
    if is_offline(offline):
        raise CheckpointError(
            f"{release.name} is not in the cache ({models_dir() / release.name}) and downloads are off "
            f"(HF_HUB_OFFLINE or --offline): run 'splicebert download {release.name}' on a connected machine and "
            f"copy its {models_dir() / release.name} folder here (the cache is {cache_dir()}; SPLICEBERT_CACHE moves it)"
        )
    log.warning("%s is not cached yet: downloading the authors' release into %s (once)", release.name, models_dir())
    return download_releases([release.name], progress=progress)[0]


def hub_folder(repo_id: str, *, revision: str | None = None, offline: bool = False) -> Path:
    """A Hub repository's files, through huggingface_hub's cache; MultiMolecule's SpliceBERT
    ports at their pinned revision unless ``revision`` is given."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    pinned = {r.multimolecule_repo: r.multimolecule_revision for r in RELEASED_MODELS if r.multimolecule_revision}
    revision = revision or pinned.get(repo_id)
    patterns = ["*.json", "*.txt", "*.safetensors", "*.bin", "*.md"]
    try:
        return Path(snapshot_download(repo_id, revision=revision, local_files_only=is_offline(offline),
                                      allow_patterns=patterns))
    except LocalEntryNotFoundError:
        raise CheckpointError(
            f"{repo_id}{'@' + revision if revision else ''} is not in the Hugging Face cache and downloads are off "
            "(HF_HUB_OFFLINE or --offline), or the Hub cannot be reached; fetch it on a connected machine first"
        ) from None
    except (HfHubHTTPError, OSError, ValueError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CheckpointError(f"{repo_id!r} is neither a checkpoint folder, a release name nor a reachable Hub model "
                              f"({first}); releases: SpliceBERT.510nt, SpliceBERT.1024nt, SpliceBERT-human.510nt") from None


def load_masked_lm(spec: str | os.PathLike, **kwargs):
    """``SpliceBertForMaskedLM`` from a checkpoint folder or a release name, checked.

    A release name (``SpliceBERT.510nt``, any case, or MultiMolecule's ``splicebert.510`` ...)
    that is not a folder here is taken from the cache, downloaded on first use
    (:func:`release_folder`); a folder may be in any format ``folders.inspect_checkpoint``
    recognises (``folders.load_folder``). ``kwargs`` go to ``from_pretrained``.
    """
    if not Path(spec).exists() and find_release(str(spec)) is not None:
        spec = release_folder(str(spec))
    return load_folder(spec, **kwargs)


def load_model_spec(spec: str | None, *, offline: bool = False, revision: str | None = None):
    """``(model, label)`` on the CPU, training/eval mode as loaded."""
    if spec is None or spec == "demo":
        from .. import DEMO_MODEL

        if not Path(DEMO_MODEL, "config.json").is_file():
            raise CheckpointError(
                f"the bundled demo model is missing from {DEMO_MODEL}; recreate it with "
                "'python training/make_demo_model.py --install' or pass -m with a SpliceBERT checkpoint"
            )
        return load_folder(DEMO_MODEL), DEMO_LABEL
    release = find_release(spec)
    if release is not None and not Path(spec).exists():
        return load_folder(release_folder(spec, offline=offline)), release.name
    if _looks_like_path(spec):
        return load_folder(Path(spec).expanduser()), spec  # names the folder if it is missing
    folder = hub_folder(spec, revision=revision, offline=offline)
    return load_folder(folder), f"{spec}@{folder.name}"


def resolve_model(spec: str | None, *, device: str | None = None, offline: bool = False,
                  revision: str | None = None) -> ResolvedModel:
    """Load the model ``spec`` names, in eval mode on ``device`` (see :func:`resolve_device`).

    Returns ``(model, label)``; errors are :class:`~.checkpoints.CheckpointError` (the spec),
    ``downloads.DownloadError`` (fetching it) or :class:`ValueError` (the device), with messages
    that name the input and the fix.
    """
    target = resolve_device(device)  # checked first: a bad device fails before the load
    model, label = load_model_spec(spec, offline=offline, revision=revision)
    return ResolvedModel(model.to(target).eval(), label)
