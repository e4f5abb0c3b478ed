"""Pretraining samples from a :class:`TokenCorpus`: windows, masking, batching.

Every sample is a pure function of ``(seed, epoch, sequence number)``: the window position,
its length (stage 2) and the masking draw. Data order therefore does not depend on the number
of processes' timing, and a resumed run sees exactly the batches an uninterrupted run would.
"""

from __future__ import annotations

import numpy as np
import torch

from ...splicebert import tokenization
from .corpus import TRAIN, TokenCorpus
from .masking import mask_tokens
from ...errors import UserError


def _rng(seed: int, epoch: int, item: int) -> np.random.Generator:
    return np.random.default_rng([seed, epoch, item])


class WindowDataset(torch.utils.data.Dataset):
    """One random window per sequence of a split per epoch (``repeats`` windows each), masked for MLM.

    ``min_length == max_length``: stage 1 (fixed windows, e.g. 510 nt); otherwise stage 2
    (the window length is drawn uniformly from ``[min_length, max_length]``). Sequences
    shorter than the drawn length are used whole.
    """

    def __init__(self, corpus: TokenCorpus, split: int = TRAIN, *, min_length: int = 510, max_length: int = 510,
                 seed: int = 0, mask: bool = True, repeats: int = 1):
        if not 1 <= min_length <= max_length:
            raise UserError(f"need 1 <= min_length <= max_length, got {min_length}, {max_length}")
        if repeats < 1:
            raise UserError(f"repeats must be >= 1, got {repeats}")
        self.corpus = corpus
        self.sequences = corpus.split(split)
        if len(self.sequences) == 0:
            raise UserError(f"corpus {corpus.path} has no sequences in split {split}")
        self.min_length, self.max_length = min_length, max_length
        self.seed = seed
        self.mask = mask
        self.repeats = repeats
        self.epoch = 0

    def use_epoch(self, epoch: int) -> None:
        """Draw this epoch's windows and masks (not named set_epoch: accelerate would call that with its own count)."""
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.sequences) * self.repeats

    def _sequence(self, item: int) -> int:
        return int(self.sequences[item % len(self.sequences)])

    def _draw_length(self, rng: np.random.Generator, item: int) -> int:
        """The window length of ``item``: the first draw of its generator, capped by the sequence."""
        drawn = int(rng.integers(self.min_length, self.max_length + 1))
        return min(drawn, int(self.corpus.index[self._sequence(item)]["length"]))

    def length_of(self, item: int) -> int:
        """Nucleotides of sample ``item`` this epoch (for length bucketing)."""
        return self._draw_length(_rng(self.seed, self.epoch, item), item)

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        rng = _rng(self.seed, self.epoch, item)
        sequence = self._sequence(item)
        total = int(self.corpus.index[sequence]["length"])
        length = self._draw_length(rng, item)
        start = int(rng.integers(0, total - length + 1))
        body = torch.from_numpy(self.corpus.window(sequence, start, length).astype(np.int64))
        ids = torch.cat([torch.tensor([tokenization.CLS_ID]), body, torch.tensor([tokenization.SEP_ID])])
        if not self.mask:
            return {"input_ids": ids}
        generator = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
        masked, labels = mask_tokens(ids[None], generator)
        return {"input_ids": masked[0], "labels": labels[0]}


def collate(samples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Right-pad to the longest sample; labels -100 and attention 0 on padding."""
    longest = max(len(s["input_ids"]) for s in samples)
    batch = {
        "input_ids": torch.full((len(samples), longest), tokenization.PAD_ID, dtype=torch.long),
        "attention_mask": torch.zeros((len(samples), longest), dtype=torch.long),
    }
    if "labels" in samples[0]:
        batch["labels"] = torch.full((len(samples), longest), -100, dtype=torch.long)
    for row, sample in enumerate(samples):
        n = len(sample["input_ids"])
        batch["input_ids"][row, :n] = sample["input_ids"]
        batch["attention_mask"][row, :n] = 1
        if "labels" in sample:
            batch["labels"][row, :n] = sample["labels"]
    return batch


class LengthBucketBatchSampler(torch.utils.data.Sampler):
    """Batches of similar length (stage 2), so little compute goes to padding.

    Each epoch: shuffle (seeded), cut into pools of ``pool_batches`` batches, sort each pool by
    sample length, split into batches, shuffle the batch order. Deterministic in (seed, epoch).
    """

    def __init__(self, dataset: WindowDataset, batch_size: int, *, pool_batches: int = 50, seed: int = 0,
                 drop_last: bool = False):
        self.dataset = dataset
        self.batch_size = batch_size
        self.pool = batch_size * pool_batches
        self.seed = seed
        self.drop_last = drop_last

    def __iter__(self):
        epoch = self.dataset.epoch
        rng = np.random.default_rng([self.seed, epoch, 7])
        order = rng.permutation(len(self.dataset))
        batches = []
        for begin in range(0, len(order), self.pool):
            pool = order[begin : begin + self.pool]
            pool = sorted(pool, key=self.dataset.length_of)
            for i in range(0, len(pool), self.batch_size):
                batch = [int(x) for x in pool[i : i + self.batch_size]]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch)
        for index in rng.permutation(len(batches)):
            yield batches[index]

    def __len__(self) -> int:
        full, rest = divmod(len(self.dataset), self.batch_size)
        return full + (0 if self.drop_last or not rest else 1)
