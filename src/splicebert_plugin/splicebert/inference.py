"""Model calls shared by the pipelines and analyses: evaluation mode, masked prediction."""

from __future__ import annotations

import contextlib
from typing import Sequence

import numpy as np
import torch

from . import tokenization
from ..errors import UserError


@contextlib.contextmanager
def evaluating(model):
    """Eval mode and inference mode for the block; the model's own mode is restored after."""
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            yield model
    finally:
        model.train(was_training)


def fill_mask(model, sequence: str, positions: Sequence[int]) -> np.ndarray:
    """Probabilities of A, C, G, T at ``positions`` of ``sequence``, each masked in turn.

    Every position gets its own copy of the sequence with ``[MASK]`` there (one batch, one
    forward pass). The softmax runs over the four nucleotide logits only, as SpliceBERT's
    zero-shot analyses do.

    Parameters
    ----------
    model
        A SpliceBERT masked-LM model (ours or transformers' ``BertForMaskedLM``).
    sequence
        Nucleotides (any case; U = T; IUPAC codes = N), at most the model's length.
    positions
        0-based indices into ``sequence``.

    Returns
    -------
    numpy.ndarray, shape ``(len(positions), 4)``: columns A, C, G, T; rows sum to 1.
    """
    ids = tokenization.encode(sequence)
    positions = [int(p) for p in positions]
    for position in positions:
        if not 0 <= position < len(sequence):
            raise UserError(f"position {position} is outside the sequence (length {len(sequence)})")
    batch = np.repeat(ids[None], len(positions), axis=0)
    rows = np.arange(len(positions))
    batch[rows, np.asarray(positions) + 1] = tokenization.MASK_ID  # +1 skips [CLS]
    device = next(model.parameters()).device
    with evaluating(model):
        logits = model(input_ids=torch.from_numpy(batch).to(device), output_hidden_states=False).logits
    picked = logits[torch.from_numpy(rows), torch.tensor(positions) + 1][:, list(tokenization.NUCLEOTIDE_IDS)]
    return torch.softmax(picked.float(), dim=-1).cpu().numpy()
