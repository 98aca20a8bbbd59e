"""Query meanings of DiffGround-Synth 2: what a query says about its target, as a predicate.

A meaning template binds to a target difference and returns a Meaning: the predicate the query
checker evaluates on every difference (the same predicates as version 1's templates, plus
compositions of two cues and superlatives among differences of one edit type), the phrase-pattern
set that words it (phrasings.py) and the parameters its slots need (word-set ids or a landmark).
Wording is left to realize.py, so no wording can change which differences a query fits.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from harness.data.synth.descriptors import DifferenceDescriptor, SceneContext
from harness.data.synth.lexicon import EDIT_VERBS, SUBTYPE_VERBS, attribute_set, place_set
from harness.data.synth.query_templates import (
    CORNERS,
    FAMILIES,
    HALVES,
    QUADRANTS,
    RELATIONS,
    _colour,
    _grew,
    _is,
    _shrank,
    _size,
    _texture,
    in_half,
    related,
    usable_landmarks,
)
from harness.data.synth.realize import LandmarkRef, Param

Predicate = Callable[[DifferenceDescriptor, bool], bool]


@dataclass(frozen=True)
class Meaning:
    template_id: str
    family: str
    pattern_set: str
    params: dict[str, Param]
    matches: Predicate
    cues: int = 1  # how many cues it combines (an attribute, a place, an edit type, a relation ...)


@dataclass(frozen=True)
class MeaningTemplate:
    id: str
    family: str
    build: Callable[[DifferenceDescriptor, SceneContext, np.random.Generator], Meaning | None] = field(repr=False)


MEANINGS: dict[str, MeaningTemplate] = {}


def meaning(template_id: str):
    """Register a builder under `template_id`; the family is the id's prefix."""

    def register(build):
        if template_id in MEANINGS:
            raise ValueError(f"meaning {template_id!r} registered twice")
        family = template_id.split(".")[0]
        if family not in FAMILIES:
            raise ValueError(f"meaning {template_id!r}: unknown family {family!r}")
        MEANINGS[template_id] = MeaningTemplate(template_id, family, build)
        return build

    return register


def _pick(rng: np.random.Generator, options: list):
    return options[int(rng.integers(len(options)))]


def _colour_of(o) -> str:
    return attribute_set("colour", o.colour)


def _texture_of(o) -> str:
    return attribute_set("texture", o.texture)


def _size_of(o) -> str:
    return attribute_set("size", o.size)


def _shape_of(o) -> str:
    return attribute_set("shape", o.shape)


def _attribute(template_id: str, params: Callable[[DifferenceDescriptor], dict], same: Callable, cues: int = 1):
    """A meaning naming properties of the edit itself; `same(d, target)` says d fits it."""
    family = template_id.split(".")[0]

    def build(target, ctx, rng):
        if not same(target, target):
            return None
        return Meaning(
            template_id, family, f"np.{template_id}", params(target), lambda d, strict: same(d, target), cues
        )

    meaning(template_id)(build)


# --- family "change" ----------------------------------------------------------------------------
_attribute(
    "change.colour_from_to",
    lambda t: {"from": _colour_of(t.before), "to": _colour_of(t.after)},
    lambda d, t: _colour(d) and (d.before.colour, d.after.colour) == (t.before.colour, t.after.colour),
    2,
)
_attribute(
    "change.colour_to",
    lambda t: {"to": _colour_of(t.after)},
    lambda d, t: _colour(d) and d.after.colour == t.after.colour,
)
_attribute(
    "change.colour_from",
    lambda t: {"from": _colour_of(t.before)},
    lambda d, t: _colour(d) and d.before.colour == t.before.colour,
)
_attribute("change.recoloured", lambda t: {}, lambda d, t: _colour(d))
_attribute(
    "change.texture_from_to",
    lambda t: {"tex_from": _texture_of(t.before), "tex_to": _texture_of(t.after)},
    lambda d, t: _texture(d) and (d.before.texture, d.after.texture) == (t.before.texture, t.after.texture),
    2,
)
_attribute(
    "change.texture_to",
    lambda t: {"tex_to": _texture_of(t.after)},
    lambda d, t: _texture(d) and d.after.texture == t.after.texture,
)
_attribute("change.retextured", lambda t: {}, lambda d, t: _texture(d))
_attribute("change.grew", lambda t: {}, lambda d, t: _grew(d) and _grew(t))
_attribute("change.shrank", lambda t: {}, lambda d, t: _shrank(d) and _shrank(t))
_attribute(
    "change.size_from_to",
    lambda t: {"size_from": _size_of(t.before), "size_to": _size_of(t.after)},
    lambda d, t: _size(d) and (d.before.size, d.after.size) == (t.before.size, t.after.size),
    2,
)
_attribute(
    "change.swapped_for_looks",
    lambda t: {"to": _colour_of(t.after), "tex_to": _texture_of(t.after)},
    lambda d, t: _is("replace")(d) and (d.after.colour, d.after.texture) == (t.after.colour, t.after.texture),
    2,
)
_attribute(
    "change.removed_looks",
    lambda t: {"size_from": _size_of(t.before), "tex_from": _texture_of(t.before), "from": _colour_of(t.before)},
    lambda d, t: (
        _is("remove")(d)
        and (d.before.size, d.before.texture, d.before.colour) == (t.before.size, t.before.texture, t.before.colour)
    ),
    2,
)
_attribute(
    "change.added_looks",
    lambda t: {"to": _colour_of(t.after), "tex_to": _texture_of(t.after)},
    lambda d, t: _is("add")(d) and (d.after.colour, d.after.texture) == (t.after.colour, t.after.texture),
    2,
)
_attribute("change.restyled_by_colour", lambda t: {"from": _colour_of(t.before)},
           lambda d, t: _is("appearance")(d) and d.before.colour == t.before.colour, 2)  # fmt: skip


