"""What the harness learned about dataset files (sha256, decoded image size), kept across runs.

A fact is reused while the file's (size, mtime_ns, inode) is unchanged, the rule make and rsync
use, so a rerun skips re-hashing and re-decoding thousands of images. Only successes are kept:
a file that failed to decode is checked again next time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.files.atomic import write_text_atomic
from harness.files.hashing import file_sha256

STORE_VERSION = 1


def _stat_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


class FileFacts:
    """sha256 and image sizes of files, remembered in a JSON store (or only in memory)."""

    def __init__(self, store: Path | None = None) -> None:
        self.store = store
        self._facts: dict[str, dict[str, Any]] = {}
        self._dirty = False
        if store is not None and store.is_file():
            try:
                loaded = json.loads(store.read_text(encoding="utf-8"))
                if loaded.get("version") == STORE_VERSION:
                    self._facts = loaded["files"]
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                self._facts = {}  # a damaged cache is only a slower run

    def _entry(self, path: Path) -> dict[str, Any]:
        key = os.path.abspath(path)  # no symlink resolution: callers pass paths already checked
        stat = _stat_key(path)
        entry = self._facts.get(key)
        if entry is None or entry.get("stat") != stat:
            entry = {"stat": stat}
            self._facts[key] = entry
            self._dirty = True
        return entry

    def sha256(self, path: Path) -> str:
        path = Path(path)
        if not path.is_file():
            return f"missing:{path.name}"
        entry = self._entry(path)
        if "sha256" not in entry:
            entry["sha256"] = file_sha256(path)
            self._dirty = True
        return entry["sha256"]

    def image_size(self, path: Path, decode: Callable[[Path], tuple[int, int]]) -> tuple[int, int]:
        """`decode(path)` once per file version; its exceptions propagate and are not remembered."""
        path = Path(path)
        if not path.is_file():
            return decode(path)  # raises the loader's clear "not found" error
        entry = self._entry(path)
        if "image_size" not in entry:
            entry["image_size"] = list(decode(path))
            self._dirty = True
        width, height = entry["image_size"]
        return int(width), int(height)

    def save(self) -> None:
        if self.store is None or not self._dirty:
            return

        write_text_atomic(self.store, json.dumps({"version": STORE_VERSION, "files": self._facts}, sort_keys=True))
        self._dirty = False
