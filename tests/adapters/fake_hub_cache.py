"""A Hugging Face hub cache built by hand in a temporary folder, so hub model ids resolve offline.

The layout is the one `huggingface_hub` writes: `models--ORG--NAME/snapshots/<commit>/FILES` and
`models--ORG--NAME/refs/<branch or tag>` holding the commit. Files are plain copies (the real cache
links them to `blobs/`; `snapshot_download` only looks for the snapshot folder).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

COMMIT_MAIN = "1" * 40
COMMIT_V2 = "2" * 40


def add_snapshot(
    cache: Path, repo_id: str, commit: str, refs: tuple[str, ...] = ("main",), files_from: Path | None = None
) -> Path:
    """Add `repo_id` at `commit` (the files of `files_from`, else a bare config.json), point each ref
    at it, and return the snapshot folder."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    if files_from is not None:
        shutil.copytree(files_from, snapshot)
    else:
        snapshot.mkdir(parents=True)
        (snapshot / "config.json").write_text("{}", encoding="utf-8")
    for ref in refs:
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit, encoding="utf-8")
    return snapshot


def use_fake_hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HF hub cache under `tmp_path` that `snapshot_download` uses from now to the end of
    the test, with the hub unreachable (offline mode); test modules wrap it in a fixture.

    `huggingface_hub` reads HF_HUB_CACHE and HF_HUB_OFFLINE when imported, so the module constants
    are patched as well as the environment (which subprocesses and late imports read).
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import reset_sessions

    cache = tmp_path / "hf-hub-cache"
    cache.mkdir()
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    reset_sessions()  # sessions made before now would not know about offline mode
    return cache
