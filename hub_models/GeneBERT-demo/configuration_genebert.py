"""GeneBERT model configuration.

Hub code: this file is copied unchanged into every ``hub_models/GeneBERT-*`` folder and runs
there with ``trust_remote_code=True``; it imports only ``transformers``.

GeneBERT (Mo et al., "Multi-modal Self-supervised Pre-training for Large-scale Genome Data")
pairs a k-mer BERT over DNA with a Swin transformer over a (regions x transcription factors)
motif matrix, tied by a sequence-region matching (SRM) loss. Where the paper is silent the
choices are this implementation's and are marked **[ours]** below; ``docs/genebert.md`` lists
them all.
"""

import math

from transformers import PreTrainedConfig

_ACTIVATIONS = ("gelu", "gelu_new", "gelu_python", "relu", "silu", "gelu_pytorch_tanh")
_LAYOUTS = ("native", "image")
_VALUES = ("match", "log1p_count", "max_score")
_SRM_KINDS = ("clip", "eq1")
_POOLINGS = ("mean", "cls")

#: Swin settings of the presets (the keys of transformers' SwinConfig)
_DEMO_SWIN = {"patch_size": [1, 8], "num_channels": 1, "embed_dim": 64, "depths": [2, 2], "num_heads": [2, 4],
              "window_size": 5, "mlp_ratio": 4.0, "drop_path_rate": 0.0, "hidden_dropout_prob": 0.0,
              "attention_probs_dropout_prob": 0.0}
_SWIN_T = {"patch_size": 4, "num_channels": 3, "embed_dim": 96, "depths": [2, 2, 6, 2], "num_heads": [3, 6, 12, 24],
           "window_size": 7, "mlp_ratio": 4.0, "drop_path_rate": 0.1, "hidden_dropout_prob": 0.0,
           "attention_probs_dropout_prob": 0.0}

PRESETS = {
    # paper scale, runnable: DNABERT-6 text encoder, Swin-T over the matrix resized to 224 x 224 x 3
    "dnabert512": {"kmer": 6, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                   "intermediate_size": 3072, "max_position_embeddings": 512, "region_layout": "image",
                   "image_size": 224, "region_config": _SWIN_T, "num_tfs": 579, "region_bp": 50},
    # the paper's 10 whole peaks of ~500 bp: 4,953 tokens (on paper: too long for CPU and for DNABERT's positions)
    "full_peaks": {"kmer": 6, "hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                   "intermediate_size": 3072, "max_position_embeddings": 4960, "region_layout": "image",
                   "image_size": 224, "region_config": _SWIN_T, "num_tfs": 579, "region_bp": 500},
    # a CPU model: 4 x 128 text encoder, a native 1-channel Swin over the 10 x 579 matrix
    "demo": {"kmer": 6, "hidden_size": 128, "num_hidden_layers": 4, "num_attention_heads": 4,
             "intermediate_size": 512, "max_position_embeddings": 512, "region_layout": "native",
             "region_config": _DEMO_SWIN, "num_tfs": 579, "region_bp": 50, "hidden_dropout_prob": 0.0,
             "attention_probs_dropout_prob": 0.0, "srm_dim": 128},
}


