"""Masked-LM pretraining with Accelerate (one CPU to many GPUs and nodes).

Read top to bottom: config -> data -> model -> optimiser and schedules -> the shared loop
(``loop.run_loop``: accumulate, clip, step, log, evaluate, checkpoint) -> final Hub-ready folder.

Schedules: linear warm-up over ``warmup_steps`` optimiser steps, times a plateau factor that
halves (``plateau_factor``) when the validation loss, averaged over all processes, has not
improved for ``plateau_patience`` evaluations (the paper's schedule). Both are stepped here,
once per optimiser step / evaluation, and saved with ``save_state``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch

from ..config import ConfigError, PretrainLoopConfig, save_config
from ..loop import (
    Callback,
    LoopSettings,
    PlateauHalving,
    Progress,
    lr_factor,
    make_accelerator,
    parameter_groups,
    resume,
    run_loop,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainConfig(PretrainLoopConfig):
    """SpliceBERT's masked-LM pretraining (the shared loop settings: ``PretrainLoopConfig``)."""

    init_from: str | None = None  # continue from a checkpoint folder (stage 2 from stage 1)
    # model size when not init_from (defaults: the released SpliceBERT)
    hidden_size: int = 512
    num_hidden_layers: int = 6
    num_attention_heads: int = 16
    intermediate_size: int = 2048
    max_position_embeddings: int = 1026
    attn_implementation: str = "sdpa"
    dropout: float = 0.1  # hidden and attention dropout of a new model (the released models: 0.1)
    # data: stage 1 = fixed 510-nt windows; stage 2 = min_length 64, max_length 1024
    min_length: int = 510
    max_length: int = 510
    val_windows: int = 1  # fixed windows drawn per validation sequence (more: a less noisy validation loss)

    def __post_init__(self):
        super().__post_init__()
        if not 1 <= self.min_length <= self.max_length <= self.max_position_embeddings - 2:
            raise ConfigError(
                f"need 1 <= min_length ({self.min_length}) <= max_length ({self.max_length}) <= "
                f"max_position_embeddings - 2 ({self.max_position_embeddings - 2})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.val_windows < 1:
            raise ConfigError(f"val_windows must be >= 1, got {self.val_windows}")


def _build_model(config: PretrainConfig):
    from ...splicebert.configuration_splicebert import SpliceBertConfig
    from ...splicebert.modeling_splicebert import SpliceBertForMaskedLM

    if config.init_from:
        from ...checkpoints import load_masked_lm

        model = load_masked_lm(config.init_from, attn_implementation=config.attn_implementation)
        if model.config.max_position_embeddings - 2 < config.max_length:
            raise ConfigError(
                f"init_from {config.init_from} has {model.config.max_position_embeddings} position embeddings: "
                f"windows of max_length {config.max_length} need {config.max_length + 2}; lower max_length "
                "or start from a model built with more positions (stage 1 builds 1026)"
            )
        return model
    model_config = SpliceBertConfig(
        hidden_size=config.hidden_size,
        num_hidden_layers=config.num_hidden_layers,
        num_attention_heads=config.num_attention_heads,
        intermediate_size=config.intermediate_size,
        max_position_embeddings=config.max_position_embeddings,
        hidden_dropout_prob=config.dropout,
        attention_probs_dropout_prob=config.dropout,
    )
    return SpliceBertForMaskedLM._from_config(model_config, attn_implementation=config.attn_implementation)


def evaluate(model, loader, accelerator, max_batches: int = 0) -> dict[str, float]:
    """Masked-token cross-entropy (nats) and accuracy over the validation loader, all processes."""
    was_training = model.training
    model.eval()
    totals = torch.zeros(3, device=accelerator.device)  # loss sum, correct, tokens
    with torch.no_grad():
        for i, batch in enumerate(loader):
            if max_batches and i >= max_batches:
                break
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"],
                           output_hidden_states=False).logits.float()
            labels = batch["labels"]
            chosen = labels != -100
            totals[0] += torch.nn.functional.cross_entropy(logits[chosen], labels[chosen], reduction="sum")
            totals[1] += (logits[chosen].argmax(-1) == labels[chosen]).sum()
            totals[2] += chosen.sum()
    model.train(was_training)
    totals = accelerator.reduce(totals, reduction="sum")
    count = max(totals[2].item(), 1.0)
    return {"val_loss": totals[0].item() / count, "val_accuracy": totals[1].item() / count,
            "val_tokens": totals[2].item()}


