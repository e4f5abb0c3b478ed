"""Fine-tuning with cross-validation (``docs/training.md``), one loop for both tasks.

- Branchpoints: token classification (dropout + Linear(hidden -> 2) per token), folds = whole
  chromosomes, validation metric average precision. Scores are the softmax probability of
  class 1 (the original used sigmoid(logit_1): changed, see ``docs/differences.md``).
- Splice sites: sequence classification (pooler Linear + tanh, dropout, Linear(hidden -> 1), BCE),
  one model per kind (donor, acceptor), k folds of whole loci, validation metric AUROC, next to
  a one-hot logistic regression on the +-30 nt around the site fitted on the same training folds
  (what the local sequence alone gives).

For fold k the test examples are fold k, the validation examples fold k + 1, the rest train.
Training: AdamW, LR halved when the validation metric has not improved for ``plateau_patience``
epochs, early stopping after ``patience`` epochs without improvement; the best epoch's weights
predict the test fold. The loop runs under ``accelerate launch`` (data parallel: ``batch_size``
is per process; validation and test predictions are gathered from all processes, without the
padding duplicates) or plain ``python`` (one process, CPU or GPU). Every fold starts from the
pretrained encoder with a new head (the masked-LM head is not used).

Tasks of whole sequences start from either model family: a GeneBERT folder (``model_type``
``genebert``; its sequences become k-mers) or anything SpliceBERT's resolver takes; ``init:
random`` keeps the architecture and draws new weights (the no-pretraining control). Every task
writes ``predictions_<group>_fold<k>.tsv`` (probabilities with 9 significant digits, so
every metric can be recomputed from them exactly) and one ``summary.json`` of the same shape:
``{"task", "config", "world_size", "validation_metric", "groups": {<group>: {"data", "folds",
"mean", "pooled", "pooled_baseline"}}}``, with the groups ``branchpoints`` or ``donor`` /
``acceptor`` and the same test metrics everywhere: average precision, AUROC and F1 of
probability >= 0.5 (on probabilities: the original thresholded raw logits, a bug).
"""

from __future__ import annotations

import functools
from collections import Counter
import json
import sys
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ...io.outputs import write_text_atomic
from ...analysis.metrics import auroc, average_precision, f1_at
from ..config import ConfigError
from ...errors import UserError

__all__ = ["BranchpointConfig", "Family", "FinetuneConfig", "Group", "SpliceSiteConfig", "Task", "base_model_dir",
           "binary_task", "chromosome_folds", "finetune_branchpoints", "finetune_splice_sites", "fold_of_each",
           "labelled_dataset", "load_for_task", "model_family", "run_task"]


