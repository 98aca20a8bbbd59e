"""Decoding image pairs ahead of the model: a torch DataLoader over batches, with worker prefetch.

A sample whose images cannot be loaded comes out as an error string in place of its PairInput,
so one bad file costs one sample, not the batch.

The workers are forked helpers of one run and never outlive it: each asks the kernel to kill it
when its parent dies (kill -9 included), and each ignores SIGINT and SIGTERM, which a terminal or
a scheduler sends to the whole process group. The main process handles those signals
(`harness.run.interrupts`) and shuts its workers down itself.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from harness.data.images import ImageCache, load_pair, resolve_dataset_path
from harness.data.schema import Sample
from harness.errors import HarnessError
from idg_adapters.base import PairInput

# (sample, its PairInput or why it could not be loaded, the pair's true change mask or None)
LoadedBatch = list[tuple[Sample, "PairInput | str", "np.ndarray | None"]]


class PairBatches(Dataset):
    """Item i is batch i, decoded: (sample, PairInput) or (sample, "input: why it failed")."""

    def __init__(self, root: Path, batches: list[list[Sample]], pair_masks: dict[str, list[str]] | None = None) -> None:
        self.root = Path(root)
        self.batches = batches
        self.pair_masks = pair_masks or {}
        self._images: ImageCache | None = None  # made lazily: one per worker process
        self._masks: dict[str, np.ndarray | None] = {}

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, index: int) -> LoadedBatch:
        if self._images is None:
            self._images = ImageCache()
        loaded: LoadedBatch = []
        for sample in self.batches[index]:
            try:
                a, b = load_pair(self.root, sample.image_a, sample.image_b, self._images)
                pair = PairInput(id=sample.id, image_a=a, image_b=b, query=sample.query)
                loaded.append((sample, pair, self._change_mask(sample.pair_id, b.size)))
            except (HarnessError, ValueError, OSError) as exc:
                loaded.append((sample, f"input: {exc}", None))
        return loaded

    def _change_mask(self, pair_id: str, size: tuple[int, int]) -> np.ndarray | None:
        """Union of the pair's difference masks (True = changed), or None without usable masks."""
        paths = self.pair_masks.get(pair_id)
        if not paths:
            return None
        if pair_id not in self._masks:
            if len(self._masks) > 64:
                self._masks.clear()
            union = np.zeros(size[::-1], dtype=bool)
            try:
                for rel in paths:
                    with Image.open(resolve_dataset_path(self.root, rel)) as mask:
                        union |= np.asarray(mask.convert("L")) > 127
            except (HarnessError, OSError, ValueError):
                union = None  # a bad mask costs the pixel metrics of this pair, not the sample
            self._masks[pair_id] = union
        return self._masks[pair_id]


def _as_is(batch: LoadedBatch) -> LoadedBatch:
    return batch


_PR_SET_PDEATHSIG = 1  # prctl option, linux/prctl.h


def _die_with_parent(parent_pid: int) -> None:
    """Worker init: SIGKILL this worker when the process that forked it exits (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:  # the parent died before the request above took effect
        os._exit(1)


class _WorkerInit:
    """Picklable worker_init_fn that remembers the main process's pid."""

    def __init__(self) -> None:
        self.parent_pid = os.getpid()

    def __call__(self, worker_id: int) -> None:
        _die_with_parent(self.parent_pid)


def iterate_pairs(
    root: Path, batches: list[list[Sample]], workers: int = 0, pair_masks: dict[str, list[str]] | None = None
) -> Iterator[LoadedBatch]:
    """Decoded batches in order; with `workers` > 0 they are decoded in parallel and prefetched."""
    dataset = PairBatches(root, batches, pair_masks)
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
        worker_init_fn=_WorkerInit(),
    )
    yield from loader
