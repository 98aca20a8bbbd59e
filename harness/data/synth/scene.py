"""Scene objects, their non-crowding layout, and compositing a scene into an image plus an id map.

The id map records, per pixel, which object is visible there (its footprint: alpha >= 0.5 and not
covered by a later object); boxes and change masks are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from harness.data.synth.palette import COLOURS, SIZE_FRACTIONS, SIZES, TEXTURES
from harness.data.synth.shapes import FOOTPRINT_ALPHA, SHAPES, object_sprite

# Two objects' patches may share at most this share of the smaller patch, so both stay recognisable.
MAX_PATCH_OVERLAP = 0.12
# Objects keep this many pixels from the image border (room for robust-mode misregistration).
BORDER_MARGIN = 6
PLACEMENT_TRIES = 40

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class SceneObject:
    """One object: what it is and where its square patch sits (centre and side in pixels)."""

    uid: int
    shape: str
    colour: str
    texture: str
    size: str
    side: int
    cx: int
    cy: int

    @property
    def patch(self) -> Box:
        x0 = self.cx - self.side // 2
        y0 = self.cy - self.side // 2
        return (x0, y0, x0 + self.side, y0 + self.side)

    def attributes(self) -> dict[str, str]:
        return {"shape": self.shape, "colour": self.colour, "texture": self.texture, "size": self.size}

    def with_changes(self, **changes: object) -> SceneObject:
        return replace(self, **changes)  # type: ignore[arg-type]


@dataclass
class RenderedScene:
    """A composited scene: uint8 RGB image and int16 id map (0 = background, uid + 1 = object)."""

    image: np.ndarray
    id_map: np.ndarray


def side_for(size: str, rng: np.random.Generator, width: int, height: int) -> int:
    lo, hi = SIZE_FRACTIONS[size]
    return max(12, int(round(rng.uniform(lo, hi) * min(width, height))))


def box_overlap_share(a: Box, b: Box) -> float:
    """Intersection area over the smaller box's area (0 when disjoint)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return iw * ih / smaller


def boxes_touch(a: Box, b: Box, pad: int = 0) -> bool:
    return a[0] - pad < b[2] and b[0] - pad < a[2] and a[1] - pad < b[3] and b[1] - pad < a[3]


def fits_image(patch: Box, width: int, height: int) -> bool:
    x0, y0, x1, y1 = patch
    return x0 >= BORDER_MARGIN and y0 >= BORDER_MARGIN and x1 <= width - BORDER_MARGIN and y1 <= height - BORDER_MARGIN


def placement_ok(patch: Box, others: list[Box], width: int, height: int, max_overlap: float) -> bool:
    if not fits_image(patch, width, height):
        return False
    if max_overlap <= 0:
        return not any(boxes_touch(patch, other, pad=2) for other in others)
    return all(box_overlap_share(patch, other) <= max_overlap for other in others)


def random_object(rng: np.random.Generator, uid: int, width: int, height: int) -> SceneObject:
    """Random attributes; the position is set by `place`."""
    size = SIZES[int(rng.integers(len(SIZES)))]
    colours = tuple(COLOURS)
    return SceneObject(
        uid=uid,
        shape=SHAPES[int(rng.integers(len(SHAPES)))],
        colour=colours[int(rng.integers(len(colours)))],
        texture=TEXTURES[int(rng.integers(len(TEXTURES)))],
        size=size,
        side=side_for(size, rng, width, height),
        cx=0,
        cy=0,
    )


def place(
    rng: np.random.Generator,
    obj: SceneObject,
    others: list[Box],
    width: int,
    height: int,
    max_overlap: float = MAX_PATCH_OVERLAP,
) -> SceneObject | None:
    """`obj` moved to a random spot that respects the overlap limit, or None if none was found."""
    half = obj.side // 2
    lo_x, hi_x = BORDER_MARGIN + half, width - BORDER_MARGIN - (obj.side - half)
    lo_y, hi_y = BORDER_MARGIN + half, height - BORDER_MARGIN - (obj.side - half)
    if hi_x < lo_x or hi_y < lo_y:
        return None
    for _ in range(PLACEMENT_TRIES):
        candidate = obj.with_changes(cx=int(rng.integers(lo_x, hi_x + 1)), cy=int(rng.integers(lo_y, hi_y + 1)))
        if placement_ok(candidate.patch, others, width, height, max_overlap):
            return candidate
    return None


def layout_scene(rng: np.random.Generator, width: int, height: int, n_objects: int) -> list[SceneObject]:
    """Up to `n_objects` objects placed one by one; an object with no valid spot is skipped."""
    objects: list[SceneObject] = []
    for uid in range(n_objects):
        placed = place(rng, random_object(rng, uid, width, height), [o.patch for o in objects], width, height)
        if placed is not None:
            objects.append(placed)
    return objects


def render_scene(background: np.ndarray, objects: list[SceneObject]) -> RenderedScene:
    """Composite `objects` in order over a uint8 background (not modified); only patches are touched."""
    image = background.copy()
    height, width = image.shape[:2]
    id_map = np.zeros((height, width), dtype=np.int16)
    for obj in objects:
        premultiplied, alpha = object_sprite(obj.shape, obj.colour, obj.texture, obj.side)
        x0, y0, x1, y1 = obj.patch
        region = image[y0:y1, x0:x1]
        blended = region * (1.0 - alpha) + premultiplied
        region[...] = (blended + 0.5).astype(np.uint8)
        id_map[y0:y1, x0:x1][alpha[..., 0] >= FOOTPRINT_ALPHA] = obj.uid + 1
    return RenderedScene(image=image, id_map=id_map)


def render_edited(
    scene_a: RenderedScene, background: np.ndarray, objects_b: list[SceneObject], windows: list[Box]
) -> RenderedScene:
    """Scene B from scene A, compositing `objects_b` again only inside `windows` (the edited patches).

    Outside the windows A and B hold the same objects in the same order, so their pixels agree;
    inside, every object is composited over the background in B's order exactly as render_scene
    does (same per-pixel arithmetic), so the result equals render_scene(background, objects_b).
    """
    image = scene_a.image.copy()
    id_map = scene_a.id_map.copy()
    for x0, y0, x1, y1 in windows:
        image[y0:y1, x0:x1] = background[y0:y1, x0:x1]
        id_map[y0:y1, x0:x1] = 0
        for obj in objects_b:
            ox0, oy0, ox1, oy1 = obj.patch
            ix0, iy0, ix1, iy1 = max(x0, ox0), max(y0, oy0), min(x1, ox1), min(y1, oy1)
            if ix0 >= ix1 or iy0 >= iy1:
                continue
            premultiplied, alpha = object_sprite(obj.shape, obj.colour, obj.texture, obj.side)
            crop = (slice(iy0 - oy0, iy1 - oy0), slice(ix0 - ox0, ix1 - ox0))
            region = image[iy0:iy1, ix0:ix1]
            blended = region * (1.0 - alpha[crop]) + premultiplied[crop]
            region[...] = (blended + 0.5).astype(np.uint8)
            id_map[iy0:iy1, ix0:ix1][alpha[crop][..., 0] >= FOOTPRINT_ALPHA] = obj.uid + 1
    return RenderedScene(image=image, id_map=id_map)