class GeneBertConfig(PreTrainedConfig):
    r"""Configuration of a GeneBERT model.

    Text encoder (BERT parameter names, so DNABERT-style ``BertForMaskedLM`` weights load by name):

    Args:
        kmer: k of the overlapping k-mers (3-6; DNABERT's main model uses 6) [ours: the paper does not say].
        vocab_size: ``4**kmer + 5`` (``[PAD] [UNK] [CLS] [SEP] [MASK]`` then every k-mer, DNABERT's order).
        hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, hidden_act,
        hidden_dropout_prob, attention_probs_dropout_prob, max_position_embeddings,
        type_vocab_size, layer_norm_eps, initializer_range: as BERT's.

    Region encoder (transformers' ``SwinModel``):

    Args:
        region_config: the ``SwinConfig`` settings (patch size, channels, embed dim, depths,
            heads, window); ``image_size`` is derived from the layout.
        region_layout: ``"native"`` (the matrix as a ``num_channels``-channel image of
            ``num_regions x num_tfs``) or ``"image"`` (resized to ``image_size`` square by
            antialiased bilinear resampling, so every motif column contributes, and repeated over
            ``num_channels``, as an ImageNet-pretrained Swin expects) [ours].
        image_size: side of the resized image (``"image"`` layout).
        region_pixel_mean, region_pixel_std: per-channel input normalisation ``(x - mean) / std``
            applied after the layout (``None``: none); set to the ImageNet statistics when the
            Swin starts from ImageNet weights.
        num_regions: rows of the matrix: consecutive accessible regions per sample (10 in the paper).
        num_tfs: columns: motifs; ``tf_ids`` names them in order (the JASPAR matrix ids).
        region_values: what a cell holds: ``"match"`` (a motif hit at p < 5e-5 in the region,
            0/1), ``"log1p_count"`` or ``"max_score"`` [ours: the paper does not say].
        region_bp: nucleotides shown per region (the text side sees ``region_bp - kmer + 1``
            k-mers of each region) [ours].

    Matching (SRM) and the losses:

    Args:
        srm_weight: lambda of ``L = L_mlm + L_nsp + lambda * L_srm`` (0.5 in the paper).
        srm_loss: ``"clip"`` (symmetric InfoNCE, what the paper's prose describes; default) or
            ``"eq1"`` (the printed Eq. 1 with its index fixed and the exponentials that make it
            a log-probability). The formula as printed is a constant and is not offered.
        srm_dim: size of the two projections into the shared space (``None``: no projection,
            only when both encoders have the same output size) [ours].
        srm_temperature_init, srm_learn_temperature: CLIP's temperature, learnt by default [ours].
        seq_pooling: ``"mean"`` over the tokens or the ``"cls"`` state, for the sequence embedding [ours].
        fuse_regions: sequence classification on ``[sequence; region]`` embeddings when
            ``region_values`` are given (late fusion) [ours; off: the paper fine-tunes on sequence only].
    """

    model_type = "genebert"

    kmer: int = 6
    vocab_size: int | None = None
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 0
    classifier_dropout: float | None = None
    region_config: dict | None = None
    region_layout: str = "image"
    image_size: int = 224
    region_pixel_mean: list | None = None
    region_pixel_std: list | None = None
    num_regions: int = 10
    num_tfs: int = 579
    tf_ids: list | None = None
    region_values: str = "match"
    region_bp: int = 50
    srm_weight: float = 0.5
    srm_loss: str = "clip"
    srm_dim: int | None = 256
    srm_temperature_init: float = 0.07
    srm_learn_temperature: bool = True
    seq_pooling: str = "mean"
    fuse_regions: bool = False
    tie_word_embeddings: bool = True
    is_decoder: bool = False
    add_cross_attention: bool = False

    def __post_init__(self, **kwargs):
        for legacy in ("use_cache", "torch_dtype"):
            kwargs.pop(legacy, None)
        if self.vocab_size is None:
            self.vocab_size = 4 ** self.kmer + 5 if isinstance(self.kmer, int) else None
        if self.region_config is None:
            self.region_config = dict(_SWIN_T)
        super().__post_init__(**kwargs)
        self.validate_genebert()

    @classmethod
    def from_preset(cls, name: str, **overrides) -> "GeneBertConfig":
        """A preset (``"dnabert512"``, ``"full_peaks"``, ``"demo"``) with ``overrides``."""
        if name not in PRESETS:
            raise ValueError(f"GeneBertConfig preset {name!r} is unknown; choose one of {sorted(PRESETS)}")
        values = {**PRESETS[name], **overrides}
        values["region_config"] = {**PRESETS[name]["region_config"], **overrides.get("region_config", {})}
        return cls(**values)

    @property
    def swin_image_size(self) -> tuple:
        """``(height, width)`` of the region encoder's input."""
        if self.region_layout == "image":
            return (self.image_size, self.image_size)
        return (self.num_regions, self.num_tfs)

    def swin_kwargs(self) -> dict:
        """The ``SwinConfig`` arguments of the region encoder."""
        return {**self.region_config, "image_size": list(self.swin_image_size),
                "initializer_range": self.initializer_range}

    def swin_stage_resolutions(self) -> list:
        """The (rows, columns) each Swin stage works on: the patch grid, halved per stage."""
        patch = self.region_config.get("patch_size", 4)
        patch = tuple(patch) if isinstance(patch, (list, tuple)) else (patch, patch)
        height, width = self.swin_image_size
        resolution = (math.ceil(height / patch[0]), math.ceil(width / patch[1]))
        stages = []
        for _ in self.region_config.get("depths", []):
            stages.append(resolution)
            resolution = (math.ceil(resolution[0] / 2), math.ceil(resolution[1] / 2))
        return stages

    @property
    def region_hidden_size(self) -> int:
        """Size of the Swin pooled output: embed_dim doubled at every stage after the first."""
        return int(self.region_config.get("embed_dim", 96) * 2 ** (len(self.region_config.get("depths", [1])) - 1))

    def validate_genebert(self) -> None:
        def fail(name, value, expected):
            raise ValueError(f"GeneBertConfig: {name}={value!r} is invalid; expected {expected}")

        if not isinstance(self.kmer, int) or not 3 <= self.kmer <= 6:
            fail("kmer", self.kmer, "an integer from 3 to 6 (DNABERT's range)")
        if self.vocab_size != 4 ** self.kmer + 5:
            fail("vocab_size", self.vocab_size, f"4**kmer + 5 = {4 ** self.kmer + 5} (5 special tokens, every {self.kmer}-mer)")
        for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "type_vocab_size",
                     "num_regions", "num_tfs", "region_bp", "image_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail(name, value, "a positive integer")
        if self.hidden_size % self.num_attention_heads:
            fail("hidden_size", self.hidden_size, f"a multiple of num_attention_heads={self.num_attention_heads}")
        if self.region_bp < self.kmer:
            fail("region_bp", self.region_bp, f">= kmer ({self.kmer}): a region must hold one k-mer")
        tokens = self.num_regions * (self.region_bp - self.kmer + 1) + 3
        if self.max_position_embeddings < tokens:
            fail("max_position_embeddings", self.max_position_embeddings,
                 f">= {tokens}: {self.num_regions} regions x {self.region_bp - self.kmer + 1} k-mers + [CLS] + 2 [SEP]")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                fail(name, value, "a number in [0, 1)")
        if self.classifier_dropout is not None and not 0.0 <= self.classifier_dropout < 1.0:
            fail("classifier_dropout", self.classifier_dropout, "None or a number in [0, 1)")
        if self.hidden_act not in _ACTIVATIONS:
            fail("hidden_act", self.hidden_act, f"one of {_ACTIVATIONS}")
        if self.region_layout not in _LAYOUTS:
            fail("region_layout", self.region_layout, f"one of {_LAYOUTS}")
        if self.region_values not in _VALUES:
            fail("region_values", self.region_values, f"one of {_VALUES}")
        if self.srm_loss not in _SRM_KINDS:
            fail("srm_loss", self.srm_loss, f"one of {_SRM_KINDS} (the printed Eq. 1 is a constant: not offered)")
        if self.seq_pooling not in _POOLINGS:
            fail("seq_pooling", self.seq_pooling, f"one of {_POOLINGS}")
        if not isinstance(self.srm_weight, (int, float)) or self.srm_weight < 0:
            fail("srm_weight", self.srm_weight, "a number >= 0")
        if not isinstance(self.srm_temperature_init, (int, float)) or not 0 < self.srm_temperature_init <= 10:
            fail("srm_temperature_init", self.srm_temperature_init, "a number in (0, 10]")
        if self.srm_dim is None:
            if self.hidden_size != self.region_hidden_size:
                fail("srm_dim", None, f"a projection size: the text side has {self.hidden_size} dimensions and "
                                      f"the region side {self.region_hidden_size}")
        elif not isinstance(self.srm_dim, int) or self.srm_dim < 1:
            fail("srm_dim", self.srm_dim, "None or a positive integer")
        if self.tf_ids is not None and len(self.tf_ids) != self.num_tfs:
            fail("tf_ids", f"{len(self.tf_ids)} ids", f"num_tfs={self.num_tfs} motif ids, in column order")
        channels = self.region_config.get("num_channels", 3) if isinstance(self.region_config, dict) else None
        if (self.region_pixel_mean is None) != (self.region_pixel_std is None):
            fail("region_pixel_mean/region_pixel_std", (self.region_pixel_mean, self.region_pixel_std),
                 "both set or both None")
        if self.region_pixel_mean is not None:
            for name in ("region_pixel_mean", "region_pixel_std"):
                value = getattr(self, name)
                if not isinstance(value, (list, tuple)) or len(value) != channels or \
                        not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in value):
                    fail(name, value, f"a list of {channels} numbers (one per region_config.num_channels)")
            if any(x <= 0 for x in self.region_pixel_std):
                fail("region_pixel_std", self.region_pixel_std, "positive numbers")
        if self.is_decoder or self.add_cross_attention:
            fail("is_decoder", self.is_decoder, "False: GeneBERT is a bidirectional encoder")
        self._validate_swin(fail)

    def _validate_swin(self, fail) -> None:
        swin = self.region_config
        if not isinstance(swin, dict):
            fail("region_config", swin, "a dict of SwinConfig settings")
        depths, heads = list(swin.get("depths", [])), list(swin.get("num_heads", []))
        if not depths or len(depths) != len(heads) or any(not isinstance(d, int) or d < 1 for d in depths):
            fail("region_config.depths/num_heads", (depths, heads), "two lists of positive integers of one length")
        embed, window = swin.get("embed_dim", 96), swin.get("window_size", 7)
        for stage, count in enumerate(heads):
            if (embed * 2 ** stage) % count:
                fail(f"region_config.num_heads[{stage}]", count, f"a divisor of the stage-{stage} width {embed * 2 ** stage}")
        channels = swin.get("num_channels", 3)
        if self.region_layout == "native" and channels != 1:
            fail("region_config.num_channels", channels, "1 with region_layout='native' (one matrix per sample)")
        for stage, (rows, columns) in enumerate(self.swin_stage_resolutions()):
            if min(rows, columns) < window:
                fail(f"region_config (stage {stage})", f"{rows} x {columns} patches",
                     f"at least window_size={window} in both directions at every stage; with "
                     f"{self.swin_image_size[0]} x {self.swin_image_size[1]} inputs and patch "
                     f"{swin.get('patch_size', 4)}, stage {stage} is {rows} x {columns}: use a smaller window, "
                     "a thinner patch, fewer stages or region_layout='image' (transformers' Swin would fail "
                     "with a tensor-size error here)")
