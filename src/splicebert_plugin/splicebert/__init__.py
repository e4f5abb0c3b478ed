"""SpliceBERT, the model family: configuration, modeling (Hub code, copied into
``hub_models/SpliceBERT*``), the nucleotide tokenizer and a few inference helpers."""

from .configuration_splicebert import SpliceBertConfig
from .modeling_splicebert import (
    SpliceBertForMaskedLM,
    SpliceBertForSequenceClassification,
    SpliceBertForTokenClassification,
    SpliceBertModel,
    SpliceBertPreTrainedModel,
)
from .tokenization import SpliceBertTokenizer, decode, encode, encode_batch

__all__ = ["SpliceBertConfig", "SpliceBertModel", "SpliceBertPreTrainedModel", "SpliceBertForMaskedLM",
           "SpliceBertForTokenClassification", "SpliceBertForSequenceClassification", "SpliceBertTokenizer",
           "encode", "encode_batch", "decode"]
