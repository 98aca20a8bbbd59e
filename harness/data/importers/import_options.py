"""Options every importer takes: how images are placed, the default split, overwrite and strict."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import HarnessError

# No symlink mode: the harness refuses image paths that resolve outside the dataset folder
# (harness/data/images.py), so a symlinked image would fail `harness data validate`.
LINK_MODES: tuple[str, ...] = ("copy", "hardlink")


@dataclass(frozen=True)
class ImportOptions:
    link: str = "copy"
    split: str = "test"  # for rows whose source names no split
    overwrite: bool = False
    name: str | None = None  # dataset name in dataset.json (default: the output folder's name)
    normalized: bool = False  # CSV only: x1..y2 are fractions 0-1 of B's size, not pixels
    strict: bool = False  # any failed row: write nothing (and leave an existing --out as it was)

    def check(self) -> None:
        if self.link not in LINK_MODES:
            raise HarnessError(
                f"--link must be one of {', '.join(LINK_MODES)}, got {self.link!r} "
                "(use --link hardlink to avoid copying on the same filesystem)"
            )
        if not self.split.strip():
            raise HarnessError("--split must not be empty")
