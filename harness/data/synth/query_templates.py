"""Query templates: each binds to a target difference and yields a text plus a predicate over differences.

A predicate `matches(d, strict)` is evaluated on every difference of the pair; the target must match
strictly (with margins on spatial relations and rankings) and no other difference may match even
loosely, which keeps near-ties out of the benchmark (see query_check.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from harness.data.synth.descriptors import TEXTURE_WORDS, DifferenceDescriptor, Landmark, SceneContext

Predicate = Callable[[DifferenceDescriptor, bool], bool]
FAMILIES: tuple[str, ...] = ("change", "edit", "position", "relation", "category")


@dataclass(frozen=True)
class QueryCandidate:
    template_id: str
    family: str
    text: str
    matches: Predicate


@dataclass(frozen=True)
class Template:
    id: str
    family: str
    build: Callable[[DifferenceDescriptor, SceneContext, np.random.Generator], QueryCandidate | None]


TEMPLATES: dict[str, Template] = {}


def template(template_id: str):
    """Register a builder under `template_id`; the family is the id's prefix."""

    def register(build):
        if template_id in TEMPLATES:
            raise ValueError(f"template {template_id!r} registered twice")
        family = template_id.split(".")[0]
        if family not in FAMILIES:
            raise ValueError(f"template {template_id!r}: unknown family {family!r}")
        TEMPLATES[template_id] = Template(template_id, family, build)
        return build

    return register


def _candidate(template_id: str, text: str, matches: Predicate) -> QueryCandidate:
    return QueryCandidate(template_id, template_id.split(".")[0], text, matches)


def _attribute_change(template_id: str, text: Callable[[DifferenceDescriptor], str], same: Callable):
    """Templates that name a property of the edit itself; `same(d, target)` says d fits the text."""

    def build(target: DifferenceDescriptor, ctx: SceneContext, rng: np.random.Generator) -> QueryCandidate | None:
        if not same(target, target):
            return None
        return _candidate(template_id, text(target), lambda d, strict: same(d, target))

    template(template_id)(build)


def _is(edit_type: str, subtype: str | None = None) -> Callable[[DifferenceDescriptor], bool]:
    return lambda d: d.edit_type == edit_type and (subtype is None or d.subtype == subtype)


_colour = _is("appearance", "colour")
_texture = _is("appearance", "texture")
_size = _is("appearance", "size")
_SIZE_RANK = {"small": 0, "medium": 1, "large": 2}


def _grew(d: DifferenceDescriptor) -> bool:
    return _size(d) and _SIZE_RANK[d.after.size] > _SIZE_RANK[d.before.size]


def _shrank(d: DifferenceDescriptor) -> bool:
    return _size(d) and _SIZE_RANK[d.after.size] < _SIZE_RANK[d.before.size]


