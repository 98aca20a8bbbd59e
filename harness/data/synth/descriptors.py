"""What query templates see: one descriptor per difference, unchanged landmarks, and the scene size.

Descriptors are plain data so the query checker can be unit-tested with hand-made scenes.
"""

from __future__ import annotations

from dataclasses import dataclass

TEXTURE_WORDS: dict[str, str] = {"flat": "plain", "striped": "striped", "dotted": "dotted", "checkered": "checkered"}

# Landmark phrases, shortest first; the first one that is unique in the scene is used.
LANDMARK_ATTRIBUTE_ORDERS: tuple[tuple[str, ...], ...] = (
    ("colour", "shape"),
    ("size", "colour", "shape"),
    ("texture", "colour", "shape"),
    ("size", "texture", "colour", "shape"),
)


@dataclass(frozen=True)
class ObjectAttrs:
    shape: str
    colour: str
    texture: str
    size: str

    def word(self, attribute: str) -> str:
        value = getattr(self, attribute)
        return TEXTURE_WORDS[value] if attribute == "texture" else value


@dataclass(frozen=True)
class DifferenceDescriptor:
    """One difference of a pair as the templates see it; `box` is xyxy in B's pixels."""

    key: int
    edit_type: str
    subtype: str | None
    before: ObjectAttrs | None
    after: ObjectAttrs | None
    box: tuple[float, float, float, float]

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2

    @property
    def area(self) -> float:
        return (self.box[2] - self.box[0]) * (self.box[3] - self.box[1])

    @property
    def category_names(self) -> set[str]:
        return {o.shape for o in (self.before, self.after) if o is not None}


@dataclass(frozen=True)
class Landmark:
    """An unchanged object with a phrase that picks it out uniquely among all objects of A and B."""

    attrs: ObjectAttrs
    box: tuple[float, float, float, float]
    phrase: str
    order: tuple[str, ...] = ()  # the attributes `phrase` names, in order (see unique_order)

    @property
    def cx(self) -> float:
        return (self.box[0] + self.box[2]) / 2

    @property
    def cy(self) -> float:
        return (self.box[1] + self.box[3]) / 2


@dataclass(frozen=True)
class SceneContext:
    width: int
    height: int
    differences: tuple[DifferenceDescriptor, ...]
    landmarks: tuple[Landmark, ...]
    allow_category_names: bool = False

    @property
    def margin(self) -> float:
        """Minimum gap (px) for spatial relations and rankings, so near-ties are never asked."""
        return max(10.0, 0.05 * min(self.width, self.height))

    def others(self, target: DifferenceDescriptor) -> list[DifferenceDescriptor]:
        return [d for d in self.differences if d.key != target.key]


def unique_order(attrs: ObjectAttrs, all_objects: list[ObjectAttrs]) -> tuple[str, ...] | None:
    """Shortest attribute list (e.g. size, texture, colour, shape) no other object in the scene shares."""
    for order in LANDMARK_ATTRIBUTE_ORDERS:
        key = tuple(getattr(attrs, a) for a in order)
        matches = sum(1 for o in all_objects if tuple(getattr(o, a) for a in order) == key)
        if matches == 1:
            return order
    return None


def unique_phrase(attrs: ObjectAttrs, all_objects: list[ObjectAttrs]) -> str | None:
    """Shortest phrase (e.g. "large striped red disc") that no other object in the scene shares."""
    order = unique_order(attrs, all_objects)
    return None if order is None else " ".join(attrs.word(a) for a in order)
