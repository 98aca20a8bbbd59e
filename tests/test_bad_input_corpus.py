"""The bad-input corpus: each broken input gets a clear error naming its file and problem, and
every valid sample in the same dataset is still evaluated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.cli import main
from tests.tiny_dataset import write_tiny_dataset


def _image(path: Path, mode: str = "RGB", size: tuple[int, int] = (80, 64), **save) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if mode == "I;16":
        Image.fromarray((np.arange(size[0] * size[1]).reshape(size[::-1]) * 9).astype(np.uint16)).save(path)
    else:
        Image.new(mode, size, 128 if mode in ("L", "P") else None).save(path, **save)
    return f"images/{path.name}"


def _row(sample_id: str, a: str = "images/test-000_a.png", b: str = "images/test-000_b.png", **kw) -> dict:
    row = {"id": sample_id, "pair_id": sample_id, "split": "test", "image_a": a, "image_b": b}
    row.update({"query": "the thing that changed", "box": [5.0, 5.0, 30.0, 30.0], "edit_type": "remove"})
    row.update(kw)
    return row


def build_corpus(root: Path) -> tuple[set[str], dict[str, str]]:
    """Returns (ids that must be evaluated, {bad id or line: expected words in its problem})."""
    valid_rows = write_tiny_dataset(root, n_pairs=2)
    images = root / "images"
    truncated = images / "truncated.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:300])
    (images / "zero.png").write_bytes(b"")
    (images / "text.png").write_text("just text, not a picture")
    exif = Image.Exif()
    exif[0x0112] = 6
    good = {
        "gray": _row("gray", b=_image(images / "gray.png", "L")),
        "rgba": _row("rgba", a=_image(images / "rgba.png", "RGBA")),
        "deep": _row("deep", b=_image(images / "deep.png", "I;16")),
        "palette": _row("palette", a=_image(images / "pal.png", "P")),
        "exif": _row(
            "exif",
            a=_image(images / "rot_a.jpg", size=(64, 80), exif=exif),
            b=_image(images / "rot_b.jpg", size=(64, 80), exif=exif),
        ),
        "sizes": _row("sizes", a=_image(images / "big_a.png", size=(160, 128))),
        "unicode": _row("unicode", query="la pièce qui a changé, ünïcödé"),
        "emoji": _row("emoji", query="the 🍎 that vanished 🙈"),
        "rtl": _row("rtl", query="الشيء الذي اختفى"),
    }
    bad = {
        "truncated": (_row("truncated", b="images/truncated.png"), "cannot decode image"),
        "zero": (_row("zero", a="images/zero.png"), "empty (0 bytes)"),
        "text": (_row("text", b="images/text.png"), "not an image file"),
        "missing": (_row("missing", b="images/nope.png"), "file not found"),
        "bomb": (_row("bomb", b=_image(images / "bomb.png", size=(200, 200))), "too large"),
        "outside": (_row("outside", box=[10.0, 10.0, 90.0, 30.0]), "lies outside image B"),
        "escape": (_row("escape", a="../outside.png"), "escapes the dataset root"),
        "absolute": (_row("absolute", b="/etc/hosts"), "is absolute"),
        "long": (_row("long", query="x" * 10_000), "10000 characters long"),
        "empty": (_row("empty", query=""), "must not be empty"),
        "test-000-d0": (_row("test-000-d0"), "duplicates the id on line 1"),
        "no-box": ({k: v for k, v in _row("no-box").items() if k != "box"}, "'box' is missing"),
    }
    with (root / "manifest.jsonl").open("a", encoding="utf-8") as fh:
        for row in good.values():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        for row, _ in bad.values():
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.write('{"id": "broken", "split": "test", \n')
    expected = {sample_id: words for sample_id, (_, words) in bad.items()}
    expected["<json>"] = "is not valid JSON"
    return {r["id"] for r in valid_rows} | set(good), expected


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, set[str], dict[str, str]]:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 30000)  # bomb.png (200x200) trips it, 160x128 does not
    root = tmp_path / "corpus"
    valid, expected = build_corpus(root)
    return root, valid, expected


def test_validate_names_every_problem(corpus, capsys: pytest.CaptureFixture[str]) -> None:
    root, _, expected = corpus
    assert main(["data", "validate", str(root)]) == 1
    out = capsys.readouterr().out
    lines = out.splitlines()
    for key, words in expected.items():
        hits = [line for line in lines if (f"[sample {key}]" in line or f"'{key}'" in line) and words in line]
        assert hits, f"no clear problem line for {key!r} ({words!r}) in:\n{out}"
        assert all(line.startswith("manifest.jsonl:") for line in hits)
    assert "note: manifest.jsonl:" in out and "resized onto B's grid" in out  # A and B of different sizes


def test_run_skips_invalid_and_loses_nothing_valid(corpus, tmp_path: Path) -> None:
    root, valid, expected = corpus
    args = ["run", "--models", "pixel-diff", "--dataset", str(root), "--output-dir", str(tmp_path / "r")]
    assert main([*args, "--run-id", "refused"]) == 2
    assert main([*args, "--run-id", "ok", "--skip-invalid"]) == 0
    info = json.loads((tmp_path / "r" / "ok" / "run.json").read_text())
    assert info["dataset"]["n_samples"] == len(valid)
    assert info["dataset"]["invalid"]["count"] == len(expected)
    lines = (tmp_path / "r" / "ok" / "pixel-diff" / "predictions.jsonl").read_text(encoding="utf-8").splitlines()
    records = {r["id"]: r for r in map(json.loads, lines)}
    assert set(records) == valid
    assert not any(r.get("error") for r in records.values()), "valid odd images must load"
