"""Training configuration: frozen dataclasses loaded from YAML with ``--key=value`` overrides.

Unknown keys are errors; the resolved configuration is saved next to every checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from ..errors import UserError


class ConfigError(UserError):
    """A training configuration is invalid; the message names the key."""


@dataclasses.dataclass(frozen=True)
class PretrainLoopConfig:
    """The settings both pretraining recipes share (the loop, optimisation, bookkeeping) and their
    checks; each family's config adds its model and data settings and its paper's defaults."""

    corpus: str
    output_dir: str
    init_from: str | None = None
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
    save_every: int = 1000
    keep_checkpoints: int = 2
    log_every: int = 50
    seed: int = 0
    tracker: str | None = None  # e.g. "tensorboard", "wandb"

    def __post_init__(self):
        if self.mixed_precision not in ("no", "bf16", "fp16"):
            raise ConfigError(f"mixed_precision {self.mixed_precision!r}: choose no, bf16 or fp16")
        for name in ("batch_size", "gradient_accumulation_steps", "max_steps", "eval_every", "save_every",
                     "log_every", "plateau_patience", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.warmup_steps < 0 or self.eval_batches < 0:
            raise ConfigError("warmup_steps and eval_batches must be >= 0")


def _convert(name: str, value, annotation):
    """``value`` (from YAML or a command-line string) as ``annotation``; ConfigError if it is not one."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        annotation = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    try:
        if origin is tuple:
            items = value.split(",") if isinstance(value, str) else list(value)
            if len(items) != len(args):
                raise ValueError(value)
            return tuple(_convert(name, item, arg) for item, arg in zip(items, args))
        if annotation is bool:
            if isinstance(value, bool):
                return value
            if str(value).lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(value)
            return str(value).lower() in ("true", "1", "yes")
        if annotation is int:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(value)
            return int(value)
        if annotation is float:
            return float(value)
        if annotation is str:
            return str(value)
        if (annotation is dict or origin is dict) and isinstance(value, str):
            parsed = json.loads(value)  # from the command line: --key='{"a": 1}'
            if not isinstance(parsed, dict):
                raise ValueError(value)
            return parsed
    except (TypeError, ValueError):  # json.JSONDecodeError is a ValueError
        raise ConfigError(f"config key {name!r}: cannot read {value!r} as {annotation}") from None
    return value


def load_config(cls, path: str | None = None, overrides: list[str] | None = None):
    """``cls`` (a frozen dataclass) from a YAML file and ``--key=value`` / ``key=value`` overrides."""
    values: dict = {}
    if path is not None:
        import yaml

        if not Path(path).is_file():
            raise ConfigError(f"config file {path} does not exist")
        values.update(yaml.safe_load(Path(path).read_text()) or {})
    for item in overrides or []:
        key, sep, value = item.lstrip("-").partition("=")
        if not sep:
            raise ConfigError(f"override {item!r} must look like --key=value")
        values[key.replace("-", "_")] = value
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ConfigError(f"unknown config key(s) {unknown}; known: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    converted = {k: _convert(k, v, hints[k]) for k, v in values.items()}
    missing = [n for n, f in fields.items() if f.default is dataclasses.MISSING and n not in converted]
    if missing:
        raise ConfigError(f"config lacks required key(s) {missing}")
    return cls(**converted)


def save_config(config, path: str | Path) -> None:
    """Write the resolved configuration as YAML (JSON-compatible values)."""
    import yaml

    Path(path).write_text(yaml.safe_dump(json.loads(json.dumps(dataclasses.asdict(config))), sort_keys=True))