# --- family "edit" ------------------------------------------------------------------------------
def _visible(d: DifferenceDescriptor):
    """The state a reader names an added or removed object by: after for add, before for remove."""
    return d.after if d.edit_type == "add" else d.before


for _edit in EDIT_VERBS:
    _attribute(f"edit.{_edit}", lambda t: {}, lambda d, t, e=_edit: d.edit_type == e)

    def _build_regional(target, ctx, rng, edit=_edit):
        if target.edit_type != edit:
            return None
        halves = [h for h in HALVES if in_half(target, ctx, h, strict=True)]
        if not halves:
            return None
        half = _pick(rng, halves)
        return Meaning(
            f"edit.{edit}_region", "edit", "np.edit.region",
            {"vp": EDIT_VERBS[edit], "region": place_set("half", half)},
            lambda d, strict: d.edit_type == edit and in_half(d, ctx, half, strict), cues=2,
        )  # fmt: skip

    meaning(f"edit.{_edit}_region")(_build_regional)


@meaning("edit.colour_region")
def _colour_region(target, ctx, rng):
    """An edit, the colour of what was added or removed, and a half of the image."""
    if target.edit_type not in ("add", "remove"):
        return None
    halves = [h for h in HALVES if in_half(target, ctx, h, strict=True)]
    if not halves:
        return None
    half, colour = _pick(rng, halves), _visible(target).colour

    def matches(d, strict):
        return d.edit_type == target.edit_type and _visible(d).colour == colour and in_half(d, ctx, half, strict)

    params = {
        "vp": EDIT_VERBS[target.edit_type],
        "col": _colour_of(_visible(target)),
        "region": place_set("half", half),
    }
    return Meaning("edit.colour_region", "edit", "np.edit.colour_region", params, matches, cues=3)


# --- family "position" --------------------------------------------------------------------------
def _ranking(name: str, key: Callable[[DifferenceDescriptor, SceneContext], float], ratio: bool = False):
    """Target must beat every other difference on `key` (smaller wins) by the scene margin."""

    def build(target, ctx, rng):
        def matches(d, strict):
            others = ctx.others(d)
            if ratio:
                factor = 1.4 if strict else 1.0
                return all(key(d, ctx) * factor <= key(o, ctx) for o in others)
            gap = ctx.margin if strict else 0.0
            return all(key(d, ctx) + gap <= key(o, ctx) for o in others)

        if not matches(target, True):
            return None
        return Meaning(f"position.{name}", "position", f"np.position.{name}", {}, matches)

    meaning(f"position.{name}")(build)


_ranking("leftmost", lambda d, c: d.cx)
_ranking("rightmost", lambda d, c: -d.cx)
_ranking("topmost", lambda d, c: d.cy)
_ranking("bottommost", lambda d, c: -d.cy)
_ranking("nearest_centre", lambda d, c: math.hypot(d.cx - c.width / 2, d.cy - c.height / 2))
_ranking("largest", lambda d, c: 1.0 / max(d.area, 1.0), ratio=True)
_ranking("smallest", lambda d, c: d.area, ratio=True)


@meaning("position.nearest_corner")
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
    corner = _pick(rng, corners)
    return Meaning("position.nearest_corner", "position", "np.position.nearest_corner",
                   {"corner": place_set("corner", corner)}, lambda d, strict: wins(d, corner, strict))  # fmt: skip


