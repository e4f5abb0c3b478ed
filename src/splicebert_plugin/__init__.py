"""splicebert-plugin: SpliceBERT (Chen et al., Briefings in Bioinformatics 2024) as Hugging Face
models, with zero-shot splicing variant scoring and training recipes.

Importing the package registers the SpliceBERT config, tokenizer and every model class with the
``transformers`` Auto classes, so ``AutoModel.from_pretrained(path)`` works on converted folders
without ``trust_remote_code``.
"""

from .splicebert.configuration_splicebert import SpliceBertConfig
from .splicebert.modeling_splicebert import (
    SpliceBertForMaskedLM,
    SpliceBertForSequenceClassification,
    SpliceBertForTokenClassification,
    SpliceBertModel,
    SpliceBertPreTrainedModel,
)
from .splicebert.tokenization import SpliceBertTokenizer, decode, encode, encode_batch

__version__ = "0.1.0"

#: Folder of the bundled demo model (a small model trained by this project's pipeline, not the
#: paper's weights; see its README.md). ``from_pretrained(DEMO_MODEL)`` and ``-m demo`` load it.
DEMO_MODEL = str(__import__("pathlib").Path(__file__).resolve().parent / "resources" / "demo_model")


def _register_with_auto_classes() -> None:
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForMaskedLM,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
    )

    AutoConfig.register(SpliceBertConfig.model_type, SpliceBertConfig, exist_ok=True)
    AutoModel.register(SpliceBertConfig, SpliceBertModel, exist_ok=True)
    AutoModelForMaskedLM.register(SpliceBertConfig, SpliceBertForMaskedLM, exist_ok=True)
    AutoModelForTokenClassification.register(SpliceBertConfig, SpliceBertForTokenClassification, exist_ok=True)
    AutoModelForSequenceClassification.register(SpliceBertConfig, SpliceBertForSequenceClassification, exist_ok=True)
    AutoTokenizer.register(SpliceBertConfig, tokenizer_class=SpliceBertTokenizer, exist_ok=True)


_register_with_auto_classes()

from .genebert import register_with_auto_classes as _register_genebert  # noqa: E402

_register_genebert()

__all__ = [
    "SpliceBertConfig",
    "SpliceBertModel",
    "SpliceBertPreTrainedModel",
    "SpliceBertForMaskedLM",
    "SpliceBertForTokenClassification",
    "SpliceBertForSequenceClassification",
    "SpliceBertTokenizer",
    "encode",
    "encode_batch",
    "decode",
    "__version__",
    "DEMO_MODEL",
]
