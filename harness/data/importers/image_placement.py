"""Source images into the dataset's `images/` folder: resolved, probed for size, then copied or hard-linked.

A path inside the source folder keeps its relative path under `images/` (so `x/001.png` and
`y/001.png` never collide); a path outside it (absolute, or `..`) goes under
`images/external/<hash of its folder>/`, since the manifest may only hold paths inside the dataset.

A format whose paths may be relative to another folder (MIG-Bench's are relative to the folder
above its JSON) gives `fallback_dirs`: a path not found under the source folder is looked for
under each of them in turn, and keeps its path relative to the folder it was found in.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from harness.data.images import load_image
from harness.data.importers.import_report import RowRejected
from harness.errors import ImageLoadError

IMAGES_DIR = "images"
EXTERNAL_DIR = "external"


@dataclass(frozen=True)
class SourceImage:
    path: Path  # the source file, absolute
    dest: str  # its path in the dataset, relative to the dataset root (posix)
    size: tuple[int, int]  # (width, height) as the harness sees it (after EXIF orientation)


def _normalised(path: Path) -> Path:
    # Lexical, not resolve(): a symlinked source folder should keep its own names.
    return Path(os.path.normpath(path.absolute()))


class ImagePlacer:
    """Turns source image references into dataset paths; each file is decoded and placed once."""

    def __init__(self, source_dir: Path, out: Path, link: str, fallback_dirs: Sequence[Path] = ()) -> None:
        self.source_dir = _normalised(source_dir)
        self.fallback_dirs = [_normalised(d) for d in fallback_dirs]
        self.out = out
        self.link = link
        self._probed: dict[Path, SourceImage | str] = {}  # source path -> image or error message
        self._placed: set[str] = set()
        self.hardlink_fallbacks = 0

    def _dest_for(self, path: Path, base: Path) -> str:
        try:
            rel = PurePosixPath(*path.relative_to(base).parts)
            return str(PurePosixPath(IMAGES_DIR) / rel)
        except ValueError:
            folder = hashlib.sha256(str(path.parent).encode("utf-8")).hexdigest()[:12]
            return str(PurePosixPath(IMAGES_DIR, EXTERNAL_DIR, folder, path.name))

    def probe(self, reference: Any, field: str) -> SourceImage:
        """The source image a row names; RowRejected if the reference is not a readable image."""
        if not isinstance(reference, str) or not reference.strip():
            raise RowRejected(field, f"must be an image path, got {reference!r}")
        path, base = self._locate(reference.strip())
        if path is None:
            tried = " and in ".join(str(d) for d in (self.source_dir, *self.fallback_dirs))
            raise RowRejected(field, f"cannot be used: file not found: looked for {reference.strip()!r} in {tried}")
        if path not in self._probed:
            try:
                # Full decode with EXIF orientation: the size must be the one the runner will see.
                size = load_image(path).size
                self._probed[path] = SourceImage(path=path, dest=self._dest_for(path, base), size=size)
            except ImageLoadError as exc:
                self._probed[path] = f"cannot be used: {exc}"
        found = self._probed[path]
        if isinstance(found, str):
            raise RowRejected(field, found)
        return found

    def _locate(self, reference: str) -> tuple[Path | None, Path]:
        """The file a reference names and the folder it is relative to: under the source folder, else
        under the first fallback folder that has it; (None, source folder) when no fallback has it.
        Without fallbacks the path under the source folder is returned as is (load_image says why
        it cannot be read)."""
        path = _normalised(self.source_dir / reference)
        if not self.fallback_dirs or path.exists():
            return path, self.source_dir
        for base in self.fallback_dirs:
            candidate = _normalised(base / reference)
            if candidate.exists():
                return candidate, base
        return None, self.source_dir

    def place(self, image: SourceImage) -> None:
        """Copy or hard-link the image into the dataset (once, however many rows use it)."""
        if image.dest in self._placed:
            return
        target = self.out / image.dest
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() and target.resolve() == image.path.resolve():
            pass  # importing in place: the source already is the dataset file
        elif self.link == "hardlink":
            if target.exists():
                target.unlink()
            try:
                os.link(image.path, target)
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                shutil.copyfile(image.path, target)
                self.hardlink_fallbacks += 1
        else:
            shutil.copyfile(image.path, target)
        self._placed.add(image.dest)

    @property
    def placed(self) -> int:
        return len(self._placed)
