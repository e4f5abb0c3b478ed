"""The Accelerate training loop both pretraining recipes share (SpliceBERT MLM, GeneBERT).

A recipe builds its data, model and optimiser, then hands :func:`run_loop` two functions: one
that computes a micro-batch's loss (and summable statistics for the log), one that evaluates.
The loop owns everything else: gradient accumulation and clipping, the optimiser and schedule
steps, progress, logging, evaluation history, checkpoint rotation and resuming mid-epoch.

Schedules (``lr_factor``): ``plateau`` = linear warm-up times a factor that halves when the
validation loss, averaged over all processes, stalls (SpliceBERT's); ``linear`` = linear
warm-up then linear decay to 0 at ``max_steps`` (DNABERT's). Both are stepped here, once per
optimiser step, and saved with ``save_state``.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import torch
from ..errors import UserError

log = logging.getLogger(__name__)

SCHEDULES = ("plateau", "linear")


@dataclass(frozen=True)
class LoopSettings:
    max_steps: int
    eval_every: int
    save_every: int
    log_every: int
    keep_checkpoints: int = 2
    grad_clip: float = 1.0
    description: str = "training"


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


class Progress:
    """Where the loop is: optimiser steps done, epoch, batches of this epoch done (checkpointed)."""

    def __init__(self):
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0

    def state_dict(self) -> dict:
        return dict(vars(self))

    def load_state_dict(self, state: dict) -> None:
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]


class Callback:
    """Hooks into the loop (instrumentation, tests); every method is a no-op here.

    Hooks see the loop's objects and must not change them: a run's result does not depend on
    its callbacks.
    """

    def on_batch(self, step: int, batch: dict, accelerator) -> None:
        """Before each micro-batch's forward pass; ``step`` = optimiser steps done so far."""

    def on_train_end(self, model, accelerator) -> None:
        """After the last step, in every process, before the final folder is written."""


def make_accelerator(output_dir: Path, *, gradient_accumulation_steps: int, mixed_precision: str,
                     tracker: str | None, handlers: Sequence = ()):
    from accelerate import Accelerator

    return Accelerator(
        # without a GPU, cpu=True lets accelerate see torchrun's processes as multi-CPU data parallelism
        cpu=not torch.cuda.is_available(),
        gradient_accumulation_steps=gradient_accumulation_steps,
        mixed_precision=mixed_precision,
        log_with=tracker,
        project_dir=str(output_dir),
        kwargs_handlers=list(handlers),
    )


