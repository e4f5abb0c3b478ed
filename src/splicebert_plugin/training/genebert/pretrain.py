"""GeneBERT pretraining with Accelerate: MLM + next-sequence prediction + sequence-region matching.

Read top to bottom: config -> samples (``genebert_samples``) -> model from a preset -> AdamW and
the schedule -> the shared loop (``loop.run_loop``) with a step that span-masks each micro-batch
-> evaluation of the three losses and in-batch retrieval -> final Hub-ready folder with
``training_summary.json``.

Arms of the paper's ablation, at equal data and budget: ``srm_weight: 0.5`` (GeneBERT),
``srm_weight: 0`` (MLM + NSP: the region encoder is not run), ``srm_weight: 0`` with
``nsp: false`` (MLM only).
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch

from ...genebert.tokenization_genebert import MASK_ID
from ..config import ConfigError, PretrainLoopConfig, save_config
from ..loop import (
    SCHEDULES,
    Callback,
    LoopSettings,
    PlateauHalving,
    Progress,
    logged_history,
    lr_factor,
    make_accelerator,
    parameter_groups,
    resume,
    run_loop,
)

log = logging.getLogger(__name__)

SRM_BATCHES = ("optimizer", "micro")


@dataclass(frozen=True)
class GeneBertPretrainConfig(PretrainLoopConfig):
    """GeneBERT pretraining (the shared loop settings: ``PretrainLoopConfig``), DNABERT's optimiser."""

    preset: str = "demo"  # genebert.PRESETS; the corpus sets num_tfs, tf_ids and region_bp
    init_from: str | None = None  # a GeneBERT folder (or DNABERT BertForMaskedLM weights) to start from
    region_init: str | None = None  # a Swin checkpoint (folder or Hub id) for the region encoder (the paper: ImageNet)
    # model overrides (None: the preset's)
    kmer: int | None = None
    hidden_size: int | None = None
    num_hidden_layers: int | None = None
    num_attention_heads: int | None = None
    intermediate_size: int | None = None
    dropout: float | None = None
    region_config: dict | None = None  # merged into the preset's Swin settings
    srm_dim: int | None = None
    # losses: L = mlm + nsp + srm_weight * srm
    srm_weight: float = 0.5
    srm_loss: str = "clip"
    # the matching loss's batch: "optimizer" = every sample of an optimiser step (all micro-batches
    # of gradient accumulation and all processes; cached embeddings, GradCache), "micro" = one
    # micro-batch of every process
    srm_batch: str = "optimizer"
    nsp: bool = True
    # data
    tracks: str | None = None  # comma-separated track names; None = every track of the corpus
    values: str = "match"
    val_fraction: float = 0.05
    exclude_contigs: str = ""  # comma-separated contigs kept out of pretraining (a downstream test's)
    # DNABERT's span masking: mask_fraction, then mask_fraction_after from mask_switch_step on (0: never)
    mask_fraction: float = 0.15
    mask_fraction_after: float = 0.20
    mask_switch_step: int = 0
    # optimisation (DNABERT's: AdamW 0.9/0.98, eps 1e-6, linear warm-up and decay)
    learning_rate: float = 4e-4
    adam_betas: tuple[float, float] = (0.9, 0.98)
    adam_epsilon: float = 1e-6
    lr_schedule: str = "linear"
    warmup_steps: int = 10_000
    max_steps: int = 120_000

    def __post_init__(self):
        super().__post_init__()
        if self.lr_schedule not in SCHEDULES:
            raise ConfigError(f"lr_schedule {self.lr_schedule!r}: choose one of {SCHEDULES}")
        if self.srm_weight < 0:
            raise ConfigError(f"srm_weight must be >= 0, got {self.srm_weight}")
        for name in ("mask_fraction", "mask_fraction_after"):
            if not 0 < getattr(self, name) < 1:
                raise ConfigError(f"{name} must be in (0, 1), got {getattr(self, name)}")
        if not 0 < self.val_fraction < 1:
            raise ConfigError(f"val_fraction must be in (0, 1) (the history needs a validation split), "
                              f"got {self.val_fraction}")
        if self.dropout is not None and not 0 <= self.dropout < 1:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.mask_switch_step < 0:
            raise ConfigError("mask_switch_step must be >= 0")
        if self.srm_batch not in SRM_BATCHES:
            raise ConfigError(f"srm_batch {self.srm_batch!r}: choose one of {SRM_BATCHES}")

    @property
    def uses_regions(self) -> bool:
        return self.srm_weight > 0

    @property
    def cached_matching(self) -> bool:
        """The matching loss spans gradient-accumulation steps (``cached_matching_step``)."""
        return self.uses_regions and self.srm_batch == "optimizer" and self.gradient_accumulation_steps > 1

    def split_list(self, name: str) -> list[str]:
        value = getattr(self, name) or ""
        return [item.strip() for item in value.split(",") if item.strip()]


