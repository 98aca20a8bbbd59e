"""Training recipe of `cd-siamese`: FC-Siam-diff on the union change masks of a dataset's pairs.

Train: pairs resized to `image_size` (masks nearest), random `crop_size` crops and flips, BCE +
Dice. Validate: the adapter's own inference (`change_probability` at `image_size`, upsampled to
B's size, > 0.5) against the val masks at B's resolution; the score is the change-class IoU
accumulated over the split (sum of intersections / sum of unions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from harness.training.change_pairs import change_pairs, load_native, load_resized_split
from harness.training.config import TrainConfigError
from harness.training.task import Shard, TrainingTask
from idg_adapters.cd_siamese_network import NetworkConfig, SiameseDiffNet, change_probability, normalise

CHANGE_THRESHOLD = 0.5


@dataclass(frozen=True)
class ChangeDetectionOptions:
    network: dict[str, Any] | None = None
    image_size: int = 256
    crop_size: int = 128
    dice_weight: float = 1.0
    max_train_pairs: int | None = None
    max_val_pairs: int | None = None
    reference_pairs: int = 16
    """The first N val pairs are also scored alone: a quick check that a checkpoint reproduces."""
    loader_threads: int = 2


def change_counts(predicted: np.ndarray, target: np.ndarray) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of two bool masks."""
    tp = int(np.count_nonzero(predicted & target))
    return tp, int(np.count_nonzero(predicted)) - tp, int(np.count_nonzero(target)) - tp


def change_scores(tp: float, fp: float, fn: float) -> dict[str, float]:
    """Change-class IoU, F1, precision and recall; 1.0 when there is nothing to find and nothing found."""
    union = tp + fp + fn
    return {
        "iou": tp / union if union else 1.0,
        "f1": 2 * tp / (2 * tp + fp + fn) if union else 1.0,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
    }


def dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """1 - soft Dice over the whole batch (a batch without any change still gives a defined loss)."""
    probability = torch.sigmoid(logits)
    intersection = (probability * target).sum()
    return 1.0 - (2.0 * intersection + 1.0) / (probability.sum() + target.sum() + 1.0)


class ChangeDetectionTask(TrainingTask):
    name = "cd-siamese"
    score_name = "iou"

    def __init__(self, options: dict[str, Any], dataset, seed: int) -> None:
        super().__init__(options, dataset, seed)
        try:
            self.opts = ChangeDetectionOptions(**options)
        except TypeError as exc:
            raise TrainConfigError(f"cd-siamese task_options: {exc}") from exc
        self.network = NetworkConfig.from_dict(self.opts.network or {})
        for name in ("image_size", "crop_size"):
            value = getattr(self.opts, name)
            if value % self.network.stride:
                raise TrainConfigError(f"cd-siamese: {name} {value} must be a multiple of {self.network.stride}")
        if self.opts.crop_size > self.opts.image_size:
            raise TrainConfigError("cd-siamese: crop_size must not exceed image_size")

    def prepare(self) -> None:
        train = change_pairs(self.dataset, "train")[: self.opts.max_train_pairs]
        self.val_pairs = change_pairs(self.dataset, "val")[: self.opts.max_val_pairs]
        self.images, self.masks = load_resized_split(
            self.dataset, train, self.opts.image_size, self.opts.loader_threads
        )
        self._val_cache: dict[int, tuple] = {}

    def build_model(self) -> nn.Module:
        return SiameseDiffNet(self.network)

    def model_spec(self) -> dict[str, Any]:
        return {"network": self.network.to_dict(), "image_size": self.opts.image_size}

    def num_train_items(self) -> int:
        return len(self.images)

    def train_batch(self, indices: Sequence[int], epoch: int, device: torch.device) -> tuple[torch.Tensor, ...]:
        crop, size = self.opts.crop_size, self.opts.image_size
        images, masks = [], []
        for index in indices:
            rng = np.random.default_rng([self.seed, epoch, int(index)])
            y, x = rng.integers(0, size - crop + 1, size=2)
            pair = self.images[index, :, :, y : y + crop, x : x + crop]
            mask = self.masks[index, y : y + crop, x : x + crop]
            if rng.random() < 0.5:
                pair, mask = pair[..., ::-1], mask[..., ::-1]
            if rng.random() < 0.5:
                pair, mask = pair[..., ::-1, :], mask[..., ::-1, :]
            images.append(np.ascontiguousarray(pair))
            masks.append(np.ascontiguousarray(mask))
        stacked = normalise(torch.from_numpy(np.stack(images)))
        target = torch.from_numpy(np.stack(masks)).float().unsqueeze(1)
        return stacked[:, 0].to(device), stacked[:, 1].to(device), target.to(device)

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        image_a, image_b, target = batch
        logits = model(image_a, image_b).float()
        bce = F.binary_cross_entropy_with_logits(logits, target)
        return bce + self.opts.dice_weight * dice_loss(logits, target)

    def _val_pair(self, index: int) -> tuple:
        if index not in self._val_cache:
            self._val_cache[index] = load_native(self.dataset, self.val_pairs[index])
        return self._val_cache[index]

    def validation_counts(self, model: nn.Module, shard: Shard, device: torch.device) -> dict[str, float]:
        counts = dict.fromkeys(("tp", "fp", "fn", "ref_tp", "ref_fp", "ref_fn", "pairs"), 0.0)
        for index in shard(list(range(len(self.val_pairs)))):
            image_a, image_b, target = self._val_pair(index)
            predicted = change_probability(model, image_a, image_b, self.opts.image_size, str(device))
            tp, fp, fn = change_counts(predicted > CHANGE_THRESHOLD, target)
            counts["tp"] += tp
            counts["fp"] += fp
            counts["fn"] += fn
            counts["pairs"] += 1
            if index < self.opts.reference_pairs:
                counts["ref_tp"] += tp
                counts["ref_fp"] += fp
                counts["ref_fn"] += fn
        return counts

    def validation_scores(self, counts: dict[str, float]) -> dict[str, float]:
        scores = change_scores(counts["tp"], counts["fp"], counts["fn"])
        reference = change_scores(counts["ref_tp"], counts["ref_fp"], counts["ref_fn"])
        scores["reference_iou"] = reference["iou"]
        scores["reference_f1"] = reference["f1"]
        scores["pairs"] = counts["pairs"]
        return scores

    def provenance_extras(self) -> dict[str, Any]:
        reference = [pair.pair_id for pair in self.val_pairs[: self.opts.reference_pairs]]
        return {"val_pairs": len(self.val_pairs), "reference_pairs": reference}
