"""One DiffGround-Synth pair: scene A, its edited copy B, per-difference boxes and masks, and queries.

Box rule: a difference's box is the tight bounding box, in B's pixels, of the union of the edited
object's visible footprint in A and in B (footprint = alpha >= 0.5 and not covered by a later
object). So for `remove` it is where the object was, for `add` where it is now, for `appearance` and
`replace` it covers both states. Boxes are [x1, y1, x2, y2] with x2/y2 one past the last pixel.
The change mask holds the pixels of that union where A and B actually differ (255 = changed), so it
always lies inside the box. In robust mode both go through B's misregistration warp.
"""

# This docstring is the box rule that dataset.json records, so it stays as version 1 wrote it.
# Version 2 draws the scene exactly as version 1 (same random stream, so the same pixels for the
# same seed, split and index), words its queries with query_choice.py, and applies camera nuisance
# (nuisance.py, boxes and masks warped alike) from a separate stream when asked.

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from harness.data.synth.backgrounds import BackgroundSpec, draw_background_spec, render_background
from harness.data.synth.config import SynthConfig
from harness.data.synth.descriptors import DifferenceDescriptor, Landmark, ObjectAttrs, SceneContext, unique_order
from harness.data.synth.edits import PlannedEdit, plan_edits
from harness.data.synth.nuisance import NuisanceParams, draw_nuisance, render_nuisance
from harness.data.synth.query_check import QueryChoice, choose_query
from harness.data.synth.query_choice import choose_worded_query
from harness.data.synth.robust import RobustParams, draw_robust_params, perturb_image, warp_mask
from harness.data.synth.scene import RenderedScene, SceneObject, layout_scene, render_edited, render_scene

# A difference must change at least this many pixels, or the pair is drawn again.
MIN_MASK_PIXELS = 24
PAIR_ATTEMPTS = 50
# Nuisance draws tried on one scene before the scene is drawn again (a warp can push a small
# change mask under MIN_MASK_PIXELS).
NUISANCE_ATTEMPTS = 5


class PairGenerationError(RuntimeError):
    """No valid pair could be drawn (the configuration leaves too little room)."""


@dataclass
class SynthDifference:
    edit: PlannedEdit
    box: tuple[float, float, float, float]
    mask: np.ndarray  # bool (H, W) in B's (final) frame
    query: QueryChoice | None = None
    footprint: np.ndarray | None = None  # bool (H, W): the union the box is drawn around


@dataclass
class SynthPair:
    width: int
    height: int
    background: BackgroundSpec
    objects_a: list[SceneObject]
    objects_b: list[SceneObject]
    image_a: np.ndarray  # uint8 (H, W, 3)
    image_b: np.ndarray  # uint8 (H, W, 3); perturbed in robust mode
    differences: list[SynthDifference] = field(default_factory=list)
    robust: RobustParams | NuisanceParams | None = None


def tight_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return (float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1))


def _difference_masks(
    edit: PlannedEdit, scene_a: RenderedScene, scene_b: RenderedScene
) -> tuple[np.ndarray, np.ndarray]:
    """Union footprint and change mask of one edit, full-frame booleans (work done in its region)."""
    x0, y0, x1, y1 = edit.region
    window = (slice(y0, y1), slice(x0, x1))
    label = edit.uid + 1
    union = np.zeros(scene_a.id_map.shape, dtype=bool)
    union[window] = (scene_a.id_map[window] == label) | (scene_b.id_map[window] == label)
    mask = np.zeros_like(union)
    mask[window] = union[window] & np.any(scene_a.image[window] != scene_b.image[window], axis=2)
    return union, mask


def _draw_scenes(rng: np.random.Generator, config: SynthConfig) -> SynthPair | None:
    width = int(rng.integers(config.min_size, config.max_size + 1))
    height = int(rng.integers(config.min_size, config.max_size + 1))
    background = draw_background_spec(rng, width, height)
    n_objects = int(rng.integers(config.min_objects, config.max_objects + 1))
    objects_a = layout_scene(rng, width, height, n_objects)
    if len(objects_a) < config.min_objects:
        return None
    n_edits = int(rng.integers(config.min_differences, config.max_differences + 1))
    objects_b, edits = plan_edits(
        rng, objects_a, width, height, n_edits, object_range=(config.min_objects, config.max_objects)
    )
    if len(edits) < config.min_differences:
        return None
    backdrop = render_background(background, width, height)
    scene_a = render_scene(backdrop, objects_a)
    scene_b = render_edited(scene_a, backdrop, objects_b, [edit.region for edit in edits])
    robust = draw_robust_params(rng) if config.robust and config.version == 1 else None
    image_b = perturb_image(scene_b.image, robust) if robust else scene_b.image
    differences = []
    for edit in edits:
        union, mask = _difference_masks(edit, scene_a, scene_b)
        if robust is not None:
            union, mask = warp_mask(union, robust), warp_mask(mask, robust)
        box = tight_box(union)
        if box is None or int(mask.sum()) < MIN_MASK_PIXELS:
            return None
        differences.append(SynthDifference(edit, box, mask, footprint=union))
    return SynthPair(width, height, background, objects_a, objects_b, scene_a.image, image_b, differences, robust)