def build_model(config: GeneBertPretrainConfig, corpus):
    """A GeneBERT pretraining model for ``corpus`` (its motifs are the matrix columns)."""
    from ...genebert import GeneBertForPreTraining

    if config.init_from and not _is_bert_folder(config.init_from):
        if config.region_init:
            raise ConfigError(f"region_init and init_from both set: the GeneBERT folder {config.init_from} "
                              "already holds a region encoder")
        model = GeneBertForPreTraining.from_pretrained(config.init_from)
        check_motif_columns(model.config, corpus, f"init_from {config.init_from}",
                            ": rebuild the corpus with its motifs or start from scratch")
        if model.config.region_values != config.values:
            log.warning("init_from %s was trained on %r matrix values; continuing on %r", config.init_from,
                        model.config.region_values, config.values)
        model.config.srm_weight, model.config.srm_loss = config.srm_weight, config.srm_loss
        model.config.region_values = config.values
        return model
    if config.init_from:  # a DNABERT folder: the k-mer encoder from it, the region side fresh
        model = _from_dnabert(config, corpus)
    else:
        overrides = {name: getattr(config, name) for name in ("kmer", "hidden_size", "num_hidden_layers",
                                                               "num_attention_heads", "intermediate_size", "srm_dim")
                     if getattr(config, name) is not None}
        if config.dropout is not None:
            overrides.update(hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout)
        if config.region_config:
            overrides["region_config"] = dict(config.region_config)
        model = GeneBertForPreTraining(_model_config(config, corpus, f"model for corpus {corpus.path}", **overrides))
    if config.region_init:
        from .region_init import init_region_encoder

        done = init_region_encoder(model, config.region_init)
        log.info("region encoder from %s (%d tensors), input normalisation %s", done["source"], done["tensors"],
                 done.get("normalisation"))
    return model


def _model_config(config: GeneBertPretrainConfig, corpus, source: str, **settings):
    """The preset's configuration for ``corpus`` (its motif columns and region length) with the
    run's matrix values and losses, ``settings`` on top; a ValueError names ``source``."""
    from ...genebert import GeneBertConfig

    try:
        model_config = GeneBertConfig.from_preset(
            config.preset, num_tfs=len(corpus.tf_ids), tf_ids=list(corpus.tf_ids), region_bp=corpus.region_bp,
            region_values=config.values, srm_weight=config.srm_weight, srm_loss=config.srm_loss, **settings)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    model_config.architectures = ["GeneBertForPreTraining"]
    return model_config


def check_motif_columns(model_config, corpus, what: str, hint: str = "") -> None:
    """Refuse a model trained on other motif columns than ``corpus`` holds."""
    if model_config.tf_ids is not None and list(model_config.tf_ids) != corpus.tf_ids:
        raise ConfigError(f"{what} was trained on other motif columns than corpus {corpus.path}{hint}")


def _is_bert_folder(path: str) -> bool:
    config = Path(path) / "config.json"
    return config.is_file() and json.loads(config.read_text()).get("model_type") == "bert"


