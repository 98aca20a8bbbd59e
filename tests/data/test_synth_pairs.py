"""DiffGround-Synth pairs: edit types, boxes tight around footprints, masks inside boxes, removals."""

from __future__ import annotations

from collections import Counter

import numpy as np
from PIL import Image

from harness.data.manifest import read_manifest
from harness.data.schema import EDIT_TYPES
from harness.data.synth.backgrounds import render_background
from harness.data.synth.config import SynthConfig
from harness.data.synth.generator import pair_rng
from harness.data.synth.pair import build_pair, tight_box
from harness.data.synth.palette import COLOURS, SIZES, TEXTURES
from harness.data.synth.scene import render_scene
from harness.data.synth.shapes import SHAPES


def _load(root, rel) -> np.ndarray:
    return np.asarray(Image.open(root / rel))


def test_vocabulary_is_rich_enough():
    assert len(SHAPES) >= 8 and len(COLOURS) >= 8 and len(TEXTURES) >= 3 and len(SIZES) == 3


def test_every_edit_type_and_subtype_appears(synth_medium):
    root, _ = synth_medium
    samples = read_manifest(root).samples
    assert set(Counter(s.edit_type for s in samples)) == set(EDIT_TYPES)
    subtypes = {s.attributes["edit_subtype"] for s in samples if s.edit_type == "appearance"}
    assert subtypes == {"colour", "texture", "size"}
    for s in samples:
        before, after = s.attributes["target_before"], s.attributes["target_after"]
        if s.edit_type == "replace":
            assert before["shape"] != after["shape"]
        if s.edit_type == "appearance":
            changed = {k for k in before if before[k] != after[k]}
            assert changed == {s.attributes["edit_subtype"]}


def test_pairs_have_two_to_four_differences_and_three_to_eight_objects():
    config = SynthConfig(min_size=256, max_size=320)
    for index in range(25):
        pair = build_pair(pair_rng(11, "train", index), config)
        assert 2 <= len(pair.differences) <= 4
        assert 3 <= len(pair.objects_a) <= 8 and 3 <= len(pair.objects_b) <= 8
        assert 256 <= pair.width <= 320 and 256 <= pair.height <= 320


def test_masks_are_non_empty_inside_in_bounds_tight_boxes(synth_medium):
    root, _ = synth_medium
    for s in read_manifest(root).samples[:150]:
        mask = _load(root, s.mask_b)
        assert mask.shape == (s.height, s.width) and set(np.unique(mask)) <= {0, 255}
        x1, y1, x2, y2 = s.box
        assert 0 <= x1 < x2 <= s.width and 0 <= y1 < y2 <= s.height
        ys, xs = np.nonzero(mask)
        assert xs.size > 0
        assert xs.min() >= x1 and xs.max() + 1 <= x2 and ys.min() >= y1 and ys.max() + 1 <= y2


def test_box_is_the_tight_union_of_footprints():
    """Box = bounding box of the object's visible footprint in A union B (see pair.py)."""
    config = SynthConfig(min_size=256, max_size=320)
    for index in range(10):
        pair = build_pair(pair_rng(5, "val", index), config)
        backdrop = render_background(pair.background, pair.width, pair.height)
        scene_a, scene_b = render_scene(backdrop, pair.objects_a), render_scene(backdrop, pair.objects_b)
        assert np.array_equal(pair.image_a, scene_a.image)
        assert np.array_equal(pair.image_b, scene_b.image)  # B is re-composited only where edited
        for difference in pair.differences:
            label = difference.edit.uid + 1
            footprint = (scene_a.id_map == label) | (scene_b.id_map == label)
            assert difference.box == tight_box(footprint)
            assert not np.any(difference.mask & ~footprint)


def test_removed_object_is_in_a_but_not_in_b(synth_medium):
    root, _ = synth_medium
    removals = [s for s in read_manifest(root).samples if s.edit_type == "remove"][:20]
    assert removals
    for s in removals:
        a, b = _load(root, s.image_a), _load(root, s.image_b)
        mask = _load(root, s.mask_b) > 0
        assert np.all(np.any(a[mask] != b[mask], axis=1))
        colour = np.array(COLOURS[s.attributes["target_before"]["colour"]])
        # The object's own colour covers part of the region in A and (almost) none of it in B.
        near_a = np.mean(np.abs(a[mask].astype(int) - colour).sum(axis=1) < 12)
        near_b = np.mean(np.abs(b[mask].astype(int) - colour).sum(axis=1) < 12)
        assert near_a > near_b


def test_additions_are_not_in_a(synth_medium):
    root, _ = synth_medium
    for s in [s for s in read_manifest(root).samples if s.edit_type == "add"][:10]:
        a, b = _load(root, s.image_a), _load(root, s.image_b)
        mask = _load(root, s.mask_b) > 0
        assert mask.sum() > 0 and np.all(np.any(a[mask] != b[mask], axis=1))