def pretrain(config: PretrainConfig, *, progress: bool = True, callbacks: Sequence[Callback] = ()) -> Path:
    """Run (or resume) pretraining; returns the final Hub-ready model folder."""
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader

    from .corpus import TRAIN, VALIDATION, TokenCorpus
    from .data import LengthBucketBatchSampler, WindowDataset, collate

    output_dir = Path(config.output_dir)
    accelerator = make_accelerator(output_dir, gradient_accumulation_steps=config.gradient_accumulation_steps,
                                   mixed_precision=config.mixed_precision, tracker=config.tracker)
    set_seed(config.seed)
    if accelerator.is_main_process:
        output_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, output_dir / "config.yaml")
    if config.tracker:
        accelerator.init_trackers("splicebert-pretrain", config=json.loads(json.dumps(asdict(config))))

    corpus = TokenCorpus(config.corpus)
    train_set = WindowDataset(corpus, TRAIN, min_length=config.min_length, max_length=config.max_length,
                              seed=config.seed)
    val_set = WindowDataset(corpus, VALIDATION, min_length=config.min_length, max_length=config.max_length,
                            seed=config.seed + 1, repeats=config.val_windows)  # epoch stays 0: the same validation samples every time
    # own generators: creating a loader iterator must not draw from the global RNG (dropout's),
    # or a resumed run (which creates one mid-epoch) would drift from an uninterrupted one
    train_loader = DataLoader(train_set, batch_sampler=LengthBucketBatchSampler(train_set, config.batch_size,
                              seed=config.seed), collate_fn=collate,
                              generator=torch.Generator().manual_seed(config.seed))
    val_loader = DataLoader(val_set, batch_size=config.batch_size, collate_fn=collate,
                            generator=torch.Generator().manual_seed(config.seed + 1))

    model = _build_model(config)
    optimizer = torch.optim.AdamW(parameter_groups(model, config.weight_decay), lr=config.learning_rate,
                                  betas=tuple(config.adam_betas))
    plateau = PlateauHalving(config.plateau_patience, config.plateau_factor)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lr_factor("plateau", config.warmup_steps, config.max_steps, plateau))
    state = Progress()
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    # stepped here, not by accelerate (which would step them once per process)
    accelerator.register_for_checkpointing(scheduler, plateau, state)
    resume(accelerator, output_dir, state)

    def step(batch: dict, micro: int):
        out = model(**batch, output_hidden_states=False)
        chosen = batch["labels"] != -100
        masked = chosen.sum().item()
        correct = (out.logits.detach()[chosen].argmax(-1) == batch["labels"][chosen]).sum().item()
        return out.loss, {"loss": out.loss.item() * masked, "masked": masked, "correct": correct,
                          "tokens": batch["attention_mask"].sum().item()}

    def summarise(sums: dict, seconds: float) -> dict:
        masked = max(sums.get("masked", 0), 1)
        return {"loss": sums.get("loss", 0.0) / masked, "accuracy": sums.get("correct", 0) / masked,
                "tokens_per_s": sums.get("tokens", 0) * accelerator.num_processes / max(seconds, 1e-9)}

    settings = LoopSettings(max_steps=config.max_steps, eval_every=config.eval_every, save_every=config.save_every,
                            log_every=config.log_every, keep_checkpoints=config.keep_checkpoints,
                            grad_clip=config.grad_clip, description="pretraining")
    history = run_loop(settings, accelerator=accelerator, model=model, optimizer=optimizer, scheduler=scheduler,
                       plateau=plateau, state=state, train_set=train_set, train_loader=train_loader, step_fn=step,
                       summarise=summarise, evaluate=lambda: evaluate(model, val_loader, accelerator,
                                                                      config.eval_batches),
                       output_dir=output_dir, callbacks=callbacks, progress=progress)
    final = output_dir / "final"
    if accelerator.is_main_process:
        _write_final(accelerator.unwrap_model(model), final, config, history)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def _write_final(model, folder: Path, config: PretrainConfig, history: list[dict]) -> None:
    from ...checkpoints.hub_folder import save_splicebert_folder

    folder.mkdir(parents=True, exist_ok=True)
    save_splicebert_folder(model, folder)
    last = history[-1] if history else {}
    (folder / "training_summary.json").write_text(json.dumps({"config": asdict(config), "last_eval": last},
                                                             indent=2, default=str) + "\n")