@dataclass(frozen=True, kw_only=True)
class FinetuneConfig:
    """Settings shared by both tasks (each task adds its data and its paper defaults)."""

    output_dir: str
    model: str = "demo"
    batch_size: int  # per process
    learning_rate: float
    weight_decay: float
    folds: int
    max_epochs: int = 100
    patience: int = 10  # early stopping: epochs without validation improvement
    plateau_patience: int = 3  # LR halved after this many epochs without improvement
    max_folds: int = 0  # run only the first N folds (0 = all), for quick runs
    mixed_precision: str = "no"  # "no", "bf16", "fp16"
    dropout: float | None = None  # override the starting model's hidden and attention dropout
    init: str = "pretrained"  # "random": the starting model's architecture with new random weights (a control)
    seed: int = 0

    def __post_init__(self):
        for name in ("batch_size", "max_epochs", "patience"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("plateau_patience", "max_folds"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {self.learning_rate}")
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ConfigError(f"mixed_precision {self.mixed_precision!r}: choose no, bf16 or fp16")
        if self.dropout is not None and not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.init not in ("pretrained", "random"):
            raise ConfigError(f"init {self.init!r}: choose pretrained or random")

    def check_grouped_folds(self) -> None:
        """For tasks whose folds are groups of loci: at least 3 folds, ``max_folds`` among them."""
        if self.folds < 3 or self.max_folds > self.folds:
            raise ConfigError(f"need folds >= 3 and max_folds <= folds, got {self.folds} and {self.max_folds}")


@dataclass(frozen=True, kw_only=True)
class BranchpointConfig(FinetuneConfig):
    bed: str
    genome: str
    width: int = 510
    batch_size: int = 8
    learning_rate: float = 1e-5
    weight_decay: float = 1e-6
    folds: int = 0  # 0 = one fold per chromosome

    def __post_init__(self):
        super().__post_init__()
        if self.folds in (1, 2) or self.folds < 0:
            raise ConfigError(f"folds must be 0 (one per chromosome) or >= 3, got {self.folds}")
        if self.width < 64:
            raise ConfigError(f"width must be >= 64 (a branchpoint region is up to 44 nt), got {self.width}")


@dataclass(frozen=True, kw_only=True)
class SpliceSiteConfig(FinetuneConfig):
    genome: str
    annotation: str
    kinds: str = "donor,acceptor"
    width: int = 400
    decoys_per_site: float = 1.0
    baseline_flank: int = 30  # one-hot logistic-regression baseline on +-30 nt, same folds (0 = off)
    batch_size: int = 16
    learning_rate: float = 1e-5
    weight_decay: float = 0.01
    folds: int = 10

    def __post_init__(self):
        super().__post_init__()
        self.check_grouped_folds()
        if self.width < 4 or self.width % 2:
            raise ConfigError(f"width must be an even number >= 4, got {self.width}")
        if not 0 <= self.baseline_flank <= self.width // 2:
            raise ConfigError(f"baseline_flank must be in [0, width / 2], got {self.baseline_flank}")
        if not self.decoys_per_site > 0:
            raise ConfigError(f"decoys_per_site must be > 0, got {self.decoys_per_site}")


@dataclass(frozen=True)
class Task:
    """What differs between the fine-tuning tasks' models."""

    name: str
    model_class: Callable
    num_labels: int
    to_probability: Callable  # logits tensor -> probability tensor (one per label position)
    metric: Callable  # (labels, probabilities) numpy -> float, higher is better: early stopping
    metric_name: str
    # (labels, probabilities) -> {name: value} on a test fold; None: AP, AUROC and F1 at 0.5
    test_metrics: Callable | None = None


@dataclass(frozen=True)
class Group:
    """One set of examples to cross-validate (all branchpoint windows; the donors; the acceptors)."""

    name: str
    items: list
    fold_of: list[int]  # fold index of each item
    folds: int
    dataset: Callable  # items -> TensorDataset (input ids, labels)
    describe_fold: Callable  # fold index -> dict added to that fold's summary
    prediction_header: tuple[str, ...]
    prediction_rows: Callable  # (test items, probabilities, baseline or None) -> rows of the predictions TSV
    data: dict  # counts of the examples, for the summary
    baseline: Callable | None = None  # (train items, test items) -> test probabilities at the scored positions


@dataclass(frozen=True)
class Family:
    """What differs between the model families a task can start from (SpliceBERT, GeneBERT)."""

    name: str
    sequence_class: Callable
    token_class: Callable  # token i + 1 starts at nucleotide i (nucleotides, or overlapping k-mers)
    encode: Callable  # equal-length sequences -> (N, L) int64 ids with [CLS] ... [SEP]
    load: Callable  # config.model -> the pretrained model (to be saved as the base of every fold)
    kmer: int = 1  # nucleotides per token (1: one token per nucleotide)

    def max_nucleotides(self, model_dir: Path) -> int:
        """The longest input (nucleotides) of the saved model in ``model_dir``."""
        positions = json.loads((Path(model_dir) / "config.json").read_text())["max_position_embeddings"]
        return positions - 2 + self.kmer - 1


def _encode_kmers(sequences: list[str], k: int) -> np.ndarray:
    from ...genebert.tokenization_genebert import CLS_ID, SEP_ID, kmer_encode

    body = np.stack([kmer_encode(sequence, k) for sequence in sequences])
    ends = np.ones((len(sequences), 1), dtype=np.int64)
    return np.concatenate([ends * CLS_ID, body, ends * SEP_ID], axis=1)


def model_family(model: str) -> Family:
    """The family of ``model`` (a folder whose ``config.json`` says ``genebert``, or anything
    SpliceBERT's resolver takes: ``demo``, a release name, a folder)."""
    config_file = Path(model) / "config.json"
    if config_file.is_file() and json.loads(config_file.read_text()).get("model_type") == "genebert":
        from ...genebert import (GeneBertConfig, GeneBertForPreTraining, GeneBertForSequenceClassification,
                                 GeneBertForTokenClassification)

        kmer = GeneBertConfig.from_pretrained(model).kmer
        return Family("genebert", GeneBertForSequenceClassification, GeneBertForTokenClassification,
                       encode=functools.partial(_encode_kmers, k=kmer),
                       load=lambda spec: GeneBertForPreTraining.from_pretrained(spec), kmer=kmer)
    from ...splicebert import tokenization
    from ...checkpoints.resolve import resolve_model
    from ...splicebert.modeling_splicebert import SpliceBertForSequenceClassification, SpliceBertForTokenClassification

    return Family("splicebert", SpliceBertForSequenceClassification, SpliceBertForTokenClassification,
                   encode=tokenization.encode_batch, load=lambda spec: resolve_model(spec, device="cpu")[0])


def chromosome_folds(chromosomes: list[str], folds: int) -> list[list[str]]:
    """Chromosomes (sorted) dealt round-robin into ``folds`` groups (0 = one per chromosome)."""
    names = sorted(set(chromosomes))
    count = folds or len(names)
    if count < 3 or len(names) < count:
        raise UserError(
            f"chromosome folds need at least 3 folds with a chromosome each (test, validation, training); "
            f"got {len(names)} chromosome(s) {names} for {count} fold(s)"
        )
    return [names[i::count] for i in range(count)]


def fold_of_each(chromosomes: list[str], folds: int) -> tuple[list[list[str]], list[int]]:
    """:func:`chromosome_folds` of ``chromosomes`` and the fold of each item (whole-contig folds)."""
    groups = chromosome_folds(chromosomes, folds)
    fold_of = {chrom: k for k, chroms in enumerate(groups) for chrom in chroms}
    return groups, [fold_of[chrom] for chrom in chromosomes]


def binary_task(name: str, family: Family) -> Task:
    """A whole-sequence yes/no task of ``family``: one logit, sigmoid, AUROC for early stopping."""
    return Task(name, family.sequence_class, 1, to_probability=lambda logits: torch.sigmoid(logits[:, 0]),
                 metric=auroc, metric_name="auroc")


def _fold_split(items: list, fold_of: list[int], k: int, folds: int) -> dict[str, list]:
    """Fold ``k`` tests, fold ``k + 1`` (cyclically) validates, the other folds train."""
    valid = (k + 1) % folds
    split = {"test": [], "valid": [], "train": []}
    for item, fold in zip(items, fold_of, strict=True):
        split["test" if fold == k else "valid" if fold == valid else "train"].append(item)
    return split


def _scored(labels: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The positions that carry a label (``labels >= 0``), flattened."""
    keep = labels >= 0
    return labels[keep], probs[keep]


def _test_metrics(labels: np.ndarray, probs: np.ndarray, prefix: str = "test") -> dict[str, float]:
    """The same metrics for every task: AP, AUROC and F1 of probability >= 0.5."""
    return {f"{prefix}_ap": average_precision(labels, probs), f"{prefix}_auroc": auroc(labels, probs),
            f"{prefix}_f1": f1_at(labels, probs, 0.5)}


def _accelerator(config):
    from accelerate import Accelerator

    # without a GPU, cpu=True lets accelerate see torchrun's processes as multi-CPU data parallelism
    return Accelerator(cpu=not torch.cuda.is_available(), mixed_precision=config.mixed_precision)


def base_model_dir(config) -> Path:
    """Where a run saves its starting checkpoint (every fold loads from it)."""
    return Path(config.output_dir) / "base_model"


def _base_model(config, family: Family, accelerator, output: Path) -> Path:
    """The starting checkpoint saved once as a plain folder every fold loads from
    (``init: random``: its architecture with weights drawn from ``seed``)."""
    model_dir = base_model_dir(config)
    if accelerator.is_main_process:
        output.mkdir(parents=True, exist_ok=True)
        base = family.load(config.model)
        if config.init == "random":
            torch.manual_seed(config.seed)
            base = type(base)(base.config)
        base.save_pretrained(str(model_dir))
    accelerator.wait_for_everyone()
    return model_dir


def load_for_task(task: Task, config, model_dir: Path):
    """The starting encoder with the task's new head (and ``config.dropout`` if set), loaded
    without transformers' per-load report (the new head and the unused MLM head are expected
    every fold: said once in this module's docstring instead)."""
    from transformers.utils import logging as hf_logging

    overrides = {} if config.dropout is None else {"hidden_dropout_prob": config.dropout,
                                                   "attention_probs_dropout_prob": config.dropout}
    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        return task.model_class.from_pretrained(str(model_dir), num_labels=task.num_labels, **overrides)
    finally:
        hf_logging.set_verbosity(previous)


def _predict(accelerator, model, loader, to_probability) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of every example of ``loader`` (prepared), gathered from all processes."""
    model.eval()
    labels, probs = [], []
    with torch.inference_mode():
        for ids, batch_labels in loader:
            logits = model(input_ids=ids, output_hidden_states=False).logits
            gathered = accelerator.gather_for_metrics((to_probability(logits.float()), batch_labels))
            probs.append(gathered[0].cpu())
            labels.append(gathered[1].cpu())
    model.train()
    return torch.cat(labels).numpy(), torch.cat(probs).numpy()


def _fit_fold(accelerator, task: Task, config, model_dir: Path, train, valid, test, fold: int, progress: bool):
    """Train on ``train`` with early stopping on ``valid``; the best epoch predicts ``test``.

    Returns ``(best validation metric, epochs run, test labels, test probabilities)``.
    """
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    torch.manual_seed(config.seed + fold)  # the same head initialisation in every process
    model = load_for_task(task, config, model_dir)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    train_loader = DataLoader(train, batch_size=config.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(config.seed + fold))
    valid_loader = DataLoader(valid, batch_size=config.batch_size)
    test_loader = DataLoader(test, batch_size=config.batch_size)
    model, optimizer, train_loader, valid_loader, test_loader = accelerator.prepare(
        model, optimizer, train_loader, valid_loader, test_loader)
    # stepped with the validation metric, identical in every process (gathered predictions)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, mode="max", factor=0.5,
                                                           patience=config.plateau_patience)
    best, best_state, waited = -np.inf, None, 0
    bar = tqdm(range(config.max_epochs), desc=f"{task.name} fold {fold}", file=sys.stderr,
               disable=not (progress and accelerator.is_local_main_process))
    model.train()
    for epochs, _ in enumerate(bar, start=1):
        for ids, labels in train_loader:
            loss = model(input_ids=ids, labels=labels, output_hidden_states=False).loss
            accelerator.backward(loss)
            optimizer.step()
            optimizer.zero_grad()
        value = task.metric(*_scored(*_predict(accelerator, model, valid_loader, task.to_probability)))
        if np.isnan(value):
            raise UserError(f"{task.name} fold {fold}: the validation fold lacks positives or negatives; "
                             "use fewer folds or more data")
        scheduler.step(value)
        bar.set_postfix({f"valid_{task.metric_name}": f"{value:.3f}"})
        if value > best:
            best, waited = value, 0
            best_state = {k: v.detach().cpu().clone() for k, v in accelerator.unwrap_model(model).state_dict().items()}
        else:
            waited += 1
            if waited >= config.patience:
                break
    bar.close()
    accelerator.unwrap_model(model).load_state_dict(best_state)
    labels, probs = _predict(accelerator, model, test_loader, task.to_probability)
    accelerator.free_memory()
    return float(best), epochs, labels, probs


def _cross_validate(accelerator, task: Task, group: Group, config, model_dir: Path, output: Path,
                    progress: bool) -> dict:
    """Every fold of ``group`` (or the first ``config.max_folds``); returns the group's summary:
    ``{"data", "folds": {"fold<k>": {...}}, "mean": {...}, "pooled": {...}}`` with the same
    metric names for every task (``test_ap``, ``test_auroc``, ``test_f1``; ``baseline_test_*``
    where the task has a baseline, else None)."""
    test_metrics = task.test_metrics or _test_metrics
    folds, pooled = {}, {"labels": [], "probs": [], "baseline": []}
    for k in range(config.max_folds or group.folds):
        split = _fold_split(group.items, group.fold_of, k, group.folds)
        best, epochs, labels, probs = _fit_fold(accelerator, replace(task, name=group.name), config, model_dir,
                                                *(group.dataset(split[s]) for s in ("train", "valid", "test")),
                                                fold=k, progress=progress)
        scored_labels, scored_probs = _scored(labels, probs)
        baseline = None if group.baseline is None else group.baseline(split["train"], split["test"])
        folds[f"fold{k}"] = {
            **group.describe_fold(k), "train": len(split["train"]), "valid": len(split["valid"]),
            "test": len(split["test"]), "test_positives": int((scored_labels == 1).sum()), "epochs": epochs,
            f"best_valid_{task.metric_name}": best, **test_metrics(scored_labels, scored_probs),
            "baseline": None if baseline is None else test_metrics(scored_labels, baseline),
        }
        if accelerator.is_main_process:
            with open(output / f"predictions_{group.name}_fold{k}.tsv", "w") as handle:
                handle.write("\t".join(group.prediction_header) + "\n")
                for row in group.prediction_rows(split["test"], probs, baseline):
                    handle.write("\t".join(str(v) for v in row) + "\n")
        pooled["labels"].append(scored_labels)
        pooled["probs"].append(scored_probs)
        if baseline is not None:
            pooled["baseline"].append(baseline)
    names = list(test_metrics(scored_labels, scored_probs))
    labels = np.concatenate(pooled["labels"])
    return {
        "data": group.data,
        "folds": folds,
        "mean": {name: float(np.mean([f[name] for f in folds.values()])) for name in names},
        "pooled": test_metrics(labels, np.concatenate(pooled["probs"])),
        "pooled_baseline": test_metrics(labels, np.concatenate(pooled["baseline"])) if pooled["baseline"] else None,
    }


def run_task(task: Task, config, groups: Callable, progress: bool, family: Family) -> dict:
    """The shared driver: base model, the groups' cross-validations, one ``summary.json``.

    ``groups()`` builds the examples (after the base model is saved, so a bad model fails first).
    """
    accelerator = _accelerator(config)
    output = Path(config.output_dir)
    model_dir = _base_model(config, family, accelerator, output)
    summary = {"task": task.name, "config": asdict(config), "family": family.name,
               "world_size": accelerator.num_processes, "validation_metric": task.metric_name, "groups": {}}
    for group in groups():
        summary["groups"][group.name] = _cross_validate(accelerator, task, group, config, model_dir, output, progress)
    if accelerator.is_main_process:
        # written last and atomically: a finished run is one with a summary (results scripts reuse it)
        write_text_atomic(output / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


# --------------------------------------------------------------------------- branchpoints

def _branchpoint_dataset(windows):
    from torch.utils.data import TensorDataset

    from ...splicebert import tokenization

    ids = torch.from_numpy(tokenization.encode_batch([w.sequence for w in windows]))
    labels = torch.full(ids.shape, -100, dtype=torch.long)
    labels[:, 1:-1] = torch.from_numpy(np.stack([w.labels for w in windows]))
    return TensorDataset(ids, labels)


def _branchpoint_rows(windows, probs, baseline=None):
    for window, row in zip(windows, probs, strict=True):
        for index in np.flatnonzero(window.labels >= 0):
            yield window.name, window.chrom, window.strand, index, window.labels[index], f"{row[index + 1]:.9g}"


def finetune_branchpoints(config: BranchpointConfig, *, progress: bool = True) -> dict:
    """Cross-validated branchpoint fine-tuning; returns (and writes) the summary (see :func:`_cross_validate`)."""
    from ...io.genome import Genome
    from .branchpoints import branchpoint_windows

    family = model_family(config.model)
    if family.kmer != 1:
        raise UserError(f"branchpoints need one token per nucleotide: {family.name} models see k-mers; "
                         "start from a SpliceBERT model")
    task = Task("branchpoints", family.token_class, 2,
                 to_probability=lambda logits: torch.softmax(logits, -1)[..., 1],
                 metric=average_precision, metric_name="ap")

    def groups():
        skipped = Counter()
        with Genome(config.genome) as genome:
            windows = list(branchpoint_windows(config.bed, genome, width=config.width, skipped=skipped))
        if not windows:
            raise UserError(f"no branchpoint region of {config.bed} lies in {config.genome}")
        folds, fold_ids = fold_of_each([w.chrom for w in windows], config.folds)
        yield Group(
            "branchpoints", windows, fold_ids, len(folds), _branchpoint_dataset,
            describe_fold=lambda k: {"test_chromosomes": folds[k], "valid_chromosomes": folds[(k + 1) % len(folds)]},
            prediction_header=("window", "chrom", "strand", "index", "label", "prob_bp"),
            prediction_rows=_branchpoint_rows,
            data={"windows": len(windows), "branchpoints": int(sum((w.labels == 1).sum() for w in windows)),
                  "chromosomes": sorted(set(w.chrom for w in windows)), "skipped": dict(skipped)},
        )

    return run_task(task, config, groups, progress, family)


# --------------------------------------------------------------------------- splice sites

def labelled_dataset(examples, encode: Callable):
    """``(ids, float label)`` pairs of examples with ``.sequence`` and ``.label`` (binary tasks)."""
    from torch.utils.data import TensorDataset

    ids = torch.from_numpy(np.asarray(encode([e.sequence for e in examples])))
    return TensorDataset(ids, torch.tensor([float(e.label) for e in examples]))


def _site_rows(examples, probs, baseline):
    baseline = [None] * len(examples) if baseline is None else baseline
    for example, prob, base in zip(examples, probs, baseline, strict=True):
        yield (example.kind, example.chrom, example.boundary, example.strand, example.locus, example.label,
               f"{prob:.9g}", "" if base is None else f"{base:.9g}")


def _site_baseline(train, test, centre: int, flank: int) -> np.ndarray:
    """Test probabilities of a one-hot logistic regression on the ``flank`` nt each side of the
    boundary, fitted on the training examples."""
    from ..baselines import LogisticRegression, one_hot

    start, end = max(0, centre - flank), centre + flank
    model = LogisticRegression().fit(one_hot([e.sequence for e in train], start, end),
                                     np.array([e.label for e in train]))
    return model.predict_proba(one_hot([e.sequence for e in test], start, end))


def finetune_splice_sites(config: SpliceSiteConfig, *, progress: bool = True) -> dict:
    """Cross-validated donor/acceptor classification; returns (and writes) the summary (see
    :func:`_cross_validate`), one group per kind."""
    from ...io.annotation import read_transcripts
    from ...sources.gencode import annotation_file
    from ...io.genome import Genome
    from .splice_sites import KINDS, grouped_folds, splice_site_examples

    kinds = [k.strip() for k in config.kinds.split(",") if k.strip()]
    if not kinds or any(k not in KINDS for k in kinds):
        raise UserError(f"kinds {config.kinds!r}: a comma-separated subset of {KINDS}")
    family = model_family(config.model)
    task = binary_task("splice_sites", family)

    def groups():
        transcripts = read_transcripts(annotation_file(config.annotation))
        for kind in kinds:
            with Genome(config.genome) as genome:
                sites = splice_site_examples(genome, transcripts, kind, width=config.width,
                                             decoys_per_site=config.decoys_per_site, seed=config.seed)
            examples = sites.examples
            if not any(e.label for e in examples):
                raise UserError(f"no annotated {kind} of {config.annotation} lies in {config.genome}")
            baseline = None if config.baseline_flank == 0 else functools.partial(
                _site_baseline, centre=config.width // 2, flank=config.baseline_flank)
            yield Group(
                kind, examples, list(grouped_folds([e.locus for e in examples], config.folds, seed=config.seed)),
                config.folds, functools.partial(labelled_dataset, encode=family.encode), describe_fold=lambda k: {},
                prediction_header=("kind", "chrom", "boundary", "strand", "locus", "label", "probability",
                                   "baseline_probability"),
                prediction_rows=_site_rows,
                data={"sites": sum(e.label for e in examples), "decoys": sum(1 - e.label for e in examples),
                      "loci": len(set(e.locus for e in examples)), "skipped": dict(sites.skipped)},
                baseline=baseline,
            )

    return run_task(task, config, groups, progress, family)