def _from_dnabert(config: GeneBertPretrainConfig, corpus):
    """A GeneBERT whose k-mer encoder and MLM head start from a DNABERT ``BertForMaskedLM`` folder
    (``model_type: bert``): sizes and k from its config (k from ``vocab_size = 4**k + 5``), the
    region side from the preset and the corpus; the NSP head, Swin and projections start fresh."""
    from transformers import BertConfig

    from ...genebert import GeneBertForPreTraining

    bert = BertConfig.from_pretrained(config.init_from)
    kmers = {4 ** k + 5: k for k in range(3, 7)}
    if bert.vocab_size not in kmers:
        raise ConfigError(f"init_from {config.init_from}: vocab_size {bert.vocab_size} is not DNABERT's "
                          f"4**k + 5 for k = 3..6 ({sorted(kmers)})")
    sizes = dict(kmer=kmers[bert.vocab_size], hidden_size=bert.hidden_size, num_hidden_layers=bert.num_hidden_layers,
                 num_attention_heads=bert.num_attention_heads, intermediate_size=bert.intermediate_size,
                 max_position_embeddings=bert.max_position_embeddings, type_vocab_size=bert.type_vocab_size,
                 hidden_act=bert.hidden_act, layer_norm_eps=bert.layer_norm_eps)
    overrides = {"region_config": dict(config.region_config)} if config.region_config else {}
    if config.srm_dim is not None:
        overrides["srm_dim"] = config.srm_dim
    if config.dropout is not None:  # as for a model from scratch; otherwise the preset's
        overrides.update(hidden_dropout_prob=config.dropout, attention_probs_dropout_prob=config.dropout)
    model_config = _model_config(config, corpus, f"init_from {config.init_from} with corpus {corpus.path}",
                                 **sizes, **overrides)
    model, info = GeneBertForPreTraining.from_pretrained(config.init_from, config=model_config,
                                                         output_loading_info=True)
    new_parts = ("cls.seq_relationship", "region_encoder", "seq_projection", "region_projection", "logit_scale")
    lost = [key for key in info["missing_keys"] if not key.startswith(new_parts)]
    if lost:
        raise ConfigError(f"init_from {config.init_from}: not a DNABERT BertForMaskedLM checkpoint ({len(lost)} "
                          f"k-mer encoder tensors missing, e.g. {lost[:3]})")
    log.info("k-mer encoder and MLM head from %s (k = %d); NSP head, Swin and projections new",
             config.init_from, sizes["kmer"])
    return model


def retrieval_hits(seq_embeds: torch.Tensor, region_embeds: torch.Tensor) -> tuple[int, float]:
    """In-batch retrieval: how many sequences have their own matrix as the most similar one
    (R@1 = hits / b), and the expected hits of a random guess (b * 1/b = 1)."""
    similarity = torch.nn.functional.normalize(seq_embeds.float(), dim=-1) @ \
        torch.nn.functional.normalize(region_embeds.float(), dim=-1).t()
    hits = (similarity.argmax(dim=1) == torch.arange(len(similarity), device=similarity.device)).sum().item()
    return int(hits), 1.0


def _forward(model, batch: dict, input_ids, labels, config: GeneBertPretrainConfig, matching: bool = True):
    return model(input_ids=input_ids, attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"],
                 labels=labels, next_sentence_label=batch["next_sentence_label"] if config.nsp else None,
                 region_values=batch["region_values"] if config.uses_regions else None, masked_logits_only=True,
                 compute_matching_loss=matching)


def _batch_stats(out, batch: dict, input_ids: torch.Tensor, labels: torch.Tensor, config: GeneBertPretrainConfig,
                 matching: bool = True) -> dict:
    """Summable statistics of one micro-batch (the log's and the evaluation's).

    MLM accuracy counts only the positions whose input was replaced by ``[MASK]``: at the 10 % of
    chosen positions that keep their k-mer a model scores by copying its input, and at the 10 %
    given a random k-mer by not copying it; neither is prediction of hidden sequence.
    """
    chosen = labels != -100
    masked = chosen.sum().item()
    hidden = input_ids[chosen] == MASK_ID  # among the chosen positions, in the order of prediction_logits
    correct = out.prediction_logits.detach().argmax(-1) == labels[chosen]
    stats = {"mlm_loss": out.mlm_loss.item() * masked if masked else 0.0, "masked": masked,
             "mask_inputs": hidden.sum().item(), "mlm_correct": (correct & hidden).sum().item(),
             "samples": len(labels), "batches": 1}
    if config.nsp:
        nsp_labels = batch["next_sentence_label"]
        stats["nsp_loss"] = out.nsp_loss.item() * len(nsp_labels)
        stats["nsp_correct"] = (out.seq_relationship_logits.detach().argmax(-1) == nsp_labels).sum().item()
    if config.uses_regions and matching:
        hits, chance = retrieval_hits(out.seq_embeds.detach(), out.region_embeds.detach())
        stats.update(srm_loss=out.srm_loss.item(), r_at_1_hits=hits, r_at_1_chance=chance)
    return stats


