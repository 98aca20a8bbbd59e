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


# ---- manifest encoding, empty manifests, unknown edit types ----


def _flat(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())


def test_non_utf8_line_costs_only_that_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ds"
    valid = write_tiny_dataset(root, n_pairs=2)
    teleport = _row("teleported", edit_type="teleport")
    with (root / "manifest.jsonl").open("ab") as fh:
        fh.write(json.dumps(_row("latin1", query="caf\u00e9")).replace("\\u00e9", "\xe9").encode("latin-1") + b"\n")
        fh.write(json.dumps(teleport).encode() + b"\n")
    bad_line, teleport_line = len(valid) + 1, len(valid) + 2

    assert main(["data", "validate", str(root)]) == 1
    out = capsys.readouterr().out
    assert f"manifest.jsonl:{bad_line} [sample latin1]: field '<encoding>' is not UTF-8 text: byte 0xe9" in out
    warning = next(line for line in out.splitlines() if line.startswith("warning:"))
    assert warning.startswith(f"warning: manifest.jsonl:{teleport_line} [sample teleported]: field 'edit_type'")
    assert "'teleport'" in warning and "appearance, replace, remove, add, unknown" in warning

    args = ["run", "--models", "pixel-diff", "--dataset", str(root), "--output-dir", str(tmp_path / "r")]
    assert main([*args, "--run-id", "ok", "--skip-invalid"]) == 0
    info = json.loads((tmp_path / "r" / "ok" / "run.json").read_text())
    assert info["dataset"]["n_samples"] == len(valid) + 1
    assert info["dataset"]["invalid"]["count"] == 1
    metrics = json.loads((tmp_path / "r" / "ok" / "pixel-diff" / "metrics.json").read_text())
    assert set(metrics["metrics"]["by"]["edit_type"]) == {"add", "remove", "teleport"}


def test_utf8_byte_order_mark_is_accepted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ds"
    valid = write_tiny_dataset(root, n_pairs=1)
    manifest = root / "manifest.jsonl"
    manifest.write_bytes(b"\xef\xbb\xbf" + manifest.read_bytes())
    assert main(["data", "validate", str(root)]) == 0
    assert f"{len(valid)} valid samples, no problems." in _flat(capsys.readouterr().out)