def parameter_groups(model, weight_decay: float) -> list[dict]:
    """AdamW groups: no weight decay on biases, LayerNorm weights and other 1-d parameters."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def lr_factor(schedule: str, warmup_steps: int, max_steps: int, plateau: PlateauHalving) -> Callable[[int], float]:
    """The LambdaLR factor of ``schedule`` (see the module docstring)."""
    if schedule == "plateau":
        return lambda step: min(1.0, (step + 1) / max(1, warmup_steps)) * plateau.scale
    if schedule == "linear":
        def linear(step: int) -> float:
            if step < warmup_steps:
                return (step + 1) / max(1, warmup_steps)
            return max(0.0, (max_steps - step) / max(1, max_steps - warmup_steps))
        return linear
    raise UserError(f"lr_schedule {schedule!r}: choose one of {SCHEDULES}")


def checkpoints(output_dir: Path) -> list[Path]:
    folder = Path(output_dir) / "checkpoints"
    found = [p for p in folder.glob("step_*") if p.is_dir()] if folder.is_dir() else []
    return sorted(found, key=lambda p: int(p.name.split("_")[1]))


def save_checkpoint(accelerator, output_dir: Path, step: int, keep: int) -> None:
    target = Path(output_dir) / "checkpoints" / f"step_{step}"
    accelerator.save_state(str(target))
    if accelerator.is_main_process:
        for old in checkpoints(output_dir)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def resume(accelerator, output_dir: Path, state: Progress) -> None:
    """Load the newest checkpoint of ``output_dir``, if any (rerunning a command resumes it)."""
    existing = checkpoints(output_dir)
    if existing:
        accelerator.load_state(str(existing[-1]))
        log.info("resumed from %s at step %d", existing[-1], state.step)


StepFunction = Callable[[dict, int], tuple[torch.Tensor, dict]]


def run_loop(settings: LoopSettings, *, accelerator, model, optimizer, scheduler, plateau: PlateauHalving | None,
             state: Progress, train_set, train_loader, step_fn: StepFunction,
             summarise: Callable[[dict, float], dict], evaluate: Callable[[], dict], output_dir: Path,
             callbacks: Sequence[Callback] = (), progress: bool = True) -> list[dict]:
    """Train until ``settings.max_steps`` optimiser steps; returns this run's evaluations.

    ``step_fn(batch, micro)`` returns the micro-batch's loss and statistics to sum until the next
    log line (``micro``: index of the micro-batch within its optimiser step), or ``None`` for the
    loss when it has run its backward passes itself (GeneBERT's cached matching); ``summarise(sums,
    seconds)`` turns the sums into logged metrics (``loss`` shows on the bar); ``evaluate()``
    returns metrics with ``val_loss`` (the plateau's signal). Evaluations are appended to
    ``output_dir/eval_history.jsonl``; when a run resumes at its last step, the last logged one
    is returned.
    """
    from tqdm import tqdm

    output_dir = Path(output_dir)
    model.train()
    bar = tqdm(total=settings.max_steps, initial=state.step, desc=settings.description, unit=" steps",
               file=sys.stderr, disable=not (progress and accelerator.is_local_main_process))
    sums: dict = {}
    started = time.perf_counter()
    history: list[dict] = []
    micro = 0
    while state.step < settings.max_steps:
        train_set.use_epoch(state.epoch)
        loader = train_loader
        if state.batch_in_epoch:
            loader = accelerator.skip_first_batches(train_loader, state.batch_in_epoch)
        for batch in loader:
            state.batch_in_epoch += 1
            for callback in callbacks:
                callback.on_batch(state.step, batch, accelerator)
            with accelerator.accumulate(model):
                loss, stats = step_fn(batch, micro)
                if loss is not None:  # None: the step ran its own backward passes
                    accelerator.backward(loss)
                if accelerator.sync_gradients and settings.grad_clip:
                    accelerator.clip_grad_norm_(model.parameters(), settings.grad_clip)
                optimizer.step()
                optimizer.zero_grad()
            for key, value in stats.items():
                sums[key] = sums.get(key, 0.0) + value
            if not accelerator.sync_gradients:
                micro += 1
                continue
            micro = 0
            state.step += 1
            scheduler.step()
            bar.update(1)
            if state.step % settings.log_every == 0:
                metrics = summarise(sums, time.perf_counter() - started)
                metrics["lr"] = scheduler.get_last_lr()[0]
                bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items() if k in ("loss", "accuracy", "r_at_1")})
                accelerator.log(metrics, step=state.step)
                sums, started = {}, time.perf_counter()
            if state.step % settings.eval_every == 0 or state.step == settings.max_steps:
                metrics = evaluate()
                if plateau is not None and plateau.step(metrics["val_loss"]):
                    log.info("validation loss stalled: learning rate x%.2f", plateau.factor)
                metrics["step"] = state.step
                history.append(metrics)
                accelerator.log(metrics, step=state.step)
                if accelerator.is_main_process:
                    with open(output_dir / "eval_history.jsonl", "a") as handle:
                        handle.write(json.dumps(metrics) + "\n")
            if state.step % settings.save_every == 0 or state.step == settings.max_steps:
                save_checkpoint(accelerator, output_dir, state.step, settings.keep_checkpoints)
            if state.step >= settings.max_steps:
                break
        else:
            state.epoch += 1
            state.batch_in_epoch = 0
    bar.close()
    for callback in callbacks:
        callback.on_train_end(accelerator.unwrap_model(model), accelerator)
    accelerator.wait_for_everyone()
    if not history:  # resumed at its last step: its evaluation is in the log
        history = [entry for entry in logged_history(output_dir) if entry["step"] == state.step]
    return history


def logged_history(output_dir: Path) -> list[dict]:
    """Every evaluation ``output_dir/eval_history.jsonl`` holds, the last one per step (a resumed
    run may have logged a step twice)."""
    path = Path(output_dir) / "eval_history.jsonl"
    if not path.is_file():
        return []
    by_step = {}
    for line in path.read_text().splitlines():
        entry = json.loads(line)
        by_step[entry["step"]] = entry
    return [by_step[step] for step in sorted(by_step)]
