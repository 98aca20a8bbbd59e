"""File facts: a rerun skips decoding and hashing unchanged files, and notices changed ones."""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from harness.data import validate
from harness.data.validate import validate_dataset
from harness.files.file_facts import FileFacts


def test_validation_reuses_facts_until_a_file_changes(tiny_dataset: Path, tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "facts.json"
    decoded: list[str] = []
    original = validate.load_image

    def counting(path):
        decoded.append(Path(path).name)
        return original(path)

    monkeypatch.setattr(validate, "load_image", counting)
    facts = FileFacts(store)
    assert validate_dataset(tiny_dataset, facts=facts).ok
    facts.save()
    first = len(decoded)
    assert first == 6
    facts = FileFacts(store)
    validate_dataset(tiny_dataset, facts=facts)
    assert len(decoded) == first, "unchanged files were decoded again"

    changed = tiny_dataset / "images" / "test-001_b.png"
    Image.new("RGB", (80, 64), (1, 2, 3)).save(changed)
    os.utime(changed, ns=(1, 1))  # a new mtime even on coarse clocks
    validate_dataset(tiny_dataset, facts=FileFacts(store))
    assert decoded[first:] == ["test-001_b.png"]


def test_sha256_is_cached_and_refreshed(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    facts = FileFacts(tmp_path / "facts.json")
    first = facts.sha256(path)
    facts.save()
    path.write_bytes(b"two!")
    assert FileFacts(tmp_path / "facts.json").sha256(path) != first
    assert facts.sha256(tmp_path / "missing") == "missing:missing"
    (tmp_path / "facts.json").write_text("{broken")
    assert FileFacts(tmp_path / "facts.json").sha256(path)  # a damaged store is only a slower run
