"""One import in progress: output folder, images, pair ids, accepted samples, skipped and rejected rows.

Importers feed it rows; nothing is written until `finish`, which places the images and writes
`manifest.jsonl` and `dataset.json` (source, importer, counts, skips, problems, fingerprint), then
validates what it wrote. With nothing imported, or `strict` and a failed row, it writes nothing
and an existing output folder is left as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.data.importers.image_placement import IMAGES_DIR, ImagePlacer, SourceImage
from harness.data.importers.import_options import ImportOptions
from harness.data.importers.import_report import ImportReport, RowProblem, RowRejected
from harness.data.manifest import (
    DATASET_INFO_NAME,
    MANIFEST_NAME,
    dataset_fingerprint,
    file_sha256,
    write_dataset_info,
    write_manifest,
)
from harness.data.schema import EDIT_TYPES, UNKNOWN_EDIT_TYPE, Sample
from harness.data.validate import validate_dataset
from harness.errors import HarnessError

IMPORTER_VERSION = "1"
# dataset.json lists this many problems; the CLI prints them all, the count is always exact.
MAX_PROBLEMS_IN_INFO = 200


class OutputExistsError(HarnessError):
    """The output folder already holds files and --overwrite was not given."""


def _check_out(out: Path, overwrite: bool) -> None:
    """Refuse an output that is a file, or a non-empty folder without --overwrite (changes nothing)."""
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise OutputExistsError(f"{out} is not empty; choose another --out or pass --overwrite")


def _prepare_out(out: Path, overwrite: bool) -> None:
    _check_out(out, overwrite)
    if out.is_dir() and any(out.iterdir()):
        # Only what an import writes is removed: --out pointing at the wrong folder must not wipe it.
        for name in (MANIFEST_NAME, DATASET_INFO_NAME):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / IMAGES_DIR, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)


def edit_type_from(value: Any, field: str) -> str:
    """A source edit type, lower-cased; absent or empty -> `unknown`. Non-standard names are kept."""
    if value is None:
        return UNKNOWN_EDIT_TYPE
    if not isinstance(value, str):
        raise RowRejected(field, f"must be a string, got {value!r}")
    return value.strip().lower() or UNKNOWN_EDIT_TYPE


def query_from(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RowRejected(field, f"must be a non-empty string, got {value!r}")
    return value.strip()


class ImportSession:
    def __init__(
        self,
        format_name: str,
        source: Path,
        out: Path,
        options: ImportOptions,
        image_fallback_dirs: Sequence[Path] = (),
        default_strata: Sequence[str] = (),
    ) -> None:
        """`image_fallback_dirs`: folders to look in for an image path not found under the source's
        folder (see ImagePlacer). `default_strata`: sample attributes that `harness run` stratifies
        by when it is given no `--strata` (written to dataset.json as `default_strata`)."""
        options.check()
        self.format = format_name
        self.default_strata = list(default_strata)
        self.source = Path(source)
        self.out = Path(out)
        self.options = options
        if not self.source.is_file():
            raise HarnessError(f"{self.source}: source file not found")
        _check_out(self.out, options.overwrite)
        self.images = ImagePlacer(self.source.parent, self.out, options.link, image_fallback_dirs)
        self.report = ImportReport(format=format_name, source=self.source, out=self.out)
        self.samples: list[Sample] = []
        self._to_place: dict[str, SourceImage] = {}  # dataset path -> image, placed by `finish`
        self._pair_ids: dict[tuple[str, str], str] = {}

    def reject(self, location: str, field: str, message: str) -> None:
        self.report.problems.append(RowProblem(self.source.name, location, field, message))

    def skip(self, reason: str, group: str) -> None:
        """A row left out by design: counted under `reason` and `group`, not a problem or a failure."""
        self.report.skip(reason, group)

    def pair_id(self, image_a: SourceImage, image_b: SourceImage) -> str:
        """Rows naming the same two images (in the same order) are one pair."""
        key = (image_a.dest, image_b.dest)
        if key not in self._pair_ids:
            self._pair_ids[key] = f"{self.format}-pair-{len(self._pair_ids):05d}"
        return self._pair_ids[key]

    def add(
        self,
        *,
        pair_id: str,
        split: str,
        image_a: SourceImage,
        image_b: SourceImage,
        query: str,
        box: tuple[float, float, float, float],
        edit_type: str,
        attributes: dict[str, Any],
    ) -> None:
        """Accept one row: keep its sample and its images to place (ids are `<format>-<n>` in import order)."""
        self._to_place.setdefault(image_a.dest, image_a)
        self._to_place.setdefault(image_b.dest, image_b)
        width, height = image_b.size
        self.samples.append(
            Sample(
                id=f"{self.format}-{len(self.samples):06d}",
                pair_id=pair_id,
                split=split,
                image_a=image_a.dest,
                image_b=image_b.dest,
                query=query,
                box=tuple(round(v, 4) for v in box),  # type: ignore[arg-type]
                edit_type=edit_type,
                width=width,
                height=height,
                attributes=attributes,
                source=self.format,
            )
        )

    def finish(self, rows_read: int) -> ImportReport:
        """Write the dataset and return the report; nothing is written when no row was imported,
        or with `strict` when any row failed."""
        report = self.report
        report.rows_read = rows_read
        report.imported = len(self.samples)
        if not self.samples or (self.options.strict and report.failed):
            return report
        _prepare_out(self.out, self.options.overwrite)
        for image in self._to_place.values():
            self.images.place(image)
        report.images_placed = self.images.placed
        report.hardlink_fallbacks = self.images.hardlink_fallbacks
        write_manifest(self.out, self.samples)
        info = self._dataset_info()
        info["fingerprint"] = dataset_fingerprint(self.out)
        write_dataset_info(self.out, info)
        # Images were decoded above; this checks the written rows and paths as every loader will.
        report.output_problems = validate_dataset(self.out, check_images=False).problems
        report.written = True
        return report

    def _dataset_info(self) -> dict[str, Any]:
        report = self.report
        splits: dict[str, dict[str, int]] = {}
        for split in sorted({s.split for s in self.samples}):
            in_split = [s for s in self.samples if s.split == split]
            splits[split] = {"queries": len(in_split), "pairs": len({s.pair_id for s in in_split})}
        present = {s.edit_type for s in self.samples}
        source_sha = file_sha256(self.source)
        return {
            "name": self.options.name or self.out.resolve().name,
            # No timestamp: the same source imported twice gives the same dataset.json.
            "version": f"source-{source_sha[:12]}",
            "licence": {"data": "as the source data; see the source's own licence"},
            "source": {
                "format": self.format,
                "path": str(self.source.resolve()),
                "sha256": source_sha,
            },
            "importer": {"name": f"harness data import {self.format}", "version": IMPORTER_VERSION},
            "images": {"link": self.options.link, "files": report.images_placed},
            "counts": {
                "rows_read": report.rows_read,
                "imported": report.imported,
                "skipped": report.skipped_total,
                "failed": report.failed,
            },
            "skipped": report.skipped,
            "problems": [str(p) for p in report.problems[:MAX_PROBLEMS_IN_INFO]],
            "problems_total": len(report.problems),
            "splits": splits,
            "evaluation_only": "train" not in splits,
            "edit_types": [t for t in EDIT_TYPES if t in present] + sorted(present - set(EDIT_TYPES)),
            **({"default_strata": self.default_strata} if self.default_strata else {}),
        }
