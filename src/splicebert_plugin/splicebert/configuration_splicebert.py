"""SpliceBERT model configuration.

Hub code: this file is copied unchanged into every ``hub_models/`` folder and runs there with
``trust_remote_code=True``; it imports only ``transformers``.
"""

from transformers import PreTrainedConfig

_SPLICEBERT_VOCAB_SIZE = 10
_ATTENTION_BACKENDS = ("eager", "sdpa", "flash_attention_2")
_ACTIVATIONS = ("gelu", "gelu_new", "gelu_python", "relu", "silu", "gelu_pytorch_tanh")
_RELEASE_MODEL_TYPES = ("splicebert", "bert")


class SpliceBertConfig(PreTrainedConfig):
    r"""Configuration of a SpliceBERT model (a BERT encoder over single nucleotides).

    Defaults are the released ``SpliceBERT.1024nt`` model: 6 layers, hidden size 512, 16 heads
    of 32 dimensions, FFN 2048, exact GELU, post-LayerNorm (eps 1e-12), learned absolute
    positions for up to 1024 nt plus ``[CLS]``/``[SEP]`` (1026 positions), token-type
    embeddings of size 2 (always type 0), dropout 0.1, MLM decoder tied to the word embeddings.

    The original release stored these checkpoints as ``model_type: bert``; such a
    ``config.json`` loads here unchanged (``SpliceBertConfig.from_pretrained(original_dir)``).

    Args:
        vocab_size: fixed at 10 (``[PAD] [UNK] [CLS] [SEP] [MASK] N A C G T``).
        hidden_size, num_hidden_layers, num_attention_heads, intermediate_size: encoder size;
            ``hidden_size`` must be a multiple of ``num_attention_heads``.
        hidden_act: activation of the FFN and the MLM transform (``"gelu"`` = exact erf GELU).
        hidden_dropout_prob, attention_probs_dropout_prob: dropout rates in [0, 1).
        max_position_embeddings: number of learned positions; the longest input is this many
            tokens, i.e. ``max_position_embeddings - 2`` nucleotides.
        type_vocab_size: token-type embeddings (BERT's segment ids; SpliceBERT uses type 0).
        initializer_range: std of the normal initialisation of new weights.
        layer_norm_eps: LayerNorm epsilon.
        pad_token_id, cls_token_id, sep_token_id, mask_token_id: fixed ids of the vocabulary.
        classifier_dropout: dropout before the classification heads (``None``: use
            ``hidden_dropout_prob``).
        position_embedding_type: only ``"absolute"`` (what every released model uses).
        tie_word_embeddings: tie the MLM decoder to the word embeddings (the release does).
    """

    model_type = "splicebert"

    vocab_size: int = _SPLICEBERT_VOCAB_SIZE
    hidden_size: int = 512
    num_hidden_layers: int = 6
    num_attention_heads: int = 16
    intermediate_size: int = 2048
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 1026
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int | None = 0
    cls_token_id: int | None = 2
    sep_token_id: int | None = 3
    mask_token_id: int | None = 4
    classifier_dropout: float | None = None
    position_embedding_type: str = "absolute"
    tie_word_embeddings: bool = True
    is_decoder: bool = False
    add_cross_attention: bool = False

    def __post_init__(self, **kwargs):
        released_type = kwargs.pop("model_type", None) or self.__dict__.pop("model_type", None)
        if released_type is not None and released_type not in _RELEASE_MODEL_TYPES:
            raise ValueError(
                f"model_type {released_type!r} is not a SpliceBERT checkpoint: expected one of "
                f"{_RELEASE_MODEL_TYPES} (converted or original release)"
            )
        for legacy in ("use_cache", "torch_dtype"):
            kwargs.pop(legacy, None)
        super().__post_init__(**kwargs)
        self._validate_splicebert()

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, **kwargs):
        """Load a converted folder or an original-release folder (``model_type: bert``).

        Raises ``ValueError`` naming the folder when its config is not a SpliceBERT one.
        """
        config_dict, kwargs = cls.get_config_dict(pretrained_model_name_or_path, **kwargs)
        model_type = config_dict.get("model_type")
        if model_type not in _RELEASE_MODEL_TYPES:
            raise ValueError(
                f"{pretrained_model_name_or_path} is not a SpliceBERT checkpoint: its config.json has "
                f"model_type={model_type!r}, expected 'splicebert' (converted) or 'bert' (original release)"
            )
        config_dict = {**config_dict, "model_type": cls.model_type}
        try:
            return cls.from_dict(config_dict, **kwargs)
        except ValueError as error:
            raise ValueError(f"{pretrained_model_name_or_path} is not a usable SpliceBERT checkpoint: {error}") from None

    @property
    def max_nucleotides(self) -> int:
        """Longest sequence the model accepts, in nucleotides (positions minus ``[CLS]``/``[SEP]``)."""
        return self.max_position_embeddings - 2

    def _validate_splicebert(self) -> None:
        def fail(name, value, expected):
            raise ValueError(f"SpliceBertConfig: {name}={value!r} is invalid; expected {expected}")

        if self.vocab_size != _SPLICEBERT_VOCAB_SIZE:
            fail(
                "vocab_size",
                self.vocab_size,
                f"{_SPLICEBERT_VOCAB_SIZE} (SpliceBERT's fixed nucleotide vocabulary); "
                "this does not look like a SpliceBERT checkpoint",
            )
        for name in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "type_vocab_size"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                fail(name, value, "a positive integer")
        if self.hidden_size % self.num_attention_heads:
            fail(
                "hidden_size",
                self.hidden_size,
                f"a multiple of num_attention_heads={self.num_attention_heads}",
            )
        if not isinstance(self.max_position_embeddings, int) or self.max_position_embeddings < 3:
            fail("max_position_embeddings", self.max_position_embeddings, "an integer >= 3 ([CLS] + 1 nt + [SEP])")
        for name in ("hidden_dropout_prob", "attention_probs_dropout_prob"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
                fail(name, value, "a number in [0, 1)")
        if self.classifier_dropout is not None and not 0.0 <= self.classifier_dropout < 1.0:
            fail("classifier_dropout", self.classifier_dropout, "None or a number in [0, 1)")
        if self.hidden_act not in _ACTIVATIONS:
            fail("hidden_act", self.hidden_act, f"one of {_ACTIVATIONS}")
        if self.position_embedding_type != "absolute":
            fail("position_embedding_type", self.position_embedding_type, "'absolute' (the only kind SpliceBERT uses)")
        if not self.layer_norm_eps > 0:
            fail("layer_norm_eps", self.layer_norm_eps, "a positive number")
        if self.is_decoder or self.add_cross_attention:
            fail("is_decoder", self.is_decoder, "False: SpliceBERT is a bidirectional encoder")
        for name, expected in (("pad_token_id", 0), ("cls_token_id", 2), ("sep_token_id", 3), ("mask_token_id", 4)):
            if getattr(self, name) not in (None, expected):
                fail(name, getattr(self, name), f"{expected} (fixed by the released vocabulary)")
