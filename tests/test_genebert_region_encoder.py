"""GeneBERT's region encoder input: every motif column reaches the Swin in the image layout, and
the Swin can start from ImageNet-style weights (a local transformers Swin folder)."""

import json

import pytest
import torch
import torch.nn.functional as F

from splicebert_plugin.errors import UserError
from splicebert_plugin.genebert import GeneBertConfig, GeneBertForPreTraining, GeneBertForSequenceClassification

from .genebert_fixtures import tiny_config

#: a Swin small enough for CPU tests on the 224 x 224 image layout (patch 4 -> 56 x 56, window 7)
SMALL_IMAGE_SWIN = {"patch_size": 4, "num_channels": 3, "embed_dim": 8, "depths": [1, 1], "num_heads": [1, 2],
                    "window_size": 7, "mlp_ratio": 2.0, "drop_path_rate": 0.0}


def _image_config(**overrides):
    return tiny_config(region_layout="image", image_size=224, num_tfs=579, region_config=dict(SMALL_IMAGE_SWIN),
                       **overrides)


def _one_column_batch(rows: int, columns: int) -> torch.Tensor:
    """``columns`` matrices, matrix ``c`` has ones in column ``c`` only."""
    values = torch.zeros(columns, rows, columns)
    values[torch.arange(columns), :, torch.arange(columns)] = 1.0
    return values


def test_plain_bilinear_resize_would_lose_motif_columns():
    """The defect this layout fixes, computed independently of the package: resizing 10 x 579 to
    224 x 224 without antialiasing never samples 131 of the 579 columns."""
    image = F.interpolate(_one_column_batch(10, 579).unsqueeze(1), size=(224, 224), mode="bilinear",
                          align_corners=False)
    assert int((image.flatten(1).abs().sum(1) == 0).sum()) == 131


def test_every_motif_column_reaches_the_image():
    config = _image_config()
    model = GeneBertForPreTraining(config).eval()
    pixels = model.region_pixels(_one_column_batch(config.num_regions, config.num_tfs))
    assert pixels.shape == (579, 3, 224, 224)
    energy = pixels.flatten(1).abs().sum(1)
    assert bool((energy > 0).all()), f"columns {torch.nonzero(energy == 0).flatten().tolist()} do not reach the image"
    # linear and mass-preserving: a constant matrix stays that constant
    constant = model.region_pixels(torch.full((1, 10, 579), 0.25))
    assert torch.allclose(constant, torch.full_like(constant, 0.25), atol=1e-6)


def test_every_motif_column_changes_the_region_embedding():
    """Perturbing any single column of the matrix moves the Swin's pooled output: the gradient of
    the region embedding with respect to each column is non-zero (one backward pass for all)."""
    torch.manual_seed(0)
    config = _image_config()
    model = GeneBertForPreTraining(config).eval()
    values = torch.rand(2, config.num_regions, config.num_tfs, requires_grad=True)
    embeds = model.encode_regions(values)
    weights = torch.randn_like(embeds)
    (embeds * weights).sum().backward()
    per_column = values.grad.abs().sum(dim=(0, 1))
    assert per_column.shape == (579,)
    assert bool((per_column > 0).all()), f"columns without influence: {torch.nonzero(per_column == 0).flatten().tolist()}"
    # and a finite-difference check on the columns at both edges and the middle
    with torch.no_grad():
        base = model.encode_regions(values)
        for column in (0, 289, 578):
            moved = values.clone()
            moved[:, :, column] += 1.0
            assert (model.encode_regions(moved) - base).abs().max() > 1e-6


def test_native_layout_is_untouched():
    config = tiny_config()
    model = GeneBertForPreTraining(config).eval()
    values = torch.rand(2, config.num_regions, config.num_tfs)
    assert torch.equal(model.region_pixels(values), values.unsqueeze(1))