def _summary(sums: dict, srm_weight: float, prefix: str = "") -> dict:
    """Means of the summed statistics: losses per masked token / sample / batch, accuracies, R@1,
    and the total ``loss`` (mlm + nsp + srm_weight * srm)."""
    out = {}
    if sums.get("masked"):
        out[f"{prefix}mlm_loss"] = sums["mlm_loss"] / sums["masked"]
    if sums.get("mask_inputs"):
        out[f"{prefix}mlm_mask_accuracy"] = sums["mlm_correct"] / sums["mask_inputs"]  # at [MASK] inputs only
    if "nsp_loss" in sums and sums.get("samples"):
        out[f"{prefix}nsp_loss"] = sums["nsp_loss"] / sums["samples"]
        out[f"{prefix}nsp_accuracy"] = sums["nsp_correct"] / sums["samples"]
    if "srm_loss" in sums and sums.get("batches"):
        out[f"{prefix}srm_loss"] = sums["srm_loss"] / sums["batches"]
        out[f"{prefix}r_at_1"] = sums["r_at_1_hits"] / sums["samples"]
        out[f"{prefix}r_at_1_chance"] = sums["r_at_1_chance"] / sums["samples"]
    out[f"{prefix}loss"] = (out.get(f"{prefix}mlm_loss", 0.0) + out.get(f"{prefix}nsp_loss", 0.0)
                            + srm_weight * out.get(f"{prefix}srm_loss", 0.0))
    return out


def evaluate(model, loader, accelerator, config: GeneBertPretrainConfig) -> dict[str, float]:
    """The three validation losses, MLM and NSP accuracy and in-batch R@1, over all processes.

    Masking uses a fixed generator per batch and ``mask_fraction`` throughout, so evaluations
    of one run (and of the arms) see the same corruption.
    """
    from .samples import masking_generator, span_mask

    was_training = model.training
    model.eval()
    keys = ("mlm_loss", "masked", "mask_inputs", "mlm_correct", "samples", "batches", "nsp_loss", "nsp_correct",
            "srm_loss", "r_at_1_hits", "r_at_1_chance")
    totals = torch.zeros(len(keys), dtype=torch.float64, device=accelerator.device)
    kmer = accelerator.unwrap_model(model).config.kmer
    with torch.no_grad():
        for index, batch in enumerate(loader):
            if config.eval_batches and index >= config.eval_batches:
                break
            generator = masking_generator(config.seed + 1, 0, index, accelerator.process_index)
            ids, labels = span_mask(batch["input_ids"].cpu(), kmer, generator, fraction=config.mask_fraction)
            ids, labels = ids.to(accelerator.device), labels.to(accelerator.device)
            stats = _batch_stats(_forward(model, batch, ids, labels, config), batch, ids, labels, config)
            totals += torch.tensor([float(stats.get(key, 0.0)) for key in keys], dtype=torch.float64,
                                   device=accelerator.device)
    model.train(was_training)
    totals = accelerator.reduce(totals, reduction="sum")
    sums = {key: value for key, value in zip(keys, totals.tolist())}
    if not config.nsp:
        sums.pop("nsp_loss")
    if not config.uses_regions:
        sums.pop("srm_loss")
    return _summary(sums, config.srm_weight, "val_")


def evaluate_pretrained(model_folder: str, config: GeneBertPretrainConfig, *, baseline: bool = True) -> dict:
    """Evaluate a finished GeneBERT folder on the validation split ``config`` defines (its corpus,
    seed, val_fraction, values, tracks, batch size, masking rate), as the loop's evaluations do,
    with MLM accuracy at ``[MASK]`` inputs; with ``baseline``, the GC-only retrieval R@1 on the
    same batches (:mod:`.retrieval_baseline`)."""
    from accelerate import Accelerator

    from ...genebert import GeneBertForPreTraining
    from .corpus import GeneBertCorpus
    from .retrieval_baseline import gc_retrieval_baseline
    from .samples import GeneBertSamples

    corpus = GeneBertCorpus(config.corpus)
    model = GeneBertForPreTraining.from_pretrained(model_folder)
    check_motif_columns(model.config, corpus, model_folder)
    val_set = GeneBertSamples(corpus, split="validation", **_sample_settings(config, model.config))
    accelerator = Accelerator(cpu=not torch.cuda.is_available())
    model, loader = accelerator.prepare(model, _validation_loader(val_set, config))
    result = evaluate(model, loader, accelerator, config)
    result["val_samples"] = len(val_set)
    if baseline and config.uses_regions:
        train_set = GeneBertSamples(corpus, split="train", **_sample_settings(config, model.config))
        result["baseline"] = gc_retrieval_baseline(train_set, val_set, kmer=train_set.kmer,
                                                   num_regions=train_set.num_regions, batch_size=config.batch_size)
    return result


