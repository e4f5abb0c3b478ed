"""Checkpoints in one place: a name or a folder -> a checked model; the released weights into
the cache; Hub-ready folders of both families; model cards.

- ``resolve``: the only code that turns a spec (``demo``, a release name, a folder, a Hub id)
  into a loaded model (:func:`resolve_model`, :func:`load_masked_lm`, :func:`release_folder`);
- ``folders``: recognise a SpliceBERT folder's format and load it, every weight checked;
- ``formats``: MultiMolecule's and plain-BERT ports read as the original parameters;
- ``install``: the authors' archive into ``<cache>/models/<release>/`` (``splicebert download``);
- ``hub_folder``: writing Hub-ready folders of both families (conversion, training, publishing);
- ``model_cards``: the README.md of every folder written; ``fixtures``: random-weight
  checkpoints in the authors' layout, for tests and demonstrations.
"""

from .fixtures import write_random_original_checkpoint
from .folders import CheckpointError, CheckpointInfo, inspect_checkpoint, load_folder
from .hub_folder import convert_checkpoint
from .install import download_releases
from .resolve import ResolvedModel, load_masked_lm, release_folder, resolve_device, resolve_model

__all__ = ["CheckpointError", "CheckpointInfo", "ResolvedModel", "convert_checkpoint", "download_releases",
           "inspect_checkpoint", "load_folder", "load_masked_lm", "release_folder", "resolve_device",
           "resolve_model", "write_random_original_checkpoint"]
