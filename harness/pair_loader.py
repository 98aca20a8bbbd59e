"""Decoding image pairs ahead of the model: a torch DataLoader over batches, with worker prefetch.

A sample whose images cannot be loaded comes out as an error string in place of its PairInput,
so one bad file costs one sample, not the batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from torch.utils.data import DataLoader, Dataset

from adapters.base import PairInput
from harness.data.images import ImageCache, load_pair
from harness.data.schema import Sample
from harness.errors import HarnessError

LoadedBatch = list[tuple[Sample, "PairInput | str"]]


class PairBatches(Dataset):
    """Item i is batch i, decoded: (sample, PairInput) or (sample, "input: why it failed")."""

    def __init__(self, root: Path, batches: list[list[Sample]]) -> None:
        self.root = Path(root)
        self.batches = batches
        self._images: ImageCache | None = None  # made lazily: one per worker process

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> LoadedBatch:
        if self._images is None:
            self._images = ImageCache()
        loaded: LoadedBatch = []
        for sample in self.batches[index]:
            try:
                a, b = load_pair(self.root, sample.image_a, sample.image_b, self._images)
                loaded.append((sample, PairInput(id=sample.id, image_a=a, image_b=b, query=sample.query)))
            except (HarnessError, ValueError, OSError) as exc:
                loaded.append((sample, f"input: {exc}"))
        return loaded


def _as_is(batch: LoadedBatch) -> LoadedBatch:
    return batch


def iterate_pairs(root: Path, batches: list[list[Sample]], workers: int = 0) -> Iterator[LoadedBatch]:
    """Decoded batches in order; with `workers` > 0 they are decoded in parallel and prefetched."""
    dataset = PairBatches(root, batches)
    if workers <= 0 or len(batches) <= 1:
        yield from (dataset[i] for i in range(len(dataset)))
        return
    loader = DataLoader(
        dataset,
        batch_size=None,  # items are already batches
        shuffle=False,
        num_workers=min(workers, len(batches)),
        prefetch_factor=2,
        collate_fn=_as_is,
        persistent_workers=False,
    )
    yield from loader
