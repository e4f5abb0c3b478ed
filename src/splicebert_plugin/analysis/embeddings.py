"""Nucleotide embeddings (paper Fig. 2): hidden states of any layer, and how well they separate labels.

``embed(model, sequences, layer)`` returns the hidden states of one layer (0 = the embedding
output, 1 ... n = the encoder layers) with ``[CLS]``/``[SEP]`` removed. Pooling: ``None`` (every
nucleotide: ``(N, L, H)``, equal lengths), ``"mean"`` (mean over the nucleotides: ``(N, H)``, any
lengths) or ``"center"`` (the nucleotide at index ``L // 2``: ``(N, H)``, the site of a window
centred on it, as the paper's splice-site embeddings). :func:`layer_report` scores each layer:
k-means clusters against the labels (NMI, ARI) and a cross-validated logistic regression (AUROC).
"""

from __future__ import annotations

from typing import Iterable, Iterator, Sequence

import numpy as np
import torch

from ..splicebert import tokenization
from ..splicebert.inference import evaluating
from ..errors import UserError

POOLS = (None, "mean", "center")


def _check(model, layers: Sequence[int], pool) -> None:
    if pool not in POOLS:
        raise UserError(f"pool {pool!r}: choose None, 'mean' or 'center'")
    count = model.config.num_hidden_layers
    bad = [layer for layer in layers if not 0 <= layer <= count]
    if bad:
        raise UserError(f"layer(s) {bad} do not exist: 0 (embedding output) to {count}")


def _batch(sequences: Sequence[str], pool) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    lengths = np.array([len(s) for s in sequences])
    if pool is None and len(set(lengths.tolist())) > 1:
        raise UserError("sequences of different lengths need pool='mean' or 'center' (or embed them apart)")
    width = int(lengths.max()) + 2
    ids = np.full((len(sequences), width), tokenization.PAD_ID, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, sequence in enumerate(sequences):
        encoded = tokenization.encode(sequence)
        ids[row, : len(encoded)] = encoded
        mask[row, : len(encoded)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask), lengths


def embed_batches(model, sequences: Iterable[str], layers: Sequence[int], pool=None, *,
                  batch_size: int = 16) -> Iterator[dict[int, np.ndarray]]:
    """``{layer: array}`` per batch of ``batch_size`` sequences (streaming; shapes as :func:`embed`)."""
    layers = list(layers)
    _check(model, layers, pool)
    encoder = getattr(model, "base_model", model)
    device = next(model.parameters()).device
    batch: list[str] = []

    def run(chunk):
        ids, mask, lengths = _batch(chunk, pool)
        with evaluating(model):
            out = encoder(input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=True)
        result = {}
        for layer in layers:
            states = out.hidden_states[layer].float().cpu()[:, 1:]  # drop [CLS]
            if pool is None:
                result[layer] = states[:, : lengths[0]].numpy()
            elif pool == "center":
                result[layer] = states[torch.arange(len(chunk)), torch.from_numpy(lengths // 2)].numpy()
            else:
                keep = torch.arange(states.shape[1])[None, :] < torch.from_numpy(lengths)[:, None]
                summed = (states * keep[..., None]).sum(1)
                result[layer] = (summed / torch.from_numpy(lengths)[:, None]).numpy()
        return result

    for sequence in sequences:
        batch.append(sequence)
        if len(batch) == batch_size:
            yield run(batch)
            batch = []
    if batch:
        yield run(batch)


def embed(model, sequences: Sequence[str], layer: int, pool=None, *, batch_size: int = 16) -> np.ndarray:
    """Hidden states of ``layer`` for ``sequences`` (any case; U = T; IUPAC codes = N).

    Returns
    -------
    numpy.ndarray, float32: ``(N, L, H)`` with ``pool=None`` (equal lengths ``L``), ``(N, H)``
    with ``pool="mean"`` or ``"center"``. Batched, in inference mode; the model's mode is kept.
    """
    parts = [batch[layer] for batch in embed_batches(model, sequences, [layer], pool, batch_size=batch_size)]
    if not parts:
        hidden = model.config.hidden_size
        return np.zeros((0, hidden) if pool else (0, 0, hidden), dtype=np.float32)
    return np.concatenate(parts)


def layer_report(embeddings: dict[int, np.ndarray], labels: Sequence, *, seed: int = 0, folds: int = 5) -> list[dict]:
    """Per layer: k-means (k = number of labels) NMI and ARI against ``labels``, and the AUROC
    of a logistic regression under stratified ``folds``-fold cross-validation (one-vs-rest
    macro average for more than two labels). ``embeddings``: ``{layer: (N, H)}``."""
    try:
        from sklearn.cluster import KMeans
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score, roc_auc_score
        from sklearn.model_selection import StratifiedKFold, cross_val_predict
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise ImportError("the layer report needs scikit-learn: pip install 'splicebert-plugin[analysis]'") from None
    labels = np.asarray([str(label) for label in labels])
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        raise UserError(f"the layer report needs at least two labels, got {classes}")
    smallest = min(int((labels == c).sum()) for c in classes)
    folds = max(2, min(folds, smallest))
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    rows = []
    for layer, vectors in sorted(embeddings.items()):
        with warnings.catch_warnings():  # identical vectors (layer 0 at a fixed position) give fewer clusters
            warnings.simplefilter("ignore", ConvergenceWarning)
            clusters = KMeans(n_clusters=len(classes), n_init=10, random_state=seed).fit_predict(vectors)
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        splits = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        probs = cross_val_predict(classifier, vectors, labels, cv=splits, method="predict_proba")
        if len(classes) == 2:
            auroc = roc_auc_score(labels == classes[1], probs[:, 1])
        else:
            auroc = roc_auc_score(labels, probs, multi_class="ovr", average="macro", labels=classes)
        rows.append({"layer": layer, "sites": len(labels), "labels": len(classes),
                     "distinct_vectors": int(len(np.unique(vectors.round(6), axis=0))),
                     "kmeans_nmi": float(normalized_mutual_info_score(labels, clusters)),
                     "kmeans_ari": float(adjusted_rand_score(labels, clusters)),
                     "logistic_auroc": float(auroc)})
    return rows


def plot_umap(vectors: np.ndarray, labels: Sequence, path: str, *, title: str = "", seed: int = 0) -> None:
    """A UMAP picture of ``vectors`` ``(N, H)`` coloured by label."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import umap
    except ImportError:
        raise ImportError("the UMAP picture needs umap-learn and matplotlib: "
                          "pip install 'splicebert-plugin[analysis]'") from None
    import warnings

    with warnings.catch_warnings():  # umap's note that a seed disables its parallelism
        warnings.simplefilter("ignore", UserWarning)
        points = umap.UMAP(random_state=seed, n_neighbors=min(15, len(vectors) - 1)).fit_transform(vectors)
    labels = np.asarray([str(label) for label in labels])
    fig, ax = plt.subplots(figsize=(5, 4.5))
    for label in sorted(set(labels.tolist())):
        chosen = labels == label
        ax.scatter(points[chosen, 0], points[chosen, 1], s=6, alpha=0.7, label=f"{label} ({int(chosen.sum())})")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, markerscale=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
