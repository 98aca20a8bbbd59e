"""Per-pair reuse: a pair's queries share one computation; a pair with other pixels (a control's
swapped or blanked image, another size) is computed anew; the cache stays bounded; and a
query-blind adapter answers exactly as if nothing were reused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from idg_adapters.base import PairInput
from idg_adapters.pixel_diff import PixelDiffAdapter
from idg_adapters.recent_pairs import RecentPairs, pair_digest

RED = ((10, 8, 26, 24), (210, 40, 40))
BLUE = ((40, 20, 56, 40), (40, 60, 220))


def pair_of(a: Image.Image, b: Image.Image, query: str = "q") -> PairInput:
    return PairInput(id=query, image_a=a, image_b=b, query=query)


def test_a_pairs_queries_share_one_computation(pair_factory) -> None:
    base = pair_factory("p", (64, 48), [RED], [])
    recent: RecentPairs[str] = RecentPairs()
    calls = []
    for query in ("left", "right", "the red one"):
        assert recent.get(pair_of(base.image_a, base.image_b, query), lambda p: calls.append(p.query) or "map") == "map"
    assert calls == ["left"] and recent.computed == 1


def test_other_pixels_are_another_pair(pair_factory) -> None:
    base = pair_factory("p", (64, 48), [RED], [])
    recent: RecentPairs[str] = RecentPairs()
    swapped = pair_of(base.image_b, base.image_a)
    blinded = pair_of(base.image_b, base.image_b)
    for pair in (pair_of(base.image_a, base.image_b), swapped, blinded):
        recent.get(pair, lambda p: "x")
    assert recent.computed == 3
    grey = Image.new("RGB", (4, 2), (128, 128, 128))
    assert pair_digest(grey, grey.resize((2, 4))) != pair_digest(grey, grey)  # same bytes, other size
    assert pair_digest(grey, grey.convert("L").convert("RGB")) == pair_digest(grey, grey)


def test_the_cache_is_bounded(pair_factory) -> None:
    recent: RecentPairs[int] = RecentPairs(capacity=2)
    pairs = [pair_factory(f"p{i}", (32 + i, 24), [], []) for i in range(3)]
    for pair in pairs + [pairs[0]]:
        recent.get(pair, lambda p: p.size[0])
    assert len(recent) == 2 and recent.computed == 4  # pairs[0] was evicted by pairs[2]
    with pytest.raises(ValueError, match="capacity"):
        RecentPairs(capacity=0)


def test_pixel_diff_answers_a_pairs_queries_as_if_computed_alone(pair_factory) -> None:
    first = pair_factory("p", (64, 48), [RED, BLUE], [])
    second = pair_factory("q", (64, 48), [BLUE], [])
    queries = [(first, "left"), (first, "right"), (second, "x"), (first, "again")]
    shared = PixelDiffAdapter()
    for pair, query in queries:
        item = pair_of(pair.image_a, pair.image_b, query)
        (reused,) = shared.predict([item])
        (alone,) = PixelDiffAdapter().predict([item])
        np.testing.assert_array_equal(reused.boxes, alone.boxes)
        np.testing.assert_array_equal(reused.scores, alone.scores)
        np.testing.assert_array_equal(reused.mask, alone.mask)
        reused.mask[:] = True  # a caller writing into its answer must not change the next one's
    assert shared._recent.computed == 2
