"""Dataset validation: every problem with file, line and field; valid samples are never lost.

`validate_dataset` reads the manifest, then checks each sample's files (paths inside the root,
images readable, mask size) and its box against B's real size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from harness.data.images import load_image, resolve_dataset_path
from harness.data.manifest import MANIFEST_NAME, Problem, read_manifest
from harness.data.schema import EDIT_TYPES, UNKNOWN_EDIT_TYPE, Sample
from harness.errors import ImageLoadError, UnsafePathError
from harness.files.file_facts import FileFacts

KNOWN_EDIT_TYPES: tuple[str, ...] = (*EDIT_TYPES, UNKNOWN_EDIT_TYPE)

# Boxes may overhang B by a rounding margin (antialiased edges, float export) without being wrong.
BOX_TOLERANCE_PX = 1.0


@dataclass
class ValidationReport:
    """The outcome of validating a dataset folder (optionally one split of it)."""

    root: Path
    samples: list[Sample] = field(default_factory=list)  # samples with no problem
    problems: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)  # not errors: e.g. A resized onto B's grid
    warnings: list[Problem] = field(default_factory=list)  # usable but suspect: e.g. an unknown edit type
    rows_total: int = 0
    invalid_rows: int = 0  # rows (in the checked splits) that are not usable

    @property
    def ok(self) -> bool:
        return not self.problems


class _ImageProbe:
    """Decodes each referenced file once (pairs share images) and remembers size or error.

    With `facts`, files already decoded by an earlier run (same size, mtime and inode) are not
    decoded again.
    """

    def __init__(self, root: Path, facts: FileFacts | None = None) -> None:
        self.root = root
        self.facts = facts or FileFacts()
        self._seen: dict[str, tuple[tuple[int, int] | None, str | None]] = {}

    def size_or_error(self, rel: str, is_mask: bool = False) -> tuple[tuple[int, int] | None, str | None]:
        if rel not in self._seen:
            try:
                path = resolve_dataset_path(self.root, rel)
                decode = _decoded_mask_size if is_mask else _decoded_image_size
                self._seen[rel] = (self.facts.image_size(path, decode), None)
            except (UnsafePathError, ImageLoadError) as exc:
                self._seen[rel] = (None, str(exc))
            except (OSError, SyntaxError, ValueError) as exc:
                self._seen[rel] = (None, f"{rel}: cannot read ({exc})")
        return self._seen[rel]


def _decoded_image_size(path: Path) -> tuple[int, int]:
    return load_image(path).size


def _decoded_mask_size(path: Path) -> tuple[int, int]:
    """Masks are single-channel; only their decodability and size matter."""
    if not path.is_file():
        raise ImageLoadError(f"{path}: file not found")
    with Image.open(path) as mask:
        mask.load()
        return mask.size


def _check_sample(
    sample: Sample, line: int, probe: _ImageProbe, check_images: bool, notes: list[Problem]
) -> list[Problem]:
    problems: list[Problem] = []

    def add(field_name: str, message: str) -> None:
        problems.append(Problem(MANIFEST_NAME, line, field_name, message, sample.id))

    for name in ("image_a", "image_b", "mask_b"):
        rel = getattr(sample, name)
        if rel is None:
            continue
        try:
            resolve_dataset_path(probe.root, rel)
        except UnsafePathError as exc:
            add(name, f"is unsafe: {exc}")
    if problems or not check_images:
        return problems

    sizes: dict[str, tuple[int, int]] = {}
    for name in ("image_a", "image_b", "mask_b"):
        rel = getattr(sample, name)
        if rel is None:
            continue
        size, error = probe.size_or_error(rel, is_mask=name == "mask_b")
        if error:
            add(name, f"cannot be used: {error}")
        else:
            sizes[name] = size  # type: ignore[assignment]
    if "image_b" not in sizes:
        return problems
    width, height = sizes["image_b"]
    if sample.width is not None and sample.width != width:
        add("width", f"is {sample.width} but image B is {width} px wide")
    if sample.height is not None and sample.height != height:
        add("height", f"is {sample.height} but image B is {height} px high")
    if "image_a" in sizes and sizes["image_a"] != (width, height):
        notes.append(
            Problem(
                MANIFEST_NAME,
                line,
                "image_a",
                f"is {sizes['image_a'][0]}x{sizes['image_a'][1]} but image B is {width}x{height}; "
                "A is resized onto B's grid before models see it",
                sample.id,
            )
        )
    if "mask_b" in sizes and sizes["mask_b"] != (width, height):
        add("mask_b", f"has size {sizes['mask_b']} but image B has {(width, height)}")
    x1, y1, x2, y2 = sample.box
    tol = BOX_TOLERANCE_PX
    if x1 < -tol or y1 < -tol or x2 > width + tol or y2 > height + tol:
        add("box", f"{list(sample.box)} lies outside image B ({width}x{height})")
    return problems


def _unknown_edit_type(sample: Sample, line: int) -> Problem:
    return Problem(
        MANIFEST_NAME,
        line,
        "edit_type",
        f"is {sample.edit_type!r}, not a known edit type ({', '.join(KNOWN_EDIT_TYPES)}); "
        "the sample is kept and scored as its own edit-type stratum",
        sample.id,
    )


def _pair_conflict(sample: Sample, line: int, first: Sample, first_line: int) -> Problem | None:
    """A row whose pair_id names other images (or another size) than the pair's first row."""
    for name in ("image_a", "image_b", "width", "height"):
        mine, theirs = getattr(sample, name), getattr(first, name)
        if mine != theirs and not (name in ("width", "height") and None in (mine, theirs)):
            return Problem(
                MANIFEST_NAME,
                line,
                name,
                f"is {mine!r}, but line {first_line} (sample {first.id}) gives pair_id {sample.pair_id!r} "
                f"{name} {theirs!r}: every row of a pair must name the same two images",
                sample.id,
            )
    return None


def validate_dataset(
    root: Path, splits: set[str] | None = None, check_images: bool = True, facts: FileFacts | None = None
) -> ValidationReport:
    """Check a dataset folder; only samples of `splits` (all when None) are checked.

    Rows that could not be parsed at all (bad JSON, missing fields) are reported whatever the
    split, because their split is unknown. A manifest with no rows is a problem; an edit type
    outside KNOWN_EDIT_TYPES is a warning (the sample stays valid).
    """
    root = Path(root)
    read = read_manifest(root)
    report = ValidationReport(root=root, rows_total=read.rows_total)
    report.problems.extend(read.problems)
    report.invalid_rows = len({p.line for p in read.problems})
    if not read.rows_total:
        report.problems.append(
            Problem(
                MANIFEST_NAME,
                0,
                "<file>",
                "has no samples: it holds no rows (one JSON object a line; the fields are in harness/data/schema.py)",
            )
        )
    probe = _ImageProbe(root, facts)
    first_of_pair: dict[str, Sample] = {}
    for sample in read.samples:
        first = first_of_pair.setdefault(sample.pair_id, sample)
        if splits is not None and sample.split not in splits:
            continue
        line = read.lines[sample.id]
        if sample.edit_type not in KNOWN_EDIT_TYPES:
            report.warnings.append(_unknown_edit_type(sample, line))
        problems = _check_sample(sample, line, probe, check_images, report.notes)
        conflict = _pair_conflict(sample, line, first, read.lines[first.id])
        if conflict is not None:
            problems.append(conflict)
        if problems:
            report.problems.extend(problems)
            report.invalid_rows += 1
        else:
            report.samples.append(sample)
    report.problems.sort(key=lambda p: (p.line, p.field))
    return report
