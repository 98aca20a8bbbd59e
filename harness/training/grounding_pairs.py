"""Image pairs with their queries and every difference box, for training grounding models that
see all of a pair's differences at once (DiffTracker): one backbone pass serves all its queries."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from difftracker.change_heads import difference_labels
from harness.data.images import load_pair, resolve_dataset_path
from harness.data.manifest import read_manifest
from harness.data.schema import UNKNOWN_EDIT_TYPE
from harness.errors import HarnessError


class GroundingDataError(HarnessError):
    """A training sample's recorded fields cannot be used (the message names the sample and field)."""


@dataclass(frozen=True)
class GroundingQuery:
    sample_id: str
    query: str
    referred: int
    """Index into the pair's `boxes` of the difference this query means."""
    edit_type: str
    paraphrases: tuple[str, ...] = ()
    """Other wordings of the same meaning, where the manifest records them (DiffGround-Synth's
    `paraphrases` attribute, train split, `--train-paraphrases`)."""


@dataclass(frozen=True)
class GroundingPair:
    pair_id: str
    image_a: str
    image_b: str
    boxes: tuple[tuple[float, float, float, float], ...]
    """Every difference of the pair named by some query: xyxy normalised to B's width and height."""
    queries: tuple[GroundingQuery, ...]
    labels: tuple[dict[str, str], ...] = ()
    """Per box: what changed there (edit type, attributes before and after; see
    difftracker/change_heads.py), as far as the manifest records it."""


def grounding_pairs(root: Path, split: str) -> list[GroundingPair]:
    """The pairs of `split` in manifest order; identical boxes of two queries are one difference."""
    grouped: dict[str, dict] = {}
    for sample in read_manifest(root).samples:
        if sample.split != split:
            continue
        entry = grouped.setdefault(
            sample.pair_id, {"a": sample.image_a, "b": sample.image_b, "boxes": [], "labels": [], "queries": []}
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
            entry["labels"].append(_labels(sample))
        entry["queries"].append(
            GroundingQuery(sample.id, sample.query, entry["boxes"].index(box), sample.edit_type, _paraphrases(sample))
        )
    return [
        GroundingPair(pair_id, e["a"], e["b"], tuple(e["boxes"]), tuple(e["queries"]), tuple(e["labels"]))
        for pair_id, e in grouped.items()
    ]


def _paraphrases(sample) -> tuple[str, ...]:
    """The sample's recorded paraphrases: a list of non-empty strings, or none."""
    recorded = (sample.attributes or {}).get("paraphrases", [])
    if not isinstance(recorded, list) or not all(isinstance(t, str) and t.strip() for t in recorded):
        raise GroundingDataError(
            f"sample {sample.id}: attributes.paraphrases must be a list of non-empty strings, got {recorded!r}"
        )
    return tuple(recorded)


def _labels(sample) -> dict[str, str]:
    """What changed at the sample's box: its edit type (unless unknown) and, where the manifest
    records them (DiffGround-Synth's target_before / target_after), the attributes on each side."""
    attributes = sample.attributes or {}
    if "target_before" in attributes or "target_after" in attributes:
        return difference_labels(sample.edit_type, attributes.get("target_before"), attributes.get("target_after"))
    return {} if sample.edit_type == UNKNOWN_EDIT_TYPE else {"edit_type": sample.edit_type}


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
