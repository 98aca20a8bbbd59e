"""What an adapter computes once per image pair, kept for the pair's next queries.

A pair has 2-4 queries and a run visits them one after another (`DistContext.shard` keeps a
pair's queries on one rank), so a few recent pairs are enough. Adapters whose work on a pair does
not depend on the query (a query-blind model's whole answer, a grounding model's image encoding)
compute it on the pair's first query and reuse it for the others.

Pairs are keyed by a digest of both images' pixels and sizes, never by file names: a control that
swaps or blanks an image is another pair.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from PIL import Image

from idg_adapters.base import PairInput

T = TypeVar("T")

RECENT_PAIRS = 8


def pair_digest(image_a: Image.Image, image_b: Image.Image) -> str:
    """SHA-1 of both images' sizes, modes and pixels, A then B."""
    digest = hashlib.sha1()
    for image in (image_a, image_b):
        digest.update(f"{image.size}{image.mode}".encode())
        digest.update(image.tobytes())
    return digest.hexdigest()


class RecentPairs(Generic[T]):
    """An LRU of per-pair results: `get(pair, compute)` returns `compute(pair)`, computed once
    while the pair is among the `capacity` most recently asked."""

    def __init__(self, capacity: int = RECENT_PAIRS) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._results: OrderedDict[str, T] = OrderedDict()
        self.computed = 0

    def __len__(self) -> int:
        return len(self._results)

    def get(self, pair: PairInput, compute: Callable[[PairInput], T]) -> T:
        key = pair_digest(pair.image_a, pair.image_b)
        if key in self._results:
            self._results.move_to_end(key)
            return self._results[key]
        result = compute(pair)
        self.computed += 1
        self._results[key] = result
        if len(self._results) > self.capacity:
            self._results.popitem(last=False)
        return result