# --- family "change": the change itself -------------------------------------------------------
_attribute_change(
    "change.colour_from_to",
    lambda t: f"the piece that went from {t.before.colour} to {t.after.colour}",
    lambda d, t: _colour(d) and (d.before.colour, d.after.colour) == (t.before.colour, t.after.colour),
)
_attribute_change(
    "change.colour_to",
    lambda t: f"the object that turned {t.after.colour}",
    lambda d, t: _colour(d) and d.after.colour == t.after.colour,
)
_attribute_change(
    "change.colour_from",
    lambda t: f"the thing that is no longer {t.before.colour}",
    lambda d, t: _colour(d) and d.before.colour == t.before.colour,
)
_attribute_change("change.recoloured", lambda t: "the object whose colour changed", lambda d, t: _colour(d))
_attribute_change(
    "change.texture_from_to",
    lambda t: f"the one that went from {TEXTURE_WORDS[t.before.texture]} to {TEXTURE_WORDS[t.after.texture]}",
    lambda d, t: _texture(d) and (d.before.texture, d.after.texture) == (t.before.texture, t.after.texture),
)
_attribute_change(
    "change.texture_to",
    lambda t: f"the object whose surface is now {TEXTURE_WORDS[t.after.texture]}",
    lambda d, t: _texture(d) and d.after.texture == t.after.texture,
)
_attribute_change("change.retextured", lambda t: "the one whose pattern changed", lambda d, t: _texture(d))
_attribute_change("change.grew", lambda t: "the object that grew", lambda d, t: _grew(d) and _grew(t))
_attribute_change("change.shrank", lambda t: "the object that shrank", lambda d, t: _shrank(d) and _shrank(t))
_attribute_change(
    "change.size_from_to",
    lambda t: f"the piece that went from {t.before.size} to {t.after.size}",
    lambda d, t: _size(d) and (d.before.size, d.after.size) == (t.before.size, t.after.size),
)
_attribute_change(
    "change.swapped_for_looks",
    lambda t: f"what was swapped for something {t.after.colour} and {TEXTURE_WORDS[t.after.texture]}",
    lambda d, t: _is("replace")(d) and (d.after.colour, d.after.texture) == (t.after.colour, t.after.texture),
)
_attribute_change(
    "change.removed_looks",
    lambda t: f"the {t.before.size} {TEXTURE_WORDS[t.before.texture]} {t.before.colour} object that disappeared",
    lambda d, t: (
        _is("remove")(d)
        and (d.before.size, d.before.texture, d.before.colour) == (t.before.size, t.before.texture, t.before.colour)
    ),
)
_attribute_change(
    "change.added_looks",
    lambda t: f"the new {t.after.colour} {TEXTURE_WORDS[t.after.texture]} object",
    lambda d, t: _is("add")(d) and (d.after.colour, d.after.texture) == (t.after.colour, t.after.texture),
)
_attribute_change(
    "change.restyled_by_colour",
    lambda t: f"the {t.before.colour} object that changed its look",
    lambda d, t: _is("appearance")(d) and d.before.colour == t.before.colour,
)

# --- family "edit": what kind of edit, optionally where ----------------------------------------
_EDIT_TEXT = {
    "remove": ("the thing that was taken away", "what vanished from the {region}"),
    "add": ("the object that appeared", "what was added in the {region}"),
    "replace": ("the one that was swapped for something else", "the object swapped out in the {region}"),
    "appearance": ("the object that changed its look but stayed put", "the restyled object in the {region}"),
}
HALVES: dict[str, tuple[str, str]] = {
    "upper half": ("y", "low"),
    "lower half": ("y", "high"),
    "left half": ("x", "low"),
    "right half": ("x", "high"),
}


def in_half(d: DifferenceDescriptor, ctx: SceneContext, half: str, strict: bool) -> bool:
    """Strict: centre clear of the dividing line by the margin; loose: anywhere near that side."""
    axis, side = HALVES[half]
    value, middle = (d.cx, ctx.width / 2) if axis == "x" else (d.cy, ctx.height / 2)
    offset = (middle - value) if side == "low" else (value - middle)
    return offset >= ctx.margin if strict else offset > -ctx.margin


for _edit, (_plain, _regional) in _EDIT_TEXT.items():
    _attribute_change(f"edit.{_edit}", lambda t, s=_plain: s, lambda d, t, e=_edit: d.edit_type == e)

    def _build_regional(target, ctx, rng, edit=_edit, text=_regional):
        if target.edit_type != edit:
            return None
        halves = [h for h in HALVES if in_half(target, ctx, h, strict=True)]
        if not halves:
            return None
        half = halves[int(rng.integers(len(halves)))]
        return _candidate(
            f"edit.{edit}_region",
            text.format(region=half),
            lambda d, strict: d.edit_type == edit and in_half(d, ctx, half, strict),
        )

    template(f"edit.{_edit}_region")(_build_regional)