@pytest.mark.parametrize("content", ["", "\n  \n\n"])
def test_manifest_without_rows_fails_validation(
    tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "manifest.jsonl").write_text(content, encoding="utf-8")
    assert main(["data", "validate", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "manifest.jsonl: field '<file>' has no samples" in out


def test_split_without_samples_fails_validation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_tiny_dataset(tmp_path, n_pairs=1)
    assert main(["data", "validate", str(tmp_path), "--split", "val"]) == 1
    assert "no samples in" in _flat(capsys.readouterr().out)


def test_missing_manifest_points_to_files_that_exist(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "validate", str(tmp_path)]) == 2
    err = _flat(capsys.readouterr().err)
    assert f"{tmp_path / 'manifest.jsonl'}: no manifest" in err
    assert "harness/data/schema.py" in err and "DESIGN" not in err
    repo = Path(__file__).resolve().parents[1]
    assert (repo / "harness" / "data" / "schema.py").is_file()
    missing_doc = "DESIGN" + ".md"  # a document name the repository does not have
    cited = [
        str(path.relative_to(repo))
        for folder in ("harness", "adapters", "difftracker")
        for path in (repo / folder).rglob("*.py")
        if missing_doc in path.read_text(encoding="utf-8")
    ]
    assert not cited, f"these cite {missing_doc}, which is not in the repository: {cited}"


# ---- weights files ----


def _siamese(weights: Path):
    from idg_adapters.cd_siamese import SiameseChangeDetectorAdapter

    return SiameseChangeDetectorAdapter(weights=str(weights))


def _committed_siamese() -> tuple[Path, Path]:
    from idg_adapters.cd_siamese import DEFAULT_WEIGHTS
    from idg_adapters.checkpoint_files import CHECKPOINT_DIR

    weights = CHECKPOINT_DIR / DEFAULT_WEIGHTS
    return weights, weights.with_suffix(".json")


def test_weights_folder_is_called_a_folder(tmp_path: Path) -> None:
    from idg_adapters.base import AdapterUnavailable

    folder = tmp_path / "weights.safetensors"
    folder.mkdir()
    with pytest.raises(AdapterUnavailable) as info:
        _siamese(folder).load("cpu")
    assert f"weights path {folder} (--opt cd-siamese.weights) is a folder" in info.value.reason
    assert "a weights file is expected" in info.value.reason and "not found" not in info.value.reason


def test_malformed_provenance_json_is_named(tmp_path: Path) -> None:
    import shutil

    from idg_adapters.base import AdapterUnavailable

    weights, _ = _committed_siamese()
    copied = tmp_path / "model.safetensors"
    shutil.copyfile(weights, copied)
    (tmp_path / "model.json").write_text('{"model": {"image_size": 64,\n  "network": }', encoding="utf-8")
    with pytest.raises(AdapterUnavailable) as info:
        _siamese(copied).load("cpu")
    assert f"provenance file {tmp_path / 'model.json'} is not valid JSON" in info.value.reason
    assert "line 2, column" in info.value.reason


def test_wrong_architecture_weights_are_summarised(tmp_path: Path) -> None:
    import shutil

    import torch
    from safetensors.torch import save_file

    from idg_adapters.base import AdapterUnavailable

    _, provenance = _committed_siamese()
    weights = tmp_path / "other.safetensors"
    save_file({f"backbone.blocks.{i}.weight": torch.zeros(2) for i in range(1500)}, weights)
    shutil.copyfile(provenance, weights.with_suffix(".json"))
    with pytest.raises(AdapterUnavailable) as info:
        _siamese(weights).load("cpu")
    reason = info.value.reason
    assert str(weights) in reason and "does not fit" in reason
    assert "unexpected 1500 (e.g. backbone.blocks.0.weight" in reason and "missing " in reason
    assert len(reason) < 1500 and reason.count("\n") == 0


# ---- imports ----


def test_strict_import_with_a_failed_row_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.data.import_sources import write_mig_bench

    source, _ = write_mig_bench(tmp_path / "src")
    fresh = tmp_path / "fresh"
    assert main(["data", "import", "mig-bench", str(source), "--out", str(fresh), "--strict"]) == 1
    assert f"nothing was written to {fresh}" in _flat(capsys.readouterr().out)
    assert not fresh.exists()

    existing = tmp_path / "existing"
    (existing / "images").mkdir(parents=True)
    (existing / "manifest.jsonl").write_text("kept\n", encoding="utf-8")
    (existing / "images" / "old.png").write_bytes(b"old")
    argv = ["data", "import", "mig-bench", str(source), "--out", str(existing), "--overwrite", "--strict"]
    assert main(argv) == 1
    assert (existing / "manifest.jsonl").read_text(encoding="utf-8") == "kept\n"
    assert sorted(p.name for p in existing.rglob("*")) == ["images", "manifest.jsonl", "old.png"]


def test_import_help_offers_only_link_modes_that_work(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["data", "import", "--help"])
    help_text = capsys.readouterr().out
    assert "{copy,hardlink}" in help_text and "symlink" not in help_text


@pytest.mark.parametrize("format_name", ["csv", "mig-bench", "coco-pairs"])
def test_missing_or_folder_import_source_is_named(
    tmp_path: Path, format_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.data"
    assert main(["data", "import", format_name, str(missing), "--out", str(tmp_path / "o")]) == 2
    assert f"{missing}: source file not found" in _flat(capsys.readouterr().err)
    assert main(["data", "import", format_name, str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert f"{tmp_path}: is a folder; the source must be a file" in _flat(capsys.readouterr().err)
    assert not (tmp_path / "o").exists()


def test_import_source_not_utf8_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "pairs.csv"
    source.write_bytes(b"image_a,image_b,query,x1,y1,x2,y2\na.png,b.png,caf\xe9,1,1,5,5\n")
    assert main(["data", "import", "csv", str(source), "--out", str(tmp_path / "o")]) == 2
    assert f"{source}: line 2 is not UTF-8 text (byte 0xe9" in _flat(capsys.readouterr().err)


def test_mig_bench_records_are_numbered_from_one(tmp_path: Path) -> None:
    from harness.data.importers import import_dataset

    source = tmp_path / "mig.json"
    source.write_text(json.dumps([{"images": ["a.png"], "question": "q", "answer": [0, 0, 1, 1]}]), encoding="utf-8")
    report = import_dataset("mig-bench", source, tmp_path / "out")
    assert [str(p) for p in report.problems] == [
        "mig.json record 1: field 'images' must list exactly two images (A, B), got 1"
    ]


# ---- pairs, output paths, run ids ----


def test_one_pair_id_naming_two_image_pairs_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "ds"
    rows = write_tiny_dataset(root, n_pairs=2)
    rows[3]["pair_id"] = rows[0]["pair_id"]  # a row of the second pair claims the first pair's id
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert main(["data", "validate", str(root)]) == 1
    out = _flat(capsys.readouterr().out)
    assert f"manifest.jsonl:4 [sample {rows[3]['id']}]: field 'image_a'" in out
    assert f"line 1 (sample {rows[0]['id']}) gives pair_id {rows[0]['pair_id']!r}" in out


def _run_args(dataset: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--models", "center-prior", "--dataset", str(dataset), "--output-dir", str(out), *extra]


def test_output_paths_under_a_file_are_refused(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "some_file"
    a_file.write_text("not a folder")
    assert main(_run_args(tiny_dataset, a_file / "out")) == 2
    err = _flat(capsys.readouterr().err)
    assert f"--output-dir {a_file / 'out'}: lies under {a_file}, which is a file, not a folder" in err
    assert main(_run_args(tiny_dataset, a_file)) == 2
    assert f"--output-dir {a_file}: is a file" in _flat(capsys.readouterr().err)
    results = tmp_path / "results"
    assert main(_run_args(tiny_dataset, results, "--run-id", "r")) == 0
    assert main(["report", str(results / "r"), "--out", str(a_file / "rep")]) == 2
    assert f"--out {a_file / 'rep'}: lies under {a_file}" in _flat(capsys.readouterr().err)
    assert main(["data", "synth", "--out", str(a_file / "ds")]) == 2
    assert "--out" in capsys.readouterr().err


@pytest.mark.parametrize("run_id", ["../x", "/tmp/abs", "a/b", "..", ".hidden", "a..b", ""])
def test_run_ids_are_plain_names(
    tiny_dataset: Path, tmp_path: Path, run_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "nested" / "results"
    assert main(_run_args(tiny_dataset, results, "--run-id", run_id)) == 2
    assert f"--run-id {run_id!r}: must be a plain folder name" in _flat(capsys.readouterr().err)
    assert not (tmp_path / "x").exists() and not (tmp_path / "nested" / "x").exists()


def test_reusing_a_run_id_for_another_dataset_needs_force(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other"
    write_tiny_dataset(other, n_pairs=2)
    results = tmp_path / "results"
    assert main(_run_args(tiny_dataset, results, "--run-id", "r")) == 0
    assert main(_run_args(tiny_dataset, results, "--run-id", "r")) == 0  # the same dataset: a resume
    first_fingerprint = json.loads((results / "r" / "run.json").read_text())["dataset"]["fingerprint"]
    assert main(_run_args(other, results, "--run-id", "r")) == 2
    err = _flat(capsys.readouterr().err)
    assert "holds a run of another dataset or split" in err and "--force" in err
    assert json.loads((results / "r" / "run.json").read_text())["dataset"]["fingerprint"] == first_fingerprint
    (results / "r" / "stale-model").mkdir()
    args = ["run", "--models", "pixel-diff", "--dataset", str(other), "--output-dir", str(results)]
    assert main([*args, "--run-id", "r", "--force"]) == 0
    info = json.loads((results / "r" / "run.json").read_text())
    assert info["dataset"]["fingerprint"] != first_fingerprint and info["dataset"]["n_samples"] == 4
    assert sorted(p.name for p in (results / "r").iterdir() if p.is_dir()) == ["pixel-diff"]
