"""Masked-language-model corruption as in SpliceBERT's pretraining (docs/training.md).

15 % of the nucleotide positions are chosen (never ``[CLS]``, ``[SEP]``, ``[PAD]`` or other
special tokens); of those, 80 % become ``[MASK]``, 10 % a random nucleotide drawn from A/C/G/T
(the original also drew N: fixed here) and 10 % stay unchanged. Labels hold the original id at
chosen positions and -100 elsewhere.
"""

from __future__ import annotations

import torch

from ...splicebert import tokenization
from ...errors import UserError

_ACGT = torch.tensor(tokenization.NUCLEOTIDE_IDS)
FIRST_NUCLEOTIDE_ID = tokenization.N_ID  # ids >= 5 are nucleotides (N A C G T)


def mask_tokens(
    input_ids: torch.Tensor,
    generator: torch.Generator | None = None,
    *,
    probability: float = 0.15,
    mask_fraction: float = 0.8,
    random_fraction: float = 0.1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt a batch for MLM; returns ``(masked_ids, labels)``, both ``(batch, length)``.

    ``input_ids`` is not modified. With ``generator`` the draw is reproducible.
    """
    if not 0 < probability < 1 or mask_fraction + random_fraction > 1:
        raise UserError("need 0 < probability < 1 and mask_fraction + random_fraction <= 1")
    ids = input_ids.clone()
    eligible = ids >= FIRST_NUCLEOTIDE_ID
    draws = torch.rand(ids.shape, generator=generator)
    chosen = eligible & (draws < probability)
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(ids.shape, generator=generator)
    to_mask = chosen & (action < mask_fraction)
    to_random = chosen & (action >= mask_fraction) & (action < mask_fraction + random_fraction)
    ids[to_mask] = tokenization.MASK_ID
    picks = torch.randint(0, 4, ids.shape, generator=generator)
    ids[to_random] = _ACGT[picks[to_random]]
    return ids, labels
