"""The training configuration: one YAML file (read with yaml.safe_load) per training recipe."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError


class TrainConfigError(HarnessError):
    """A training config file is missing, not YAML, or has unknown or invalid fields."""


@dataclass(frozen=True)
class TrainConfig:
    """Optimiser, schedule and loop settings; `task_options` belong to the model's task."""

    task: str
    epochs: int = 10
    max_steps: int = 0
    """Stop after this many optimizer steps in all (0: no limit): a smoke run. The epoch that reaches it
    ends there and is validated, checkpointed and logged as usual; the learning-rate schedule still
    follows `epochs`, and nothing is exported unless the last epoch was completed."""
    batch_size: int = 16
    """Per process: under torchrun with N processes the effective batch is N x batch_size."""
    lr: float = 2e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 100
    min_lr_ratio: float = 0.01
    grad_clip: float = 1.0
    amp: bool = True
    """Mixed precision on GPU (ignored on CPU, where autocast brings no speed-up)."""
    seed: int = 0
    cpu_threads: int = 0
    """torch threads per process on CPU (0: torch's default). 1 is much faster when other jobs
    share the cores: torch's 2-thread convolutions stall waiting for a busy core."""
    export_dtype: str = "float16"
    """dtype of the exported best weights (export/model.safetensors)."""
    task_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        checks = {
            "epochs": self.epochs >= 1,
            "max_steps": self.max_steps >= 0,
            "batch_size": self.batch_size >= 1,
            "lr": self.lr > 0,
            "weight_decay": self.weight_decay >= 0,
            "warmup_steps": self.warmup_steps >= 0,
            "min_lr_ratio": 0 <= self.min_lr_ratio <= 1,
            "grad_clip": self.grad_clip >= 0,
            "cpu_threads": self.cpu_threads >= 0,
            "export_dtype": self.export_dtype in ("float16", "bfloat16", "float32"),
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise TrainConfigError(f"invalid training config value(s) for {bad}: {self.to_dict()}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise TrainConfigError(f"{source}: unknown field(s) {unknown}; known fields: {sorted(known)}")
        if "task" not in data:
            raise TrainConfigError(f"{source}: missing required field 'task'")
        try:
            return cls(**data)
        except TypeError as exc:
            raise TrainConfigError(f"{source}: {exc}") from exc


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """`override` on top of `base`; nested mappings (task_options, model) merge key by key."""
    out = dict(base)
    for key, value in override.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def _read_fields(path: Path, chain: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The file's fields, on top of those of its `base:` file (a path relative to it), if any."""
    path = Path(path)
    if not path.is_file():
        raise TrainConfigError(f"training config {path} not found")
    if path.resolve() in chain:
        raise TrainConfigError(f"{path}: `base` files form a cycle: {[str(p) for p in chain]}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TrainConfigError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise TrainConfigError(f"{path}: must hold a mapping of config fields")
    base = data.pop("base", None)
    if base is None:
        return data
    return _merged(_read_fields(path.parent / str(base), (*chain, path.resolve())), data)


def load_train_config(path: Path) -> TrainConfig:
    """A recipe file; `base: OTHER.yaml` starts from another recipe and changes only what it lists."""
    return TrainConfig.from_dict(_read_fields(Path(path)), source=str(path))
