"""The edits that turn scene A into scene B: appearance (colour/texture/size), replace, remove, add.

Each difference is exactly one edit of one object, and edited objects keep clear of each other so
every difference has its own box and change mask.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.data.schema import EDIT_TYPES
from harness.data.synth.palette import COLOURS, SIZES, TEXTURES
from harness.data.synth.scene import (
    MAX_PATCH_OVERLAP,
    Box,
    SceneObject,
    boxes_touch,
    place,
    placement_ok,
    random_object,
    side_for,
)
from harness.data.synth.shapes import SHAPES

APPEARANCE_SUBTYPES: tuple[str, ...] = ("colour", "texture", "size")
# Edited objects stay this many pixels apart so their change masks never mix.
EDIT_SEPARATION = 4


@dataclass(frozen=True)
class PlannedEdit:
    """One difference: the object before (None for add) and after (None for remove)."""

    edit_type: str
    subtype: str | None
    before: SceneObject | None
    after: SceneObject | None

    @property
    def uid(self) -> int:
        obj = self.before if self.before is not None else self.after
        assert obj is not None
        return obj.uid

    @property
    def region(self) -> Box:
        patches = [o.patch for o in (self.before, self.after) if o is not None]
        return (
            min(p[0] for p in patches),
            min(p[1] for p in patches),
            max(p[2] for p in patches),
            max(p[3] for p in patches),
        )


def _pick_other(rng: np.random.Generator, options: tuple[str, ...], current: str) -> str:
    choices = [o for o in options if o != current]
    return choices[int(rng.integers(len(choices)))]


def _edit_object(
    rng: np.random.Generator, edit_type: str, target: SceneObject, width: int, height: int
) -> tuple[str | None, SceneObject | None]:
    """The subtype and the object after the edit (None after a removal)."""
    if edit_type == "remove":
        return None, None
    if edit_type == "replace":
        colour = _pick_other(rng, tuple(COLOURS), target.colour) if rng.random() < 0.5 else target.colour
        texture = _pick_other(rng, TEXTURES, target.texture) if rng.random() < 0.5 else target.texture
        shape = _pick_other(rng, SHAPES, target.shape)
        return None, target.with_changes(shape=shape, colour=colour, texture=texture)
    subtype = APPEARANCE_SUBTYPES[int(rng.integers(len(APPEARANCE_SUBTYPES)))]
    if subtype == "colour":
        return subtype, target.with_changes(colour=_pick_other(rng, tuple(COLOURS), target.colour))
    if subtype == "texture":
        return subtype, target.with_changes(texture=_pick_other(rng, TEXTURES, target.texture))
    size = _pick_other(rng, SIZES, target.size)
    return subtype, target.with_changes(size=size, side=side_for(size, rng, width, height))


def plan_edits(
    rng: np.random.Generator,
    objects_a: list[SceneObject],
    width: int,
    height: int,
    n_edits: int,
    object_range: tuple[int, int] = (3, 8),
) -> tuple[list[SceneObject], list[PlannedEdit]]:
    """Scene B's objects (A's z-order, additions on top) and the edits, at most `n_edits`.

    Removals and additions keep B's object count within `object_range`, like A's.
    """
    objects_b: dict[int, SceneObject] = {o.uid: o for o in objects_a}
    edits: list[PlannedEdit] = []
    next_uid = max((o.uid for o in objects_a), default=-1) + 1
    for _ in range(n_edits * 6):
        if len(edits) == n_edits:
            break
        edit_type = EDIT_TYPES[int(rng.integers(len(EDIT_TYPES)))]
        regions = [e.region for e in edits]
        if edit_type == "remove" and len(objects_b) <= object_range[0]:
            continue
        if edit_type == "add":
            if len(objects_b) >= object_range[1]:
                continue
            new = random_object(rng, next_uid, width, height)
            occupied = [o.patch for o in objects_a] + [o.patch for o in objects_b.values()] + regions
            placed = place(rng, new, occupied, width, height, max_overlap=0.0)
            if placed is None:
                continue
            next_uid += 1
            objects_b[placed.uid] = placed
            edits.append(PlannedEdit("add", None, None, placed))
            continue
        edited_uids = {e.uid for e in edits}
        candidates = [
            o
            for o in objects_a
            if o.uid not in edited_uids and not any(boxes_touch(o.patch, r, EDIT_SEPARATION) for r in regions)
        ]
        if not candidates:
            continue
        target = candidates[int(rng.integers(len(candidates)))]
        subtype, after = _edit_object(rng, edit_type, target, width, height)
        if after is not None and after.patch != target.patch:
            others = [o.patch for o in objects_b.values() if o.uid != target.uid]
            if not placement_ok(after.patch, others, width, height, max_overlap=MAX_PATCH_OVERLAP) or any(
                boxes_touch(after.patch, r, EDIT_SEPARATION) for r in regions
            ):
                continue
        if after is None:
            del objects_b[target.uid]
        else:
            objects_b[target.uid] = after
        edits.append(PlannedEdit(edit_type, subtype, target, after))
    return list(objects_b.values()), edits
