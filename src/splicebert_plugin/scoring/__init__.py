"""Zero-shot variant scoring: windows -> plan -> model passes -> scores -> records.

- ``windows``: window placement and strand handling (pure);
- ``variant_effect``: KL-context, delta-P and the other scores from probabilities (pure);
- ``plan``: one record -> the (WT, MT) window pairs to score, or the reason it cannot be;
- ``passes``: batches of unique windows through the model, scores assembled per pair;
- ``parallel``: the process layout under ``torchrun`` / ``accelerate launch``;
- ``vcf_job``: a VCF file end to end (outputs, resume, tables); ``kipoi_adapter``: the same
  path for Kipoi's dataloader and model.
"""

from .passes import ScoringOptions, VariantScorer, score_sequences
from .vcf_job import score_variants, score_vcf, score_vcf_frame

__all__ = ["ScoringOptions", "VariantScorer", "score_sequences", "score_variants", "score_vcf", "score_vcf_frame"]
