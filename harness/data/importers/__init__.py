"""Importers from public formats into the DiffGround manifest: `harness data import FORMAT SRC --out DIR`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from harness.data.importers.coco_pairs import import_coco_pairs
from harness.data.importers.csv_pairs import import_csv
from harness.data.importers.import_options import LINK_MODES, ImportOptions
from harness.data.importers.import_report import ImportReport, ImportSourceError, RowProblem
from harness.data.importers.mig_bench import import_mig_bench
from harness.errors import HarnessError

Importer = Callable[[Path, Path, ImportOptions], ImportReport]

IMPORTERS: dict[str, Importer] = {
    "mig-bench": import_mig_bench,
    "coco-pairs": import_coco_pairs,
    "csv": import_csv,
}


def import_dataset(format_name: str, source: Path, out: Path, options: ImportOptions | None = None) -> ImportReport:
    """Convert `source` (in `format_name`) into a DiffGround dataset folder `out`."""
    if format_name not in IMPORTERS:
        raise HarnessError(f"no importer for format {format_name!r}; known formats: {', '.join(IMPORTERS)}")
    return IMPORTERS[format_name](Path(source), Path(out), options or ImportOptions())


__all__ = [
    "IMPORTERS",
    "LINK_MODES",
    "ImportOptions",
    "ImportReport",
    "ImportSourceError",
    "RowProblem",
    "import_dataset",
]
