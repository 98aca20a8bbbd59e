"""What an import did: rows read, imported, skipped and failed, with every failed row located and explained.

A skipped row is one the format holds but the importer does not convert by design (e.g. a
MIG-Bench record of a task that is not a two-image difference task): it is counted per reason
and group, never listed as a problem, and does not count as failed (so `--strict` accepts it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.data.manifest import Problem
from harness.errors import HarnessError


class ImportSourceError(HarnessError):
    """The source file cannot be read as the format at all (not JSON, wrong top-level shape, no header)."""


def read_source_text(source: Path) -> str:
    """The source file as text (UTF-8, a leading byte order mark dropped), or ImportSourceError
    saying whether it is missing, a folder, unreadable, or which line is not UTF-8."""
    source = Path(source)
    if source.is_dir():
        raise ImportSourceError(f"{source}: is a folder; the source must be a file (JSON or CSV)")
    if not source.exists():
        raise ImportSourceError(f"{source}: source file not found")
    try:
        raw = source.read_bytes()
    except OSError as exc:
        raise ImportSourceError(f"{source}: cannot read ({exc.strerror or exc})") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise ImportSourceError(
            f"{source}: line {line} is not UTF-8 text (byte 0x{bad}: {exc.reason}); re-save the file as UTF-8"
        ) from exc


class RowRejected(Exception):
    """Raised inside an importer's per-row code: this row cannot be converted, and why."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"field '{field}' {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class RowProblem:
    """One source row (record, CSV line, COCO annotation) that was not imported."""

    file: str
    location: str  # "record 3", "line 7", "annotations[4]": how a user finds the row in the source
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file} {self.location}: field '{self.field}' {self.message}"


@dataclass
class ImportReport:
    """The outcome of one import; `dataset.json` records its counts and problems."""

    format: str
    source: Path
    out: Path
    rows_read: int = 0
    imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    # reason -> group -> rows, e.g. {"not a two-image difference task": {"region": 1203, ...}}
    skipped: dict[str, dict[str, int]] = field(default_factory=dict)
    images_placed: int = 0
    hardlink_fallbacks: int = 0  # hardlinks that had to be copies (source on another filesystem)
    output_problems: list[Problem] = field(default_factory=list)  # the written dataset's own validation
    written: bool = False  # False when nothing was imported, or --strict and a row failed

    def skip(self, reason: str, group: str) -> None:
        """Count one row left out by design (not a failure)."""
        groups = self.skipped.setdefault(reason, {})
        groups[group] = groups.get(group, 0) + 1

    @property
    def skipped_total(self) -> int:
        return sum(n for groups in self.skipped.values() for n in groups.values())

    def skipped_lines(self) -> list[str]:
        """One line per reason: `N row(s) skipped (REASON): GROUP N, GROUP N` (largest group first)."""
        lines = []
        for reason, groups in self.skipped.items():
            counts = ", ".join(f"{g} {n}" for g, n in sorted(groups.items(), key=lambda gn: (-gn[1], gn[0])))
            lines.append(f"{sum(groups.values())} row(s) skipped ({reason}): {counts}")
        return lines

    @property
    def failed(self) -> int:
        """Rows neither imported nor skipped (problems may also name whole groups, e.g. a COCO pair, besides rows)."""
        return self.rows_read - self.imported - self.skipped_total

    @property
    def ok(self) -> bool:
        return self.imported > 0 and not self.output_problems
