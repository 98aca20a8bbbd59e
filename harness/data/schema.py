"""The DiffGround manifest record (`Sample`) and the field rules every row must satisfy.

Boxes are `[x1, y1, x2, y2]` floats in absolute pixels of image B (README section
"Data: the DiffGround manifest" describes the format).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

EDIT_TYPES: tuple[str, ...] = ("appearance", "replace", "remove", "add")
"""Edit types of DiffGround (+ `add`); importers may also use `unknown`."""

UNKNOWN_EDIT_TYPE = "unknown"

REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "pair_id",
    "split",
    "image_a",
    "image_b",
    "query",
    "box",
    "edit_type",
)
OPTIONAL_FIELDS: tuple[str, ...] = (
    "width",
    "height",
    "mask_b",
    "difficulty",
    "attributes",
    "source",
)

# Real queries are a sentence or two; anything far longer is a broken export, not a query.
MAX_QUERY_CHARS = 2000

# COCO's area thresholds (pixels^2) for the small / medium / large strata.
COCO_SMALL_MAX_AREA = 32.0**2
COCO_MEDIUM_MAX_AREA = 96.0**2


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field of one manifest row."""

    field: str
    message: str


@dataclass
class Sample:
    """One IDG query: images A and B, a query, and the box of the difference it names."""

    id: str
    pair_id: str
    split: str
    image_a: str
    image_b: str
    query: str
    box: tuple[float, float, float, float]
    edit_type: str
    width: int | None = None
    height: int | None = None
    mask_b: str | None = None
    difficulty: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    @property
    def box_area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    @property
    def size_bucket(self) -> str:
        """COCO size stratum of the target box: small, medium or large."""
        return size_bucket(self.box_area)

    def to_json_dict(self) -> dict[str, Any]:
        """The manifest row: required fields always, optional ones only when set."""
        row = asdict(self)
        row["box"] = [float(v) for v in self.box]
        out = {k: row[k] for k in REQUIRED_FIELDS}
        for key in OPTIONAL_FIELDS:
            value = row[key]
            if value is not None and value != {}:
                out[key] = value
        return out


def size_bucket(area: float) -> str:
    if area < COCO_SMALL_MAX_AREA:
        return "small"
    if area < COCO_MEDIUM_MAX_AREA:
        return "medium"
    return "large"


def _check_str(row: dict, name: str, problems: list[FieldProblem], allow_empty: bool = False) -> None:
    value = row.get(name)
    if not isinstance(value, str):
        problems.append(FieldProblem(name, f"must be a string, got {type(value).__name__}"))
    elif not allow_empty and not value.strip():
        problems.append(FieldProblem(name, "must not be empty"))


def _check_box(value: Any, problems: list[FieldProblem]) -> None:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        problems.append(FieldProblem("box", f"must be a list of 4 numbers [x1, y1, x2, y2], got {value!r}"))
        return
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        problems.append(FieldProblem("box", f"must hold numbers only, got {value!r}"))
        return
    if not all(math.isfinite(v) for v in value):
        problems.append(FieldProblem("box", f"must hold finite numbers, got {value!r}"))
        return
    x1, y1, x2, y2 = value
    if x2 <= x1 or y2 <= y1:
        problems.append(FieldProblem("box", f"is degenerate or flipped (need x1 < x2 and y1 < y2), got {value!r}"))


def parse_sample(row: Any) -> tuple[Sample | None, list[FieldProblem]]:
    """Check one decoded manifest row; return the Sample (or None) and every problem found.

    Only the row itself is checked here; image files and box-vs-image bounds are checked by
    `harness.data.validate`, which knows the dataset root.
    """
    if not isinstance(row, dict):
        return None, [FieldProblem("<row>", f"must be a JSON object, got {type(row).__name__}")]
    problems: list[FieldProblem] = []
    for name in REQUIRED_FIELDS:
        if name not in row:
            problems.append(FieldProblem(name, "is missing (required field)"))
    if problems:
        return None, problems
    for name in ("id", "pair_id", "split", "image_a", "image_b", "edit_type"):
        _check_str(row, name, problems)
    _check_str(row, "query", problems)
    query = row.get("query")
    if isinstance(query, str) and len(query) > MAX_QUERY_CHARS:
        problems.append(FieldProblem("query", f"is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}"))
    if isinstance(query, str) and any(ord(c) < 32 and c not in "\t\n\r" for c in query):
        problems.append(FieldProblem("query", "contains control characters (e.g. NUL); clean the export"))
    _check_box(row["box"], problems)
    for name in ("width", "height"):
        value = row.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value <= 0):
            problems.append(FieldProblem(name, f"must be a positive integer, got {value!r}"))
    if row.get("mask_b") is not None:
        _check_str(row, "mask_b", problems)
    attributes = row.get("attributes", {})
    if attributes is not None and not isinstance(attributes, dict):
        problems.append(FieldProblem("attributes", f"must be an object, got {type(attributes).__name__}"))
    unknown = sorted(set(row) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        problems.append(FieldProblem(unknown[0], f"unknown field(s) {unknown}; put extra data under 'attributes'"))
    if problems:
        return None, problems
    sample = Sample(
        id=row["id"],
        pair_id=row["pair_id"],
        split=row["split"],
        image_a=row["image_a"],
        image_b=row["image_b"],
        query=row["query"],
        box=tuple(float(v) for v in row["box"]),  # type: ignore[arg-type]
        edit_type=row["edit_type"],
        width=row.get("width"),
        height=row.get("height"),
        mask_b=row.get("mask_b"),
        difficulty=row.get("difficulty"),
        attributes=dict(row.get("attributes") or {}),
        source=row.get("source"),
    )
    return sample, []
