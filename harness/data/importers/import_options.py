"""Options every importer takes: how images are placed, the default split, and overwrite."""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import HarnessError

LINK_MODES: tuple[str, ...] = ("copy", "hardlink", "symlink")


@dataclass(frozen=True)
class ImportOptions:
    link: str = "copy"
    split: str = "test"  # for rows whose source names no split
    overwrite: bool = False
    name: str | None = None  # dataset name in dataset.json (default: the output folder's name)
    normalized: bool = False  # CSV only: x1..y2 are fractions 0-1 of B's size, not pixels

    def check(self) -> None:
        if self.link not in LINK_MODES:
            raise HarnessError(f"--link must be one of {', '.join(LINK_MODES)}, got {self.link!r}")
        if self.link == "symlink":
            # resolve_dataset_path follows links and refuses any that leave the dataset root (a
            # safety rule the validator and runner rely on), so a symlinked dataset would not load.
            raise HarnessError(
                "--link symlink is not supported: the harness refuses image paths that resolve outside the "
                "dataset folder, so symlinked images would fail `harness data validate`. "
                "Use --link hardlink to avoid copying (same filesystem), or --link copy."
            )
        if not self.split.strip():
            raise HarnessError("--split must not be empty")
