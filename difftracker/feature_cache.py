"""A training-time cache of what the frozen backbone computes for each pair.

With a frozen backbone, the leading stages that no trained parameter reaches (all of them for the
controls without a DEM and for a DEM on the last stage only; `VisualEncoder.frozen_stages`) give
the same output for a pair in every epoch. The cache keeps those outputs per training pair, in the
dtype and on the device they were computed on, and hands a batch its features back in the
backbone's row order. The forward from cached features is the forward from the images, to the bit
(tests/difftracker/test_feature_cache.py); only the time of the frozen stages is saved.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

CACHE_MODES = ("auto", "on", "off")


def cache_pays(frozen_stages: int, levels: Sequence[int]) -> bool:
    """`auto`: cache when every stage the neck reads is frozen. With a DEM after an early stage only
    that stage is frozen: caching it saves a few percent of a step for a large cache."""
    return frozen_stages > 0 and all(level < frozen_stages for level in levels)


class FrozenFeatureCache:
    def __init__(self, rows_per_pair: int) -> None:
        self.rows_per_pair = rows_per_pair
        self.items: dict[int, dict[int, torch.Tensor]] = {}
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self.items)

    def features(self, model, keys: Sequence[int], images_a: torch.Tensor, images_b: torch.Tensor) -> dict:
        """The frozen features of the batch whose pairs are `keys` (their images in the same order),
        computing those of pairs not seen yet with `model.frozen_features`."""
        rows = self.rows_per_pair
        missing = [p for p, key in enumerate(keys) if key not in self.items]
        if missing:
            with torch.no_grad():
                computed = model.frozen_features(images_a[missing], images_b[missing])
            for k, position in enumerate(missing):
                index = [k + side * len(missing) for side in range(rows)]
                item = {stage: t[index].clone() for stage, t in computed.items()}
                self.items[keys[position]] = item
                self.nbytes += sum(t.numel() * t.element_size() for t in item.values())
        first = self.items[keys[0]]
        return {
            stage: torch.cat(
                [self.items[key][stage][side : side + 1] for side in range(rows) for key in keys]
            ).contiguous(memory_format=torch.channels_last)
            for stage in first
        }
