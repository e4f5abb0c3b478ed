"""GeneBERT (Mo et al., "Multi-modal Self-supervised Pre-training for Large-scale Genome Data").

A k-mer BERT over DNA and a Swin transformer over a (regions x transcription factors) motif
matrix, tied by a sequence-region matching loss. The model files (configuration, modeling,
tokenization) are Hub code, copied into ``hub_models/GeneBERT-*``; the motif and region tools
are library code. What is the paper's and what is ours: ``docs/genebert.md``.
"""

from pathlib import Path as _Path

from .configuration_genebert import PRESETS, GeneBertConfig
from .modeling_genebert import (
    GeneBertForMaskedLM,
    GeneBertForPreTraining,
    GeneBertForSequenceClassification,
    GeneBertForTokenClassification,
    GeneBertModel,
    GeneBertPreTrainedModel,
    srm_loss,
)
from .tokenization_genebert import GeneBertTokenizer, kmer_decode, kmer_encode, kmer_vocab

#: the bundled GeneBERT demo model (pretrained by this project on a 2-core CPU; not the paper's
#: weights; see its README.md). ``GeneBertForPreTraining.from_pretrained(DEMO_MODEL)`` loads it.
DEMO_MODEL = str(_Path(__file__).resolve().parent.parent / "resources" / "genebert_demo_model")

__all__ = ["DEMO_MODEL", "GeneBertConfig", "PRESETS", "GeneBertModel", "GeneBertPreTrainedModel", "GeneBertForPreTraining",
           "GeneBertForMaskedLM", "GeneBertForSequenceClassification", "GeneBertForTokenClassification",
           "GeneBertTokenizer", "kmer_encode", "kmer_decode", "kmer_vocab", "srm_loss", "register_with_auto_classes"]


def register_with_auto_classes() -> None:
    from transformers import (
        AutoConfig,
        AutoModel,
        AutoModelForMaskedLM,
        AutoModelForPreTraining,
        AutoModelForSequenceClassification,
        AutoModelForTokenClassification,
        AutoTokenizer,
    )

    AutoConfig.register(GeneBertConfig.model_type, GeneBertConfig, exist_ok=True)
    AutoModel.register(GeneBertConfig, GeneBertModel, exist_ok=True)
    AutoModelForPreTraining.register(GeneBertConfig, GeneBertForPreTraining, exist_ok=True)
    AutoModelForMaskedLM.register(GeneBertConfig, GeneBertForMaskedLM, exist_ok=True)
    AutoModelForSequenceClassification.register(GeneBertConfig, GeneBertForSequenceClassification, exist_ok=True)
    AutoModelForTokenClassification.register(GeneBertConfig, GeneBertForTokenClassification, exist_ok=True)
    AutoTokenizer.register(GeneBertConfig, fast_tokenizer_class=GeneBertTokenizer, exist_ok=True)