def _sample_settings(config: GeneBertPretrainConfig, model_config) -> dict:
    """``GeneBertSamples`` arguments of a run (the split and the sample layout the model reads)."""
    return dict(kmer=model_config.kmer, tracks=config.split_list("tracks") or None,
                num_regions=model_config.num_regions, values=config.values, seed=config.seed,
                val_fraction=config.val_fraction, exclude_contigs=config.split_list("exclude_contigs"), nsp=config.nsp)


def _validation_loader(val_set, config: GeneBertPretrainConfig):
    """The validation batches of a run: in order, ``batch_size`` samples (the loop's evaluations
    and ``evaluate_pretrained`` read the same batches)."""
    from torch.utils.data import DataLoader

    from .samples import collate_samples

    return DataLoader(val_set, batch_size=config.batch_size, collate_fn=collate_samples,
                      generator=torch.Generator().manual_seed(config.seed + 1))


EVALUATION_KEYS = ("tracks", "values", "val_fraction", "exclude_contigs", "seed", "batch_size", "mask_fraction", "nsp",
                   "srm_weight", "eval_batches")


def evaluation_config(run: dict, overrides: Sequence[str] = ()) -> GeneBertPretrainConfig:
    """The configuration that re-evaluates a run: the keys of its ``training_summary.json``
    ``config`` that fix the validation split and masking (``EVALUATION_KEYS``), then
    ``--key=value`` overrides (``--corpus=...`` at least)."""
    from ..config import load_config

    inherited = [f"--{key}={'' if run[key] is None else run[key]}" for key in EVALUATION_KEYS if key in run]
    return load_config(GeneBertPretrainConfig, None, ["--output_dir=-", *inherited, *overrides])


