"""A tiny GeneBERT configuration and batch, shared by the GeneBERT tests (and their subprocess scripts)."""

import torch

from splicebert_plugin.genebert import GeneBertConfig


def tiny_config(**overrides) -> GeneBertConfig:
    values = dict(kmer=3, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                  max_position_embeddings=128, num_regions=10, num_tfs=24, region_bp=12, region_layout="native",
                  region_config={"patch_size": [1, 4], "num_channels": 1, "embed_dim": 16, "depths": [1, 1],
                                 "num_heads": [2, 2], "window_size": 3, "drop_path_rate": 0.0},
                  srm_dim=16, initializer_range=0.2)
    values.update(overrides)
    return GeneBertConfig(**values)


def batch(config, size=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    length = config.num_regions * (config.region_bp - config.kmer + 1) + 3
    ids = torch.randint(5, config.vocab_size, (size, length), generator=generator)
    ids[:, 0], ids[:, -1] = 2, 3
    regions = torch.randint(0, 2, (size, config.num_regions, config.num_tfs), generator=generator).float()
    return ids, regions


def masked_batch(config, size=8, seed=1):
    """A batch with about 20 % of positions masked (at least one per sample), labels, NSP labels."""
    ids, regions = batch(config, size=size, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    labels = torch.full_like(ids, -100)
    chosen = torch.rand(ids.shape, generator=generator) < 0.2
    chosen[:, 0] = chosen[:, -1] = False
    chosen[:, 1] = True  # every sample has a masked position
    labels[chosen] = ids[chosen]
    masked = ids.clone()
    masked[chosen] = 4  # [MASK]
    data = {"attention_mask": torch.ones_like(ids), "token_type_ids": torch.zeros_like(ids),
            "next_sentence_label": torch.randint(0, 2, (size,), generator=generator), "region_values": regions}
    return data, masked, labels


def pretraining_forward(model, data, ids, labels, matching=True):
    return model(input_ids=ids, labels=labels, masked_logits_only=True, compute_matching_loss=matching, **data)
