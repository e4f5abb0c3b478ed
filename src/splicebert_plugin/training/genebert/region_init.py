"""Start GeneBERT's region encoder from ImageNet-pretrained Swin weights, as the paper does.

The paper applies "the Swin transformer pre-trained on ImageNet" to the region matrix and does
not freeze it. :func:`init_region_encoder` copies a transformers Swin checkpoint (a local folder
or a Hub id: ``SwinModel`` or ``SwinForImageClassification``, e.g. Swin-T
``microsoft/swin-tiny-patch4-window7-224``) into a model's ``region_encoder`` and sets the input
normalisation the checkpoint was trained with (``preprocessor_config.json``'s ``image_mean`` /
``image_std``; ImageNet's when the folder has none). The architectures must agree (patch,
channels, width, depths, heads, window, MLP ratio): use the ``image`` layout with a Swin-T-shaped
``region_config`` (preset ``dnabert512``).
"""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import UserError

#: ImageNet's per-channel statistics (RGB), used by transformers' Swin image processors
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: SwinConfig settings that fix the shapes and meaning of the weights
ARCHITECTURE_KEYS = ("patch_size", "num_channels", "embed_dim", "depths", "num_heads", "window_size", "mlp_ratio",
                     "use_absolute_embeddings")
_SWIN_DEFAULTS = {"patch_size": 4, "num_channels": 3, "embed_dim": 96, "depths": [2, 2, 6, 2],
                  "num_heads": [3, 6, 12, 24], "window_size": 7, "mlp_ratio": 4.0, "use_absolute_embeddings": False}


class RegionInitError(UserError):
    """The Swin checkpoint cannot initialise this model's region encoder."""


def _normalised(key: str, value):
    if key == "patch_size" and isinstance(value, int):
        return [value, value]
    if isinstance(value, tuple):
        return list(value)
    if key == "mlp_ratio":
        return float(value)
    return value


def _pixel_statistics(source: str) -> tuple[list, list, str]:
    """``(mean, std, where)`` of the checkpoint's image processor, ImageNet's when it has none."""
    path = Path(source)
    processor = None
    if path.is_dir():
        candidate = path / "preprocessor_config.json"
        processor = candidate if candidate.is_file() else None
    else:
        from transformers.utils import cached_file

        found = cached_file(source, "preprocessor_config.json", _raise_exceptions_for_missing_entries=False)
        processor = Path(found) if found else None
    if processor is not None:
        settings = json.loads(processor.read_text())
        if "image_mean" in settings and "image_std" in settings:
            return list(settings["image_mean"]), list(settings["image_std"]), str(processor)
    return list(IMAGENET_MEAN), list(IMAGENET_STD), "ImageNet defaults"


def init_region_encoder(model, source: str, *, normalise: bool = True) -> dict:
    """Copy the Swin weights of ``source`` into ``model.region_encoder``; returns what was done.

    ``normalise``: also set ``config.region_pixel_mean/std`` to the checkpoint's input statistics
    (a single-channel matrix repeated over 3 channels then goes through ImageNet's normalisation,
    as an image would). Raises :class:`RegionInitError` when the architectures differ or the model
    has no region encoder.
    """
    from transformers import SwinConfig, SwinModel

    encoder = getattr(model, "region_encoder", None)
    if encoder is None:
        raise RegionInitError(f"{type(model).__name__} has no region encoder (sequence-only head without "
                              "fuse_regions): initialise the pretraining model instead")
    try:
        theirs = SwinConfig.from_pretrained(source)
    except (OSError, ValueError) as error:
        raise RegionInitError(f"region encoder initialisation: {source} is not a Swin checkpoint ({error})") from None
    if theirs.model_type != "swin":
        raise RegionInitError(f"region encoder initialisation: {source} is a {theirs.model_type!r} checkpoint, "
                              "not a Swin one")
    ours = model.config.region_config
    differences = []
    for key in ARCHITECTURE_KEYS:
        mine = _normalised(key, ours.get(key, _SWIN_DEFAULTS[key]))
        other = _normalised(key, getattr(theirs, key))
        if mine != other:
            differences.append(f"{key}: model {mine}, checkpoint {other}")
    if differences:
        raise RegionInitError(f"the Swin checkpoint {source} does not fit this model's region encoder ("
                              + "; ".join(differences) + "): build the model with a region_config of the "
                              "checkpoint's shape (Swin-T: preset 'dnabert512')")
    swin = SwinModel.from_pretrained(source, add_pooling_layer=True)
    missing, unexpected = encoder.load_state_dict(swin.state_dict(), strict=False)
    missing = [key for key in missing if not key.endswith("relative_position_index")]
    if missing:
        raise RegionInitError(f"the Swin checkpoint {source} lacks {len(missing)} region-encoder tensors, "
                              f"e.g. {missing[:3]}")
    done = {"source": str(source), "tensors": len(swin.state_dict()), "unexpected": list(unexpected)}
    if normalise:
        mean, std, where = _pixel_statistics(source)
        channels = ours.get("num_channels", 3)
        if len(mean) != channels or len(std) != channels:
            raise RegionInitError(f"{where}: image_mean/image_std have {len(mean)}/{len(std)} values, the "
                                  f"region encoder {channels} channels")
        model.config.region_pixel_mean, model.config.region_pixel_std = mean, std
        done["normalisation"] = {"mean": mean, "std": std, "from": where}
    model.config.region_init = str(source)
    return done
