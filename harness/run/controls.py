"""Controls that show what a model really uses: query-shuffle, a-blind and swap.

Each control rewrites the split's samples (new Sample objects; the manifest is never touched) and
the runner evaluates the model on them beside its normal run, as `MODEL@CONTROL`:

- `query-shuffle`: within each pair, every query is replaced by the query of the pair's next
  difference (ids sorted; a rotation, so no query stays in place). A model that grounds the
  language falls towards 1/K. Pairs with a single query cannot be shuffled and stay as they are
  (counted as `unchanged`).
- `a-blind`: image A is replaced by image B. A model that compares the images collapses, most of
  all on removals, which only A shows.
- `swap`: A and B are exchanged; `remove` and `add` swap labels (the object is now added), and
  every box stays where the object is, mapped into the new B's frame (a scale when A and B differ
  in size). Change masks stay valid only when both images have the same size.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from PIL import Image

from harness.data.images import resolve_dataset_path
from harness.data.schema import Sample

CONTROL_KINDS: tuple[str, ...] = ("query-shuffle", "a-blind", "swap")
SWAPPED_EDIT_TYPES = {"remove": "add", "add": "remove"}


class UnknownControl(ValueError):
    pass


def parse_controls(text: str) -> list[str]:
    """`query-shuffle,swap` or `all` -> the list of control kinds, checked."""
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    if kinds == ["all"]:
        return list(CONTROL_KINDS)
    unknown = [k for k in kinds if k not in CONTROL_KINDS]
    if unknown:
        raise UnknownControl(f"unknown control(s) {unknown}; choose from {', '.join(CONTROL_KINDS)} or 'all'")
    return list(dict.fromkeys(kinds))


def query_shuffle(samples: list[Sample]) -> tuple[list[Sample], dict[str, int]]:
    by_pair: dict[str, list[Sample]] = {}
    for sample in samples:
        by_pair.setdefault(sample.pair_id, []).append(sample)
    new_query: dict[str, str] = {}
    unchanged = 0
    for members in by_pair.values():
        members = sorted(members, key=lambda s: s.id)
        if len(members) == 1 or len({s.query for s in members}) == 1:
            unchanged += len(members)
            continue
        for i, sample in enumerate(members):
            new_query[sample.id] = members[(i + 1) % len(members)].query
    shuffled = [replace(s, query=new_query[s.id]) if s.id in new_query else s for s in samples]
    return shuffled, {"shuffled": len(new_query), "unchanged": unchanged}


def a_blind(samples: list[Sample]) -> tuple[list[Sample], dict[str, int]]:
    return [replace(s, image_a=s.image_b) for s in samples], {"a_replaced": len(samples)}


def _image_size(root: Path, rel: str) -> tuple[int, int]:
    with Image.open(resolve_dataset_path(root, rel)) as image:  # header only, no decode
        return image.size


def swap(samples: list[Sample], root: Path) -> tuple[list[Sample], dict[str, int]]:
    swapped, relabelled, rescaled = [], 0, 0
    for s in samples:
        b_size = _image_size(root, s.image_b)
        a_size = _image_size(root, s.image_a)
        box, mask = s.box, s.mask_b
        if a_size != b_size:
            sx, sy = a_size[0] / b_size[0], a_size[1] / b_size[1]
            box = (s.box[0] * sx, s.box[1] * sy, s.box[2] * sx, s.box[3] * sy)
            mask = None
            rescaled += 1
        edit_type = SWAPPED_EDIT_TYPES.get(s.edit_type, s.edit_type)
        relabelled += edit_type != s.edit_type
        swapped.append(
            replace(
                s,
                image_a=s.image_b,
                image_b=s.image_a,
                box=box,
                edit_type=edit_type,
                mask_b=mask,
                width=a_size[0],
                height=a_size[1],
            )
        )
    return swapped, {"relabelled": relabelled, "rescaled": rescaled}


def apply_control(kind: str, samples: list[Sample], root: Path) -> tuple[list[Sample], dict[str, int]]:
    """The control's samples (same ids, in the same order) and counts of what it changed."""
    if kind == "query-shuffle":
        return query_shuffle(samples)
    if kind == "a-blind":
        return a_blind(samples)
    if kind == "swap":
        return swap(samples, root)
    raise UnknownControl(f"unknown control {kind!r}; choose from {', '.join(CONTROL_KINDS)}")
