"""The paper's analyses as tools: nucleotide embeddings, splice-site attention, score evaluation.

>>> # from splicebert_plugin.analysis import embed, pair_attention, evaluate
"""

from .attention import pair_attention
from .embeddings import embed, layer_report
from .evaluation import evaluate

__all__ = ["embed", "layer_report", "pair_attention", "evaluate"]
