"""Masked-LM pretraining with Accelerate (one CPU to many GPUs and nodes).

Read top to bottom: config -> data -> model -> optimiser and schedules -> loop (accumulate,
clip, step, log, evaluate, checkpoint) -> final Hub-ready folder.

Schedules: linear warm-up over ``warmup_steps`` optimiser steps, times a plateau factor that
halves (``plateau_factor``) when the validation loss, averaged over all processes, has not
improved for ``plateau_patience`` evaluations (the paper's schedule). Both are stepped here,
once per optimiser step / evaluation, and saved with ``save_state``.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Sequence

import torch

from .config import save_config

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainConfig:
    corpus: str
    output_dir: str
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
    batch_size: int = 32  # per process and accumulation step
    gradient_accumulation_steps: int = 1
    # optimisation
    learning_rate: float = 1e-4
    weight_decay: float = 0.01
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 1000
    max_steps: int = 100_000
    grad_clip: float = 1.0
    plateau_patience: int = 3
    plateau_factor: float = 0.5
    mixed_precision: str = "no"  # "no", "bf16", "fp16"
    # bookkeeping
    eval_every: int = 1000
    eval_batches: int = 0  # 0 = the whole validation split
    val_windows: int = 1  # fixed windows drawn per validation sequence (more: a less noisy validation loss)
    save_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 50
    seed: int = 0
    tracker: str | None = None  # e.g. "tensorboard", "wandb"

    def __post_init__(self):
        from .config import ConfigError

        if not 1 <= self.min_length <= self.max_length <= self.max_position_embeddings - 2:
            raise ConfigError(
                f"need 1 <= min_length ({self.min_length}) <= max_length ({self.max_length}) <= "
                f"max_position_embeddings - 2 ({self.max_position_embeddings - 2})"
            )
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ConfigError(f"mixed_precision {self.mixed_precision!r}: choose no, bf16 or fp16")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout}")
        for name in ("batch_size", "gradient_accumulation_steps", "max_steps", "eval_every", "save_every",
                     "log_every", "plateau_patience", "val_windows"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")


class PlateauHalving:
    """LR factor that is multiplied by ``factor`` after ``patience`` evaluations without improvement."""

    def __init__(self, patience: int, factor: float):
        self.patience, self.factor = patience, factor
        self.best, self.bad, self.scale = math.inf, 0, 1.0

    def step(self, loss: float) -> bool:
        """Record one evaluation; True when the LR was just reduced."""
        if loss < self.best:
            self.best, self.bad = loss, 0
            return False
        self.bad += 1
        if self.bad >= self.patience:
            self.scale *= self.factor
            self.bad = 0
            return True
        return False

    def state_dict(self) -> dict:
        return {"best": self.best, "bad": self.bad, "scale": self.scale}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad, self.scale = state["best"], state["bad"], state["scale"]


class Callback:
    """Hooks into :func:`pretrain` (instrumentation, tests); every method is a no-op here.

    Subclass and pass ``pretrain(config, callbacks=[...])``. Hooks see the loop's objects and
    must not change them: a run's result does not depend on its callbacks.
    """

    def on_batch(self, step: int, batch: dict, accelerator) -> None:
        """Before each micro-batch's forward pass; ``step`` = optimiser steps done so far."""

    def on_train_end(self, model, accelerator) -> None:
        """After the last step, in every process, before the final folder is written."""


class Progress:
    """Where the loop is: optimiser steps done, epoch, batches of this epoch done (checkpointed)."""

    def __init__(self):
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]


def _build_model(config: PretrainConfig):
    from ..configuration_splicebert import SpliceBertConfig
    from ..modeling_splicebert import SpliceBertForMaskedLM

    if config.init_from:
        from ..checkpoints import load_masked_lm

        from .config import ConfigError

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


def _parameter_groups(model, weight_decay: float):
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


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


