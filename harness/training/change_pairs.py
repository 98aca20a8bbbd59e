"""Image pairs with their change masks for training change detectors: the union of a pair's
per-difference masks (`mask_b`, 255 = changed) is the pair's change target."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from harness.data.images import load_image, load_pair, resolve_dataset_path
from harness.data.manifest import read_manifest
from harness.errors import HarnessError


class MissingChangeMasks(HarnessError):
    """A split has pairs without change masks, so a change detector cannot be trained or scored on it."""


@dataclass(frozen=True)
class ChangePair:
    pair_id: str
    image_a: str
    image_b: str
    masks: tuple[str, ...]


def change_pairs(root: Path, split: str) -> list[ChangePair]:
    """The pairs of `split` in manifest order, each with the masks of all its differences."""
    grouped: dict[str, tuple[str, str, list[str]]] = {}
    for sample in read_manifest(root).samples:
        if sample.split != split:
            continue
        entry = grouped.setdefault(sample.pair_id, (sample.image_a, sample.image_b, []))
        if sample.mask_b and sample.mask_b not in entry[2]:
            entry[2].append(sample.mask_b)
    unmasked = [pair_id for pair_id, (_, _, masks) in grouped.items() if not masks]
    if unmasked:
        raise MissingChangeMasks(
            f"{len(unmasked)} {split} pair(s) of {root} have no change mask (mask_b), e.g. {unmasked[:3]}: "
            "change detectors need masks; use DiffGround-Synth or a dataset with mask_b"
        )
    return [ChangePair(pair_id, a, b, tuple(masks)) for pair_id, (a, b, masks) in grouped.items()]


def union_mask(root: Path, pair: ChangePair, size: tuple[int, int]) -> np.ndarray:
    """bool (H, W) change mask of the pair at B's `size` (W, H)."""
    out = np.zeros((size[1], size[0]), dtype=bool)
    for rel in pair.masks:
        mask = Image.open(resolve_dataset_path(root, rel)).convert("L")
        if mask.size != size:
            mask = mask.resize(size, Image.Resampling.NEAREST)
        out |= np.asarray(mask) > 127
    return out


def load_native(root: Path, pair: ChangePair) -> tuple[Image.Image, Image.Image, np.ndarray]:
    """A, B (A on B's grid) and the union mask, at B's resolution."""
    a, b = load_pair(root, pair.image_a, pair.image_b)
    return a, b, union_mask(root, pair, b.size)


def load_resized(root: Path, pair: ChangePair, size: int) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (2, 3, size, size) images A and B and uint8 (size, size) mask (nearest-resized)."""
    a = load_image(resolve_dataset_path(root, pair.image_a))
    b = load_image(resolve_dataset_path(root, pair.image_b))
    images = [np.asarray(im.resize((size, size), Image.Resampling.BILINEAR)).transpose(2, 0, 1) for im in (a, b)]
    mask = union_mask(root, pair, b.size)
    mask = np.asarray(Image.fromarray(mask).resize((size, size), Image.Resampling.NEAREST))
    return np.stack(images), mask.astype(np.uint8)


def load_resized_split(
    root: Path, pairs: list[ChangePair], size: int, threads: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """All pairs resized: uint8 (N, 2, 3, size, size) images and (N, size, size) masks.

    Decoding PNGs releases the GIL, so threads overlap it.
    """
    images = np.zeros((len(pairs), 2, 3, size, size), dtype=np.uint8)
    masks = np.zeros((len(pairs), size, size), dtype=np.uint8)

    def fill(index: int) -> None:
        images[index], masks[index] = load_resized(root, pairs[index], size)

    with ThreadPoolExecutor(max(threads, 1)) as pool:
        list(pool.map(fill, range(len(pairs))))
    return images, masks