# --- family "position": where the change is, absolutely or by ranking ---------------------------
def _ranking(template_id: str, text: str, key: Callable[[DifferenceDescriptor, SceneContext], float], ratio=False):
    """Target must beat every other difference on `key` (smaller wins) by the scene margin."""

    def build(target, ctx, rng):
        def matches(d, strict):
            others = ctx.others(d)
            if ratio:
                factor = 1.4 if strict else 1.0
                return all(key(d, ctx) * factor <= key(o, ctx) for o in others)
            gap = ctx.margin if strict else 0.0
            return all(key(d, ctx) + gap <= key(o, ctx) for o in others)

        return _candidate(template_id, text, matches) if matches(target, True) else None

    template(template_id)(build)


_ranking("position.leftmost", "the leftmost change", lambda d, c: d.cx)
_ranking("position.rightmost", "the rightmost change", lambda d, c: -d.cx)
_ranking("position.topmost", "the change closest to the top", lambda d, c: d.cy)
_ranking("position.bottommost", "the lowest difference", lambda d, c: -d.cy)
_ranking("position.nearest_centre", "the change closest to the centre of the image",
         lambda d, c: math.hypot(d.cx - c.width / 2, d.cy - c.height / 2))  # fmt: skip
_ranking("position.largest", "the biggest change", lambda d, c: 1.0 / max(d.area, 1.0), ratio=True)
_ranking("position.smallest", "the smallest difference", lambda d, c: d.area, ratio=True)

CORNERS = {"top-left": (0, 0), "top-right": (1, 0), "bottom-left": (0, 1), "bottom-right": (1, 1)}


@template("position.nearest_corner")
def _nearest_corner(target, ctx, rng):
    def distance(d, corner):
        fx, fy = CORNERS[corner]
        return math.hypot(d.cx - fx * ctx.width, d.cy - fy * ctx.height)

    def wins(d, corner, strict):
        gap = ctx.margin if strict else 0.0
        return all(distance(d, corner) + gap <= distance(o, corner) for o in ctx.others(d))

    corners = [c for c in CORNERS if wins(target, c, True)]
    if not corners:
        return None
    corner = corners[int(rng.integers(len(corners)))]
    return _candidate("position.nearest_corner", f"the change nearest the {corner} corner",
                      lambda d, strict: wins(d, corner, strict))  # fmt: skip


QUADRANTS = {"upper left": ("upper half", "left half"), "upper right": ("upper half", "right half"),
             "lower left": ("lower half", "left half"), "lower right": ("lower half", "right half")}  # fmt: skip


@template("position.quadrant")
def _quadrant(target, ctx, rng):
    def inside(d, quadrant, strict):
        return all(in_half(d, ctx, h, strict) for h in QUADRANTS[quadrant])

    quadrants = [q for q in QUADRANTS if inside(target, q, True)]
    if not quadrants:
        return None
    quadrant = quadrants[int(rng.integers(len(quadrants)))]
    return _candidate("position.quadrant", f"the difference in the {quadrant}",
                      lambda d, strict: inside(d, quadrant, strict))  # fmt: skip


@template("position.half")
def _half(target, ctx, rng):
    halves = [h for h in HALVES if in_half(target, ctx, h, strict=True)]
    if not halves:
        return None
    half = halves[int(rng.integers(len(halves)))]
    return _candidate("position.half", f"the only change in the {half} of the image",
                      lambda d, strict: in_half(d, ctx, half, strict))  # fmt: skip


@template("position.second_from_left")
def _second_from_left(target, ctx, rng):
    def second(d, strict):
        gap = ctx.margin if strict else 0.0
        left = [o for o in ctx.others(d) if o.cx + gap <= d.cx]
        right = [o for o in ctx.others(d) if o.cx >= d.cx + gap]
        return len(left) == 1 and len(left) + len(right) == len(ctx.others(d)) if strict else len(left) == 1

    if len(ctx.differences) < 3 or not second(target, True):
        return None
    return _candidate("position.second_from_left", "the second change from the left", second)


# --- family "relation": relative to an unchanged, uniquely described object ---------------------
RELATIONS = ("left of", "right of", "above", "below")