def test_pixel_normalisation_config_is_checked():
    config = _image_config(region_pixel_mean=[0.5, 0.5, 0.5], region_pixel_std=[0.25, 0.5, 1.0])
    model = GeneBertForPreTraining(config).eval()
    pixels = model.region_pixels(torch.ones(1, 10, 579))
    assert torch.allclose(pixels[0, :, 0, 0], torch.tensor([2.0, 1.0, 0.5]))
    with pytest.raises(ValueError, match="both set or both None"):
        _image_config(region_pixel_mean=[0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="a list of 3 numbers"):
        _image_config(region_pixel_mean=[0.5], region_pixel_std=[0.2])
    with pytest.raises(ValueError, match="positive"):
        _image_config(region_pixel_mean=[0.5] * 3, region_pixel_std=[0.2, 0.0, 0.2])


# ---------------------------------------------------------------------------------------------- ImageNet-style init


def _swin_folder(tmp_path, classification=True, processor=True, **overrides):
    """A transformers Swin checkpoint in the layout of microsoft/swin-tiny-patch4-window7-224
    (``SwinForImageClassification``, ``swin.*`` keys, a preprocessor_config.json), small."""
    from transformers import SwinConfig, SwinForImageClassification, SwinModel

    torch.manual_seed(1)
    settings = {**SMALL_IMAGE_SWIN, "image_size": 224, **overrides}
    config = SwinConfig(**settings, num_labels=5)
    model = SwinForImageClassification(config) if classification else SwinModel(config)
    folder = tmp_path / "swin"
    model.save_pretrained(folder)
    if processor:
        (folder / "preprocessor_config.json").write_text(json.dumps(
            {"image_processor_type": "ViTImageProcessor", "image_mean": [0.485, 0.456, 0.406],
             "image_std": [0.229, 0.224, 0.225], "size": {"height": 224, "width": 224}}))
    base = model.swin if classification else model
    return folder, {key: value.clone() for key, value in base.state_dict().items()}


@pytest.mark.parametrize("classification", [True, False])
def test_region_encoder_starts_from_a_local_swin_folder(tmp_path, classification):
    from splicebert_plugin.training.genebert.region_init import init_region_encoder

    folder, expected = _swin_folder(tmp_path, classification=classification)
    model = GeneBertForPreTraining(_image_config())
    before = {key: value.clone() for key, value in model.bert.state_dict().items()}
    done = init_region_encoder(model, str(folder))
    mine = model.region_encoder.state_dict()
    assert set(expected) <= set(mine)
    for key, value in expected.items():
        assert torch.equal(mine[key], value), key
    assert all(torch.equal(model.bert.state_dict()[key], value) for key, value in before.items())
    assert model.config.region_pixel_mean == [0.485, 0.456, 0.406]
    assert model.config.region_pixel_std == [0.229, 0.224, 0.225]
    assert done["normalisation"]["from"].endswith("preprocessor_config.json")
    # the encoder now computes what the checkpoint's Swin computes on the normalised image
    from transformers import SwinModel

    reference = SwinModel.from_pretrained(folder).eval()
    model.eval()
    values = torch.rand(2, 10, 579)
    pixels = F.interpolate(values.unsqueeze(1), size=(224, 224), mode="bilinear", align_corners=False,
                           antialias=True).expand(-1, 3, -1, -1)
    pixels = (pixels - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / \
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected_pooled = reference(pixel_values=pixels).pooler_output
        pooled = model.region_encoder(pixel_values=model.region_pixels(values)).pooler_output
    assert torch.allclose(pooled, expected_pooled, atol=1e-5)
    # saved and reloaded, the normalisation stays with the model
    model.save_pretrained(tmp_path / "genebert")
    again = GeneBertForPreTraining.from_pretrained(tmp_path / "genebert")
    assert again.config.region_pixel_std == [0.229, 0.224, 0.225]


def test_region_init_without_processor_uses_imagenet_statistics(tmp_path):
    from splicebert_plugin.training.genebert.region_init import IMAGENET_MEAN, init_region_encoder

    folder, _ = _swin_folder(tmp_path, processor=False)
    model = GeneBertForPreTraining(_image_config())
    done = init_region_encoder(model, str(folder))
    assert model.config.region_pixel_mean == list(IMAGENET_MEAN) and done["normalisation"]["from"] == "ImageNet defaults"


def test_region_init_refuses_what_does_not_fit(tmp_path):
    from splicebert_plugin.training.genebert.region_init import RegionInitError, init_region_encoder

    folder, _ = _swin_folder(tmp_path, window_size=8)
    model = GeneBertForPreTraining(_image_config())
    with pytest.raises(RegionInitError, match="window_size: model 7, checkpoint 8"):
        init_region_encoder(model, str(folder))
    assert issubclass(RegionInitError, UserError)
    with pytest.raises(RegionInitError, match="not a Swin checkpoint"):
        init_region_encoder(model, str(tmp_path / "missing"))
    with pytest.raises(RegionInitError, match="no region encoder"):
        init_region_encoder(GeneBertForSequenceClassification(_image_config()), str(folder))
    bert = tmp_path / "bert"
    from transformers import BertConfig

    BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8).save_pretrained(bert)
    with pytest.raises(RegionInitError, match="not a Swin"):
        init_region_encoder(model, str(bert))


def test_dnabert512_region_config_is_swin_tiny():
    """The paper-scale preset's Swin has the shape of transformers' Swin-T ImageNet checkpoint."""
    from transformers import SwinConfig

    from splicebert_plugin.training.genebert.region_init import ARCHITECTURE_KEYS, _normalised

    # microsoft/swin-tiny-patch4-window7-224's architecture = transformers' SwinConfig defaults
    tiny = SwinConfig()
    preset = GeneBertConfig.from_preset("dnabert512").region_config
    for key in ARCHITECTURE_KEYS:
        assert _normalised(key, preset.get(key, getattr(tiny, key))) == _normalised(key, getattr(tiny, key)), key
