"""Output folders named on the command line: checked before anything is written to them.

A path that is, or lies under, an existing file cannot become a folder; the error names the
option and the file in the way instead of surfacing as NotADirectoryError halfway through a run.
"""

from __future__ import annotations

from pathlib import Path

from harness.errors import HarnessError


def check_output_folder(path: Path, option: str) -> Path:
    """`path` if it is a folder or could be made one; else a HarnessError naming `option`."""
    path = Path(path)
    for candidate in (path, *path.parents):
        if candidate.exists() or candidate.is_symlink():
            if not candidate.is_dir():
                where = "is a file" if candidate == path else f"lies under {candidate}, which is a file"
                raise HarnessError(f"{option} {path}: {where}, not a folder; choose another path")
            break
    return path


def make_output_folder(path: Path, option: str) -> Path:
    """Create `path` (and its parents) as a folder, with an error naming `option` if it cannot be."""
    path = check_output_folder(path, option)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HarnessError(f"{option} {path}: cannot create the folder ({exc.strerror or exc})") from None
    return path