@meaning("position.quadrant")
def _quadrant(target, ctx, rng):
    def inside(d, quadrant, strict):
        return all(in_half(d, ctx, h, strict) for h in QUADRANTS[quadrant])

    quadrants = [q for q in QUADRANTS if inside(target, q, True)]
    if not quadrants:
        return None
    quadrant = _pick(rng, quadrants)
    return Meaning("position.quadrant", "position", "np.position.quadrant",
                   {"quadrant": place_set("quadrant", quadrant)}, lambda d, strict: inside(d, quadrant, strict))  # fmt: skip


@meaning("position.half")
def _half(target, ctx, rng):
    halves = [h for h in HALVES if in_half(target, ctx, h, strict=True)]
    if not halves:
        return None
    half = _pick(rng, halves)
    return Meaning("position.half", "position", "np.position.half", {"region": place_set("half", half)},
                   lambda d, strict: in_half(d, ctx, half, strict))  # fmt: skip


@meaning("position.second_from_left")
def _second_from_left(target, ctx, rng):
    def second(d, strict):
        gap = ctx.margin if strict else 0.0
        left = [o for o in ctx.others(d) if o.cx + gap <= d.cx]
        right = [o for o in ctx.others(d) if o.cx >= d.cx + gap]
        return len(left) == 1 and len(left) + len(right) == len(ctx.others(d)) if strict else len(left) == 1

    if len(ctx.differences) < 3 or not second(target, True):
        return None
    return Meaning("position.second_from_left", "position", "np.position.second_from_left", {}, second)


_EXTREMES: dict[str, Callable[[DifferenceDescriptor], float]] = {
    "left": lambda d: d.cx, "right": lambda d: -d.cx, "top": lambda d: d.cy, "bottom": lambda d: -d.cy,
}  # fmt: skip


@meaning("position.edit_extreme")
def _edit_extreme(target, ctx, rng):
    """Superlative among the differences of the target's edit type ("the leftmost object that was added")."""
    edit = target.edit_type
    if sum(1 for d in ctx.differences if d.edit_type == edit) < 2:
        return None

    def wins(d, direction, strict):
        key, gap = _EXTREMES[direction], ctx.margin if strict else 0.0
        rivals = [o for o in ctx.others(d) if o.edit_type == edit]
        return d.edit_type == edit and all(key(d) + gap <= key(o) for o in rivals)

    directions = [k for k in _EXTREMES if wins(target, k, True)]
    if not directions:
        return None
    direction = _pick(rng, directions)
    return Meaning("position.edit_extreme", "position", f"np.position.edit_extreme.{direction}",
                   {"vp": EDIT_VERBS[edit]}, lambda d, strict: wins(d, direction, strict), cues=2)  # fmt: skip


# --- family "relation" --------------------------------------------------------------------------
def _landmark(lm) -> LandmarkRef:
    return LandmarkRef(lm.attrs, lm.order)


def _relation(template_id: str, params: Callable[[DifferenceDescriptor], dict], fits: Callable, cues: int = 2):
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
        landmark, relation = _pick(rng, options)
        return Meaning(
            template_id, "relation", f"np.{template_id}",
            {**params(target), "rel": place_set("rel", relation), "lm": _landmark(landmark)},
            lambda d, strict: fits(d, target) and related(d, landmark, relation, ctx.margin, strict), cues,
        )  # fmt: skip

    meaning(template_id)(build)


_relation("relation.edit", lambda t: {"vp": EDIT_VERBS[t.edit_type]}, lambda d, t: d.edit_type == t.edit_type)
_relation("relation.any", lambda t: {}, lambda d, t: True, cues=1)
_relation(
    "relation.subtype",
    lambda t: {"vp": SUBTYPE_VERBS[t.subtype]},
    lambda d, t: t.edit_type == "appearance" and d.edit_type == "appearance" and d.subtype == t.subtype,
)
_relation("relation.colour", lambda t: {"vp": EDIT_VERBS[t.edit_type], "col": _colour_of(_visible(t))},
          lambda d, t: t.edit_type in ("add", "remove") and d.edit_type == t.edit_type
          and _visible(d).colour == _visible(t).colour, cues=3)  # fmt: skip


@meaning("relation.nearest")
def _nearest_landmark(target, ctx, rng):
    def distance(d, lm):
        return math.hypot(d.cx - lm.cx, d.cy - lm.cy)

    def nearest(d, lm, strict):
        gap = ctx.margin if strict else 0.0
        return all(distance(d, lm) + gap <= distance(o, lm) for o in ctx.others(d))

    options = [lm for lm in usable_landmarks(target, ctx) if nearest(target, lm, True)]
    if not options:
        return None
    landmark = _pick(rng, options)
    return Meaning("relation.nearest", "relation", "np.relation.nearest", {"lm": _landmark(landmark)},
                   lambda d, strict: nearest(d, landmark, strict))  # fmt: skip