def _checkpoints(output_dir: Path) -> list[Path]:
    folder = output_dir / "checkpoints"
    found = [p for p in folder.glob("step_*") if p.is_dir()] if folder.is_dir() else []
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def pretrain(config: PretrainConfig, *, progress: bool = True, callbacks: Sequence[Callback] = ()) -> Path:
    """Run (or resume) pretraining; returns the final Hub-ready model folder."""
    from accelerate import Accelerator
    from accelerate.utils import set_seed
    from torch.utils.data import DataLoader
    from tqdm import tqdm

    from .corpus import TRAIN, VALIDATION, TokenCorpus
    from .data import LengthBucketBatchSampler, WindowDataset, collate

    output_dir = Path(config.output_dir)
    accelerator = Accelerator(
        # without a GPU, cpu=True lets accelerate see torchrun's processes as multi-CPU data parallelism
        cpu=not torch.cuda.is_available(),
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        mixed_precision=config.mixed_precision,
        log_with=config.tracker,
        project_dir=str(output_dir),
    )
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
    optimizer = torch.optim.AdamW(_parameter_groups(model, config.weight_decay), lr=config.learning_rate,
                                  betas=tuple(config.adam_betas))
    plateau = PlateauHalving(config.plateau_patience, config.plateau_factor)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / max(1, config.warmup_steps)) * plateau.scale
    )
    state = Progress()
    model, optimizer, train_loader, val_loader = accelerator.prepare(model, optimizer, train_loader, val_loader)
    # stepped here, not by accelerate (which would step them once per process)
    accelerator.register_for_checkpointing(scheduler, plateau, state)

    existing = _checkpoints(output_dir)
    if existing:
        accelerator.load_state(str(existing[-1]))
        log.info("resumed from %s at step %d", existing[-1], state.step)

    model.train()
    bar = tqdm(total=config.max_steps, initial=state.step, desc="pretraining", unit=" steps", file=sys.stderr,
               disable=not (progress and accelerator.is_local_main_process))
    window = {"loss": 0.0, "tokens": 0, "correct": 0, "masked": 0, "start": time.perf_counter()}
    history = []
    while state.step < config.max_steps:
        train_set.use_epoch(state.epoch)
        loader = train_loader
        if state.batch_in_epoch:
            loader = accelerator.skip_first_batches(train_loader, state.batch_in_epoch)
        for batch in loader:
            state.batch_in_epoch += 1
            for callback in callbacks:
                callback.on_batch(state.step, batch, accelerator)
            with accelerator.accumulate(model):
                out = model(**batch, output_hidden_states=False)
                accelerator.backward(out.loss)
                if accelerator.sync_gradients and config.grad_clip:
                    accelerator.clip_grad_norm_(model.parameters(), config.grad_clip)
                optimizer.step()
                optimizer.zero_grad()
            chosen = batch["labels"] != -100
            window["loss"] += out.loss.item() * chosen.sum().item()
            window["masked"] += chosen.sum().item()
            window["correct"] += (out.logits.detach()[chosen].argmax(-1) == batch["labels"][chosen]).sum().item()
            window["tokens"] += batch["attention_mask"].sum().item()
            if not accelerator.sync_gradients:
                continue
            state.step += 1
            scheduler.step()
            bar.update(1)
            if state.step % config.log_every == 0:
                elapsed = time.perf_counter() - window["start"]
                metrics = {
                    "loss": window["loss"] / max(window["masked"], 1),
                    "accuracy": window["correct"] / max(window["masked"], 1),
                    "tokens_per_s": window["tokens"] * accelerator.num_processes / max(elapsed, 1e-9),
                    "lr": scheduler.get_last_lr()[0],
                }
                bar.set_postfix(loss=f"{metrics['loss']:.3f}", acc=f"{metrics['accuracy']:.3f}")
                accelerator.log(metrics, step=state.step)
                window = {"loss": 0.0, "tokens": 0, "correct": 0, "masked": 0, "start": time.perf_counter()}
            if state.step % config.eval_every == 0 or state.step == config.max_steps:
                metrics = evaluate(model, val_loader, accelerator, config.eval_batches)
                if plateau.step(metrics["val_loss"]):
                    log.info("validation loss stalled: learning rate x%.2f", config.plateau_factor)
                metrics["step"] = state.step
                history.append(metrics)
                accelerator.log(metrics, step=state.step)
                if accelerator.is_main_process:
                    with open(output_dir / "eval_history.jsonl", "a") as handle:
                        handle.write(json.dumps(metrics) + "\n")
            if state.step % config.save_every == 0 or state.step == config.max_steps:
                _save_checkpoint(accelerator, output_dir, state.step, config.keep_checkpoints)
            if state.step >= config.max_steps:
                break
        else:
            state.epoch += 1
            state.batch_in_epoch = 0
    bar.close()
    for callback in callbacks:
        callback.on_train_end(accelerator.unwrap_model(model), accelerator)
    accelerator.wait_for_everyone()
    final = output_dir / "final"
    if accelerator.is_main_process:
        if not history and (output_dir / "eval_history.jsonl").is_file():  # resumed at its last step
            logged = [json.loads(line) for line in (output_dir / "eval_history.jsonl").read_text().splitlines()]
            history = [entry for entry in logged if entry["step"] == state.step][-1:]
        _write_final(accelerator.unwrap_model(model), final, config, history)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def _save_checkpoint(accelerator, output_dir: Path, step: int, keep: int) -> None:
    target = output_dir / "checkpoints" / f"step_{step}"
    accelerator.save_state(str(target))
    if accelerator.is_main_process:
        for old in _checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def _write_final(model, folder: Path, config: PretrainConfig, history: list[dict]) -> None:
    from .. import checkpoints

    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder))
    checkpoints.finalize_config(folder)
    checkpoints.write_tokenizer_files(folder, model.config.max_position_embeddings - 2)
    checkpoints.write_code_files(folder)
    last = history[-1] if history else {}
    (folder / "training_summary.json").write_text(json.dumps({"config": asdict(config), "last_eval": last},
                                                             indent=2, default=str) + "\n")