def pretrain_genebert(config: GeneBertPretrainConfig, *, progress: bool = True,
                      callbacks: Sequence[Callback] = ()) -> Path:
    """Run (or resume) GeneBERT pretraining; returns the final Hub-ready model folder."""
    from accelerate.utils import DistributedDataParallelKwargs, set_seed
    from torch.utils.data import DataLoader

    from ..splicebert.data import LengthBucketBatchSampler
    from .corpus import GeneBertCorpus
    from .cached_matching import cached_matching_step, split_batch
    from .samples import GeneBertSamples, collate_samples, mask_fraction_at, masking_generator, span_mask

    output_dir = Path(config.output_dir)
    corpus = GeneBertCorpus(config.corpus)
    set_seed(config.seed)  # the initial weights are a function of the seed
    model = build_model(config, corpus)
    kmer = model.config.kmer
    train_set = GeneBertSamples(corpus, split="train", **_sample_settings(config, model.config))
    val_set = GeneBertSamples(corpus, split="validation", **_sample_settings(config, model.config))

    # parts of the model no loss reaches (Swin when srm_weight is 0, the NSP head without nsp)
    unused = not (config.nsp and config.uses_regions)
    # with the matching loss over the optimiser batch, a loader batch is the optimiser batch and the
    # step accumulates its micro-batches itself (cached_matching_step); accelerate then sees one
    cached = config.cached_matching
    accumulation = 1 if cached else config.gradient_accumulation_steps
    loader_batch = config.batch_size * config.gradient_accumulation_steps if cached else config.batch_size
    accelerator = make_accelerator(output_dir, gradient_accumulation_steps=accumulation,
                                   mixed_precision=config.mixed_precision, tracker=config.tracker,
                                   handlers=[DistributedDataParallelKwargs(find_unused_parameters=unused)])
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, output_dir / "config.yaml")
    if config.tracker:
        accelerator.init_trackers("genebert-pretrain", config=json.loads(json.dumps(asdict(config))))
    train_loader = DataLoader(train_set, batch_sampler=LengthBucketBatchSampler(train_set, loader_batch,
                              seed=config.seed), collate_fn=collate_samples,
                              generator=torch.Generator().manual_seed(config.seed))
    val_loader = _validation_loader(val_set, config)
    optimizer = torch.optim.AdamW(parameter_groups(model, config.weight_decay), lr=config.learning_rate,
                                  betas=tuple(config.adam_betas), eps=config.adam_epsilon)
    plateau = PlateauHalving(config.plateau_patience, config.plateau_factor)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor(config.lr_schedule, config.warmup_steps, config.max_steps, plateau))
    state = Progress()
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    accelerator.register_for_checkpointing(scheduler, plateau, state)
    resume(accelerator, output_dir, state)

    def step(batch: dict, micro: int):
        fraction = mask_fraction_at(state.step, config.mask_fraction, config.mask_fraction_after,
                                    config.mask_switch_step)
        generator = masking_generator(config.seed, state.step, micro, accelerator.process_index)
        ids, labels = span_mask(batch["input_ids"].cpu(), kmer, generator, fraction=fraction)
        ids, labels = ids.to(accelerator.device), labels.to(accelerator.device)
        if cached:
            return None, cached_step(batch, ids, labels)
        out = _forward(model, batch, ids, labels, config)
        stats = _batch_stats(out, batch, ids, labels, config)
        stats["logit_scale"] = float(out.logit_scale)
        return out.loss, stats

    def cached_step(batch: dict, ids: torch.Tensor, labels: torch.Tensor) -> dict:
        chunks = split_batch(batch, ids, labels, config.batch_size)
        core = accelerator.unwrap_model(model)
        done = cached_matching_step(
            model, core, chunks, lambda m, chunk: _forward(m, chunk.batch, chunk.input_ids, chunk.labels, config,
                                                           matching=False),
            srm_weight=config.srm_weight, backward=accelerator.backward, no_sync=lambda: accelerator.no_sync(model))
        stats: dict = {}
        for chunk, out in zip(chunks, done.outputs):
            for key, value in _batch_stats(out, chunk.batch, chunk.input_ids, chunk.labels, config,
                                           matching=False).items():
                stats[key] = stats.get(key, 0.0) + value
        hits, chance = retrieval_hits(done.seq_embeds, done.region_embeds)
        stats.update(batches=1, srm_loss=done.srm_loss, r_at_1_hits=hits, r_at_1_chance=chance,
                     logit_scale=float(core.logit_scale.detach()))
        return stats

    def summarise(sums: dict, seconds: float) -> dict:
        metrics = _summary(sums, config.srm_weight)
        metrics["logit_scale"] = sums["logit_scale"] / max(sums["batches"], 1)
        metrics["samples_per_s"] = sums["samples"] * accelerator.num_processes / max(seconds, 1e-9)
        return metrics

    settings = LoopSettings(max_steps=config.max_steps, eval_every=config.eval_every, save_every=config.save_every,
                            log_every=config.log_every, keep_checkpoints=config.keep_checkpoints,
                            grad_clip=config.grad_clip, description="GeneBERT pretraining")
    run_loop(settings, accelerator=accelerator, model=model, optimizer=optimizer, scheduler=scheduler,
             plateau=plateau if config.lr_schedule == "plateau" else None, state=state, train_set=train_set,
             train_loader=train_loader, step_fn=step, summarise=summarise,
             evaluate=lambda: evaluate(model, val_loader, accelerator, config), output_dir=output_dir,
             callbacks=callbacks, progress=progress)
    final = output_dir / "final"
    if accelerator.is_main_process:
        _write_final(accelerator.unwrap_model(model), final, config, corpus, train_set, val_set, output_dir)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def _write_final(model, folder: Path, config: GeneBertPretrainConfig, corpus, train_set, val_set,
                 output_dir: Path) -> None:
    from ...checkpoints.hub_folder import save_genebert_folder

    save_genebert_folder(model, folder)
    history = logged_history(output_dir)
    summary = {"config": asdict(config), "corpus": {"path": str(corpus.path), "regions": len(corpus),
                                                     "motifs": len(corpus.tf_ids),
                                                     "jaspar": corpus.meta["settings"]["jaspar_release"],
                                                     "tracks": train_set.tracks},
               "samples": {"train": len(train_set), "validation": len(val_set)},
               "history": history, "last_eval": history[-1] if history else {}}
    (folder / "training_summary.json").write_text(json.dumps(summary, indent=2, default=str) + "\n")