def related(d: DifferenceDescriptor, landmark: Landmark, relation: str, margin: float, strict: bool) -> bool:
    """Dominant-direction test; strict needs a clear gap and direction, loose a broad cone."""
    dx, dy = d.cx - landmark.cx, d.cy - landmark.cy
    along, across = {"left of": (-dx, dy), "right of": (dx, dy), "above": (-dy, dx), "below": (dy, dx)}[relation]
    if strict:
        return along >= margin and along >= 1.3 * abs(across)
    return along > 0 and along >= 0.7 * abs(across)


def usable_landmarks(target: DifferenceDescriptor, ctx: SceneContext) -> list[Landmark]:
    """Landmarks whose phrase does not name the target's category (unless the scene allows it)."""
    if ctx.allow_category_names:
        return list(ctx.landmarks)
    return [lm for lm in ctx.landmarks if lm.attrs.shape not in target.category_names]


_EDIT_PAST = {"remove": "removed", "add": "added", "replace": "swapped", "appearance": "restyled"}
_SUBTYPE_TEXT = {"colour": "changed colour", "texture": "changed pattern", "size": "changed size"}


def _relation_template(
    template_id: str, text: Callable, fits: Callable[[DifferenceDescriptor, DifferenceDescriptor], bool]
):
    def build(target, ctx, rng):
        if not fits(target, target):
            return None
        options = [
            (lm, rel)
            for lm in usable_landmarks(target, ctx)
            for rel in RELATIONS
            if related(target, lm, rel, ctx.margin, True)
        ]
        if not options:
            return None
        landmark, relation = options[int(rng.integers(len(options)))]
        return _candidate(
            template_id,
            text(target, relation, landmark.phrase),
            lambda d, strict: fits(d, target) and related(d, landmark, relation, ctx.margin, strict),
        )

    template(template_id)(build)


_relation_template("relation.edit", lambda t, r, p: f"the one that was {_EDIT_PAST[t.edit_type]}, {r} the {p}",
                   lambda d, t: d.edit_type == t.edit_type)  # fmt: skip
_relation_template("relation.any", lambda t, r, p: f"the change {r} the {p}", lambda d, t: True)
_relation_template("relation.subtype",
                   lambda t, r, p: f"the object that {_SUBTYPE_TEXT[t.subtype]}, {r} the {p}",
                   lambda d, t: t.edit_type == "appearance" and d.edit_type == "appearance" and d.subtype == t.subtype)  # fmt: skip


@template("relation.nearest")
def _nearest_landmark(target, ctx, rng):
    def distance(d, lm):
        return math.hypot(d.cx - lm.cx, d.cy - lm.cy)

    def nearest(d, lm, strict):
        gap = ctx.margin if strict else 0.0
        return all(distance(d, lm) + gap <= distance(o, lm) for o in ctx.others(d))

    options = [lm for lm in usable_landmarks(target, ctx) if nearest(target, lm, True)]
    if not options:
        return None
    landmark = options[int(rng.integers(len(options)))]
    return _candidate("relation.nearest", f"the difference closest to the {landmark.phrase}",
                      lambda d, strict: nearest(d, landmark, strict))  # fmt: skip


# --- family "category": names the target's shape (only with allow_category_names) ---------------
def _category_text(t: DifferenceDescriptor) -> str:
    if t.edit_type == "remove":
        return f"the {t.before.shape} that vanished"
    if t.edit_type == "add":
        return f"the new {t.after.shape}"
    if t.edit_type == "replace":
        return f"the {t.before.shape} that became a {t.after.shape}"
    if t.subtype == "colour":
        return f"the {t.before.shape} that turned {t.after.colour}"
    if t.subtype == "texture":
        return f"the {t.before.shape} that became {TEXTURE_WORDS[t.after.texture]}"
    return f"the {t.before.shape} that {'grew' if _grew(t) else 'shrank'}"


_attribute_change("category.edit", _category_text, lambda d, t: _category_text(d) == _category_text(t))
_attribute_change(
    "category.shape_changed",
    lambda t: f"the {(t.before or t.after).shape} that changed",
    lambda d, t: (d.before or d.after).shape == (t.before or t.after).shape,
)
