"""What a trainable model brings to the generic trainer: its network, batches, loss and val metric.

`harness train NAME` looks NAME up in `harness.training.task_names.TASKS`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from harness.errors import HarnessError
from harness.training.task_names import TASKS

Shard = Callable[[list], list]
"""Picks this process's share of a list (DistContext.shard): validation is split across ranks."""


class UnknownTaskError(HarnessError):
    """`harness train` was asked for a model it cannot train."""


class TrainingTask(ABC):
    """A model's training recipe. Batches depend only on (seed, epoch, item index), never on the
    process count or on how far an interrupted run got, so resuming and DDP repeat the same data."""

    name: ClassVar[str] = ""
    score_name: ClassVar[str] = ""
    """Key of `validation_scores` that picks the best checkpoint (higher is better)."""

    def __init__(self, options: dict[str, Any], dataset: Path, seed: int) -> None:
        self.options = options
        self.dataset = Path(dataset)
        self.seed = seed
        self.last_loss_parts: dict[str, float] = {}
        """The named parts of the last `loss` call (a task may fill it); the trainer averages
        each over the epoch into the log as `train_<part>`."""

    @abstractmethod
    def prepare(self) -> None:
        """Load the data (called once, after the dataset was checked to have a train split)."""

    @abstractmethod
    def build_model(self) -> nn.Module: ...

    @abstractmethod
    def model_spec(self) -> dict[str, Any]:
        """What an adapter needs besides the weights to rebuild the model (kept in provenance)."""

    @abstractmethod
    def num_train_items(self) -> int: ...

    @abstractmethod
    def train_batch(self, indices: Sequence[int], epoch: int, device: torch.device) -> Any: ...

    @abstractmethod
    def loss(self, model: nn.Module, batch: Any) -> torch.Tensor: ...

    @abstractmethod
    def validation_counts(self, model: nn.Module, shard: Shard, device: torch.device) -> dict[str, float]:
        """Sums over this process's share of the val split; the trainer adds them across processes."""

    @abstractmethod
    def validation_scores(self, counts: dict[str, float]) -> dict[str, float]: ...

    def checkpoint_state(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """What a checkpoint keeps: by default every tensor; a model with frozen pretrained parts
        keeps only what training changed (they are reloaded from their own source)."""
        return model.state_dict()

    def load_checkpoint_state(self, model: nn.Module, state: dict[str, torch.Tensor]) -> None:
        model.load_state_dict(state)

    def provenance_extras(self) -> dict[str, Any]:
        """Task-specific facts recorded beside the checkpoint (e.g. which val items were scored)."""
        return {}


def get_task_class(name: str) -> type[TrainingTask]:
    if name not in TASKS:
        raise UnknownTaskError(f"no training task named {name!r}; trainable models: {', '.join(sorted(TASKS))}")
    module, _, attribute = TASKS[name].partition(":")
    return getattr(importlib.import_module(module), attribute)
