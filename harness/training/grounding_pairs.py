"""Image pairs with their queries and every difference box, for training grounding models that
see all of a pair's differences at once (DiffTracker): one backbone pass serves all its queries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from harness.data.images import load_pair, resolve_dataset_path
from harness.data.manifest import read_manifest


@dataclass(frozen=True)
class GroundingQuery:
    sample_id: str
    query: str
    referred: int
    """Index into the pair's `boxes` of the difference this query means."""
    edit_type: str


@dataclass(frozen=True)
class GroundingPair:
    pair_id: str
    image_a: str
    image_b: str
    boxes: tuple[tuple[float, float, float, float], ...]
    """Every difference of the pair named by some query: xyxy normalised to B's width and height."""
    queries: tuple[GroundingQuery, ...]


def grounding_pairs(root: Path, split: str) -> list[GroundingPair]:
    """The pairs of `split` in manifest order; identical boxes of two queries are one difference."""
    grouped: dict[str, dict] = {}
    for sample in read_manifest(root).samples:
        if sample.split != split:
            continue
        entry = grouped.setdefault(
            sample.pair_id, {"a": sample.image_a, "b": sample.image_b, "boxes": [], "queries": []}
        )
        if "size" not in entry:
            entry["size"] = (sample.width, sample.height)
            if not sample.width or not sample.height:
                with Image.open(resolve_dataset_path(root, sample.image_b)) as image:
                    entry["size"] = image.size
        width, height = entry["size"]
        x0, y0, x1, y1 = sample.box
        box = (x0 / width, y0 / height, x1 / width, y1 / height)
        if box not in entry["boxes"]:
            entry["boxes"].append(box)
        entry["queries"].append(GroundingQuery(sample.id, sample.query, entry["boxes"].index(box), sample.edit_type))
    return [
        GroundingPair(pair_id, e["a"], e["b"], tuple(e["boxes"]), tuple(e["queries"])) for pair_id, e in grouped.items()
    ]


def load_pair_images(root: Path, pairs: list[GroundingPair], size: int, threads: int = 2) -> np.ndarray:
    """uint8 (N, 2, 3, size, size): each pair's A (on B's grid) and B, resized as the adapter resizes them."""
    from difftracker.inference import resize_pair

    images = np.zeros((len(pairs), 2, 3, size, size), dtype=np.uint8)

    def fill(index: int) -> None:
        image_a, image_b = load_pair(root, pairs[index].image_a, pairs[index].image_b)
        images[index] = resize_pair(image_a, image_b, size)

    with ThreadPoolExecutor(max(threads, 1)) as pool:
        list(pool.map(fill, range(len(pairs))))
    return images