def _attrs(obj: SceneObject | None) -> ObjectAttrs | None:
    return None if obj is None else ObjectAttrs(obj.shape, obj.colour, obj.texture, obj.size)


def scene_context(pair: SynthPair, allow_category_names: bool) -> SceneContext:
    descriptors = tuple(
        DifferenceDescriptor(k, d.edit.edit_type, d.edit.subtype, _attrs(d.edit.before), _attrs(d.edit.after), d.box)
        for k, d in enumerate(pair.differences)
    )
    edited = {d.edit.uid for d in pair.differences}
    unchanged = [o for o in pair.objects_a if o.uid not in edited]
    # Every object state a reader could see in A or B competes for a landmark's phrase.
    states = [_attrs(o) for o in pair.objects_a] + [_attrs(d.edit.after) for d in pair.differences if d.edit.after]
    landmarks = []
    for obj in unchanged:
        attrs = _attrs(obj)
        order = unique_order(attrs, states)
        if order is not None:
            phrase = " ".join(attrs.word(a) for a in order)
            landmarks.append(Landmark(attrs, tuple(float(v) for v in obj.patch), phrase, order))
    return SceneContext(pair.width, pair.height, descriptors, tuple(landmarks), allow_category_names)


def _with_nuisance(pair: SynthPair, rng: np.random.Generator) -> SynthPair | None:
    """`pair` with B re-rendered under camera nuisance, its boxes and masks warped alike, or None
    when no draw keeps every change mask at MIN_MASK_PIXELS or more."""
    for _ in range(NUISANCE_ATTEMPTS):
        params = draw_nuisance(rng)
        differences = []
        for difference in pair.differences:
            union = warp_mask(difference.footprint, params)
            mask = warp_mask(difference.mask, params)
            box = tight_box(union)
            if box is None or int(mask.sum()) < MIN_MASK_PIXELS:
                break
            differences.append(SynthDifference(difference.edit, box, mask, footprint=union))
        else:
            image_b = render_nuisance(pair.image_b, params, rng)
            return SynthPair(pair.width, pair.height, pair.background, pair.objects_a, pair.objects_b,
                             pair.image_a, image_b, differences, params)  # fmt: skip
    return None


def build_pair(
    rng: np.random.Generator,
    config: SynthConfig,
    nuisance_rng: np.random.Generator | None = None,
    phrasing: str = "seen",
    paraphrase_rng: np.random.Generator | None = None,
) -> SynthPair:
    """Draw scenes until one is valid, then choose (and check) one query per difference.

    Version 2 only: with `nuisance_rng`, B is re-rendered under camera nuisance (drawn from it);
    `phrasing` is "seen" or "novel" (test-novel's held-out frames and words); with
    `paraphrase_rng`, each query carries `config.train_paraphrases` other wordings drawn from it.
    """
    for _ in range(PAIR_ATTEMPTS):
        pair = _draw_scenes(rng, config)
        if pair is not None and nuisance_rng is not None:
            pair = _with_nuisance(pair, nuisance_rng)
        if pair is not None:
            break
    else:
        raise PairGenerationError(
            f"no valid pair in {PAIR_ATTEMPTS} attempts; raise min_size or lower max_objects ({config})"
        )
    ctx = scene_context(pair, config.allow_category_names)
    for descriptor, difference in zip(ctx.differences, pair.differences, strict=True):
        if config.version == 1:
            difference.query = choose_query(descriptor, ctx, rng)
        else:
            count = config.train_paraphrases if paraphrase_rng is not None else 0
            difference.query = choose_worded_query(
                descriptor, ctx, rng, phrasing, paraphrase_rng=paraphrase_rng, paraphrases=count
            )
    return pair
