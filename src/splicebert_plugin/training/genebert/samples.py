"""GeneBERT pretraining samples and DNABERT's span masking.

A sample is ``num_regions`` (10) consecutive regions of one track on one contig. Sentence A =
the k-mers of regions 1-5, sentence B = regions 6-10, each region k-merised on its own (no k-mer
spans two regions): ``[CLS] A [SEP] B [SEP]``, token types 0 up to the first ``[SEP]``, 1 after.
Next-sequence labels (BERT's convention: 0 = B follows A, 1 = B is random) come from a seeded
permutation per epoch, exactly half of each. A random B is regions 6-10 of another sample of the
same track at least two samples away (of any track when a track has fewer than 3 samples in the
split), and its motif rows replace rows 6-10, so the matrix always describes the DNA shown [ours].

Every sample is a pure function of ``(seed, epoch, item)``. Masking is not done here but in the
training step (:func:`span_mask`, generator seeded by seed, step, micro-step and rank), so a
change of masking rate at a given step and resuming stay deterministic.

Span masking (DNABERT): centres are drawn among the k-mer tokens with probability
``1 - (1 - f) ** (1 / k)``, so that a fraction ``f`` of the tokens ends up covered; every centre
masks the ``k`` tokens from ``-floor((k-1)/2)`` to ``+ceil((k-1)/2)`` around it (never a special
token or padding). Of the masked tokens 80 % become ``[MASK]``, 10 % a random k-mer (DNABERT drew
any id, specials included: fixed here) and 10 % stay. Overlapping k-mers spell their neighbours'
nucleotides: a span of k masked k-mers hides exactly one nucleotide that no unmasked k-mer shows.
"""

from __future__ import annotations

import numpy as np
import torch

from ...genebert.tokenization_genebert import CLS_ID, MASK_ID, SEP_ID, SPECIAL_TOKENS, kmer_encode
from ...errors import UserError

FIRST_KMER_ID = len(SPECIAL_TOKENS)
SPLITS = ("train", "validation")


class SampleError(UserError):
    """The corpus cannot give samples with these settings; the message says why."""


def centre_probability(fraction: float, k: int) -> float:
    """Probability of a span centre, so that spans of ``k`` cover ``fraction`` of the tokens."""
    return 1.0 - (1.0 - fraction) ** (1.0 / k)


def span_offsets(k: int) -> tuple[int, int]:
    """The first and last offset a span covers around its centre: ``(-floor((k-1)/2), ceil((k-1)/2))``."""
    return -((k - 1) // 2), (k - 1) - (k - 1) // 2


def span_mask(input_ids: torch.Tensor, k: int, generator: torch.Generator, *, fraction: float = 0.15,
              mask_fraction: float = 0.8, random_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """DNABERT's span masking of a ``(batch, length)`` batch of k-mer ids; returns ``(ids, labels)``.

    ``input_ids`` is not modified; labels hold the original id where masked, -100 elsewhere.
    """
    if not 0 < fraction < 1 or mask_fraction + random_fraction > 1:
        raise UserError("need 0 < fraction < 1 and mask_fraction + random_fraction <= 1")
    eligible = input_ids >= FIRST_KMER_ID
    centres = eligible & (torch.rand(input_ids.shape, generator=generator) < centre_probability(fraction, k))
    before, after = span_offsets(k)
    # position i is covered when a centre lies in [i - after, i - before]
    padded = torch.nn.functional.pad(centres.float()[:, None, :], (after, -before))
    covered = torch.nn.functional.max_pool1d(padded, kernel_size=k, stride=1)[:, 0, :] > 0
    chosen = covered & eligible
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    action = torch.rand(input_ids.shape, generator=generator)
    ids = input_ids.clone()
    ids[chosen & (action < mask_fraction)] = MASK_ID
    to_random = chosen & (action >= mask_fraction) & (action < mask_fraction + random_fraction)
    vocab_end = FIRST_KMER_ID + 4**k
    randoms = torch.randint(FIRST_KMER_ID, vocab_end, input_ids.shape, generator=generator)
    ids[to_random] = randoms[to_random]
    return ids, labels


def masking_generator(seed: int, step: int, micro: int, rank: int) -> torch.Generator:
    """The generator of one micro-batch's masking: a function of (seed, step, micro-step, rank)."""
    mixed = np.random.default_rng([seed, step, micro, rank]).integers(0, 2**62)
    return torch.Generator().manual_seed(int(mixed))


def mask_fraction_at(step: int, fraction: float, fraction_after: float, switch_step: int) -> float:
    """DNABERT's schedule: ``fraction`` (15 %) before ``switch_step`` optimiser steps, then ``fraction_after``."""
    return fraction_after if switch_step and step >= switch_step else fraction


class GeneBertSamples(torch.utils.data.Dataset):
    """Samples of ``num_regions`` consecutive regions per track and contig, from a built corpus.

    ``split``: groups are assigned to ``"validation"`` with probability ``val_fraction``
    (seeded, by group), the rest to ``"train"``; ``exclude_contigs`` are left out of both (hold a
    contig out of pretraining for a downstream test). ``values``: what a matrix cell holds
    (``genebert.motif_scan.matrix_values``). ``nsp=False``: B always follows A (label 0).
    """

    def __init__(self, corpus, *, kmer: int, split: str = "train", tracks=None, num_regions: int = 10,
                 values: str = "match", seed: int = 0, val_fraction: float = 0.05, exclude_contigs=(),
                 nsp: bool = True):
        from .motif_scan import matrix_values

        if split not in SPLITS:
            raise SampleError(f"split {split!r}: choose one of {SPLITS}")
        if num_regions < 2 or num_regions % 2:
            raise SampleError(f"num_regions must be even and >= 2, got {num_regions}")
        if corpus.region_bp < kmer:
            raise SampleError(f"corpus regions of {corpus.region_bp} nt are shorter than k = {kmer}")
        names = list(corpus.tracks) if tracks is None else list(tracks)
        unknown = [name for name in names if name not in corpus.tracks]
        if unknown:
            raise SampleError(f"track(s) {unknown} not in corpus {corpus.path} (it has {sorted(corpus.tracks)})")
        excluded = {corpus.contigs.index(c) for c in exclude_contigs if c in corpus.contigs}
        self.corpus, self.kmer, self.num_regions, self.seed, self.nsp = corpus, kmer, num_regions, seed, nsp
        self.split, self.epoch = split, 0
        self._matrix_values = matrix_values
        self.values = values
        matrix_values(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.float16), values)  # a bad kind fails here
        groups, group_track = [], []
        for track_index, name in enumerate(names):
            ids = corpus.tracks[name]
            contigs = corpus.regions["contig"][ids]
            for contig in np.unique(contigs):
                if int(contig) in excluded:
                    continue
                run = ids[contigs == contig]
                for first in range(0, len(run) - num_regions + 1, num_regions):
                    groups.append(run[first : first + num_regions])
                    group_track.append(track_index)
        groups = np.array(groups, dtype=np.int64).reshape(-1, num_regions)
        group_track = np.array(group_track, dtype=np.int64)
        validation = np.random.default_rng([seed, 9]).random(len(groups)) < val_fraction
        keep = validation if split == "validation" else ~validation
        self.groups, self.group_track = groups[keep], group_track[keep]
        self.tracks = names
        if len(self.groups) == 0:
            raise SampleError(f"no {split} sample of {num_regions} consecutive regions on one contig in corpus "
                              f"{corpus.path} (tracks {names}); use more regions or a smaller val_fraction")
        # a random B comes from the same track, at least two samples away (from any track of the
        # split when a track has fewer than 3 samples in it)
        everything = np.arange(len(self.groups))
        self._pool = {t: members if len(members) >= 3 else everything
                      for t in np.unique(self.group_track)
                      for members in [np.flatnonzero(self.group_track == t)]}
        if nsp and len(self.groups) < 3:
            raise SampleError(f"only {len(self.groups)} {split} sample(s): no random second half can be drawn; "
                              "add regions, change val_fraction or set nsp to false")
        self.tokens_per_region = corpus.region_bp - kmer + 1
        self.length = 3 + num_regions * self.tokens_per_region
        self._labels = self._draw_labels()

    def use_epoch(self, epoch: int) -> None:
        """This epoch's next-sequence labels and random halves."""
        self.epoch = epoch
        self._labels = self._draw_labels()

    def __len__(self) -> int:
        return len(self.groups)

    def length_of(self, item: int) -> int:
        return self.length

    def _draw_labels(self) -> np.ndarray:
        labels = np.zeros(len(self), dtype=np.int64)
        if self.nsp:
            order = np.random.default_rng([self.seed, self.epoch, 3]).permutation(len(self))
            labels[order[: len(self) // 2]] = 1
        return labels

    def labels(self) -> np.ndarray:
        """This epoch's next-sequence labels of every item (exactly half 1 when ``nsp``)."""
        return self._labels.copy()

    def _label(self, item: int) -> int:
        return int(self._labels[item])

    def partner(self, item: int) -> int:
        """The sample whose second half is ``item``'s random B this epoch (itself when B follows A)."""
        if not self._label(item):
            return item
        members = self._pool[int(self.group_track[item])]
        position = int(np.searchsorted(members, item))
        allowed = np.concatenate([members[: max(position - 1, 0)], members[position + 2 :]])
        rng = np.random.default_rng([self.seed, self.epoch, item, 5])
        return int(allowed[rng.integers(len(allowed))])

    def region_ids(self, item: int) -> np.ndarray:
        """The corpus regions ``item`` shows this epoch: A's, then B's (the partner's when random)."""
        half = self.num_regions // 2
        return np.concatenate([self.groups[item][:half], self.groups[self.partner(item)][half:]])

    def __getitem__(self, item: int) -> dict[str, torch.Tensor]:
        regions = self.region_ids(item)
        half = self.num_regions // 2
        kmers = [kmer_encode(self.corpus.window(int(r)), self.kmer) for r in regions]
        ids = np.concatenate([[CLS_ID], *kmers[:half], [SEP_ID], *kmers[half:], [SEP_ID]]).astype(np.int64)
        token_types = np.zeros(len(ids), dtype=np.int64)
        token_types[2 + half * self.tokens_per_region :] = 1
        rows = self._matrix_values(np.asarray(self.corpus.counts[regions]),
                                   np.asarray(self.corpus.max_scores[regions], dtype=np.float32), self.values,
                                   1)  # the corpus stores max scores in log2 odds already
        return {"input_ids": torch.from_numpy(ids), "token_type_ids": torch.from_numpy(token_types),
                "region_values": torch.from_numpy(rows), "next_sentence_label": torch.tensor(self._label(item))}


def collate_samples(samples: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Stack samples (all of one length: every region shows the same number of k-mers)."""
    batch = {key: torch.stack([s[key] for s in samples]) for key in samples[0]}
    batch["attention_mask"] = torch.ones_like(batch["input_ids"])
    return batch
