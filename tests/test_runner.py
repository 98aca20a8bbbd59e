"""The runner end to end on a tiny dataset: run folder, cache/resume, error isolation, skips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from rich.console import Console

from harness.errors import DatasetInvalid
from harness.run.run_config import RunConfig
from harness.run.runner import run_evaluation
from idg_adapters.base import Adapter, AdapterUnavailable, PairInput, Prediction
from idg_adapters.registry import register, unregister

QUIET = Console(quiet=True)


class _Recording(Adapter):
    """Answers a fixed box; remembers which ids it was asked about (to prove caching)."""

    uses_query = False
    asked: ClassVar[list[str]] = []

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        type(self).asked.extend(item.id for item in batch)
        return [Prediction.ranked([[0, 0, 40, 32], [10, 10, 20, 20]], [0.9, 0.5]) for _ in batch]


class _Faulty(Adapter):
    """Misbehaves per sample id so each rule of prediction_record is exercised."""

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        if any(item.id == "test-000-d0" for item in batch):
            raise RuntimeError("boom on test-000-d0")
        out = []
        for item in batch:
            if item.id == "test-000-d1":
                out.append(Prediction(boxes=[[np.nan, 0, 1, 1]], scores=[1.0]))
            elif item.id == "test-001-d0":
                out.append(Prediction(boxes=[[30, 5, 10, 20]], scores=[1.0]))
            elif item.id == "test-001-d1":
                out.append(Prediction(boxes=[[-5, -5, 500, 500]], scores=[1.0]))
            else:
                out.append(Prediction.failed("model said no"))
        return out


class _WrongCount(Adapter):
    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return []


class _NeedsWeights(Adapter):
    def check(self) -> None:
        raise AdapterUnavailable("no weights given", "--opt test-needs-weights.weights=PATH")

    def predict(self, batch: list[PairInput]) -> list[Prediction]:  # pragma: no cover - never loaded
        raise AssertionError


class _InterruptAfterOneBatch(Adapter):
    calls: ClassVar[int] = 0

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        type(self).calls += 1
        if type(self).calls == 2:
            raise KeyboardInterrupt
        return [Prediction.ranked([[0, 0, 10, 10]], [1.0]) for _ in batch]


TEST_ADAPTERS = {
    "test-recording": _Recording,
    "test-faulty": _Faulty,
    "test-wrong-count": _WrongCount,
    "test-needs-weights": _NeedsWeights,
    "test-interrupt": _InterruptAfterOneBatch,
}


@pytest.fixture(autouse=True)
def registered():
    for name, cls in TEST_ADAPTERS.items():
        register(name)(cls)
    _Recording.asked = []
    _InterruptAfterOneBatch.calls = 0
    yield
    for name in TEST_ADAPTERS:
        unregister(name)


def _config(dataset: Path, out: Path, models: list[str], **kw) -> RunConfig:
    return RunConfig(models=models, split="test", dataset=dataset, output_dir=out, device="cpu", **kw)


def _predictions(run_dir: Path, model: str) -> list[dict]:
    lines = (run_dir / model / "predictions.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_run_folder_contents(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_evaluation(_config(tiny_dataset, tmp_path / "res", ["pixel-diff", "test-recording"]), QUIET)
    info = json.loads((result.run_dir / "run.json").read_text())
    assert info["status"] == "complete"
    assert info["dataset"]["n_samples"] == 6 and len(info["dataset"]["fingerprint"]) == 64
    assert info["environment"]["packages"]["numpy"]
    assert info["models"]["pixel-diff"]["computed"] == 6
    preds = _predictions(result.run_dir, "pixel-diff")
    assert [p["id"] for p in preds] == [f"test-{i:03d}-d{k}" for i in range(3) for k in range(2)]
    metrics = json.loads((result.run_dir / "pixel-diff" / "metrics.json").read_text())
    assert metrics["metrics"]["overall"]["n"] == 6
    assert _predictions(result.run_dir, "test-recording")[0]["boxes"] == [
        [0.0, 0.0, 40.0, 32.0],
        [10.0, 10.0, 20.0, 20.0],
    ]


def test_rerun_recomputes_nothing_and_gives_identical_files(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    first = run_evaluation(_config(tiny_dataset, out, ["test-recording", "pixel-diff"]), QUIET)
    assert len(_Recording.asked) == 6
    second = run_evaluation(_config(tiny_dataset, out, ["test-recording", "pixel-diff"]), QUIET)
    assert len(_Recording.asked) == 6, "cached samples were recomputed"
    volatile = ("seconds", "ms_per_computed_sample", "samples_per_second", "peak_rss_mb", "computed", "cached")
    first_info = {k: v for k, v in first.run_info.to_json()["models"]["pixel-diff"].items() if k not in volatile}
    second_info = {k: v for k, v in second.run_info.to_json()["models"]["pixel-diff"].items() if k not in volatile}
    assert first_info == second_info
    assert second.run_info.to_json()["models"]["pixel-diff"]["cached"] == 6
    for model in ("test-recording", "pixel-diff"):
        for name in ("predictions.jsonl",):
            assert (first.run_dir / model / name).read_bytes() == (second.run_dir / model / name).read_bytes()
        m1 = json.loads((first.run_dir / model / "metrics.json").read_text())["metrics"]
        m2 = json.loads((second.run_dir / model / "metrics.json").read_text())["metrics"]
        assert m1 == m2
    run_evaluation(_config(tiny_dataset, out, ["test-recording"], use_cache=False), QUIET)
    assert len(_Recording.asked) == 12


def test_changed_options_do_not_reuse_the_cache(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    run_evaluation(_config(tiny_dataset, out, ["pixel-diff"]), QUIET)
    again = run_evaluation(
        _config(tiny_dataset, out, ["pixel-diff"], adapter_options={"pixel-diff": {"max_boxes": 1}}), QUIET
    )
    assert again.run_info.to_json()["models"]["pixel-diff"]["computed"] == 6


def test_interrupted_run_resumes_without_recomputing(tiny_dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    with pytest.raises(KeyboardInterrupt):
        run_evaluation(_config(tiny_dataset, out, ["test-interrupt"], batch_size=2), QUIET)
    interrupted = [d for d in out.iterdir() if d.name != ".cache"][0]
    assert json.loads((interrupted / "run.json").read_text())["status"] == "interrupted"
    assert len(_predictions(interrupted, "test-interrupt")) == 2  # the first batch was flushed
    resumed = run_evaluation(_config(tiny_dataset, out, ["test-interrupt"], batch_size=2), QUIET)
    assert resumed.run_info.to_json()["models"]["test-interrupt"]["cached"] == 2
    assert resumed.run_info.to_json()["models"]["test-interrupt"]["computed"] == 4
    assert len(_predictions(resumed.run_dir, "test-interrupt")) == 6


def test_faulty_adapter_errors_are_recorded_and_run_goes_on(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_evaluation(_config(tiny_dataset, tmp_path / "res", ["test-faulty", "pixel-diff"], batch_size=4), QUIET)
    preds = {p["id"]: p for p in _predictions(result.run_dir, "test-faulty")}
    assert "boom on test-000-d0" in preds["test-000-d0"]["error"]
    assert "non-finite" in preds["test-000-d1"]["error"]
    assert "flipped" in preds["test-001-d0"]["error"]
    assert preds["test-001-d1"]["boxes"] == [[0.0, 0.0, 80.0, 64.0]] and preds["test-001-d1"]["clipped"]
    assert preds["test-002-d0"]["error"] == "model said no"
    assert result.run_info.to_json()["models"]["test-faulty"]["errors"] == 5
    assert result.run_info.to_json()["models"]["pixel-diff"]["status"] == "done"
    metrics = json.loads((result.run_dir / "test-faulty" / "metrics.json").read_text())["metrics"]
    assert metrics["errors"] == 5


def test_wrong_prediction_count_is_an_error_per_sample(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_evaluation(_config(tiny_dataset, tmp_path / "res", ["test-wrong-count"]), QUIET)
    preds = _predictions(result.run_dir, "test-wrong-count")
    assert len(preds) == 6 and all("0 predictions for a batch" in p["error"] for p in preds)


def test_unavailable_adapter_is_skipped_with_reason(tiny_dataset: Path, tmp_path: Path) -> None:
    result = run_evaluation(_config(tiny_dataset, tmp_path / "res", ["all"]), QUIET)
    entry = result.run_info.to_json()["models"]["test-needs-weights"]
    assert entry["status"] == "skipped"
    assert entry["reason"] == "no weights given"
    assert entry["how_to_enable"] == "--opt test-needs-weights.weights=PATH"
    assert result.run_info.to_json()["models"]["center-prior"]["status"] == "done"


def test_batch_size_does_not_change_results(tiny_dataset: Path, tmp_path: Path) -> None:
    runs = [
        run_evaluation(_config(tiny_dataset, tmp_path / f"res{bs}", ["pixel-diff", "random-box"], batch_size=bs), QUIET)
        for bs in (1, 4)
    ]
    for model in ("pixel-diff", "random-box"):
        assert _predictions(runs[0].run_dir, model) == _predictions(runs[1].run_dir, model)


def test_invalid_dataset_refused_unless_skip_invalid(tiny_dataset: Path, tmp_path: Path) -> None:
    with (tiny_dataset / "manifest.jsonl").open("a") as fh:
        fh.write('{"id": "bad", "split": "test"}\n')
    with pytest.raises(DatasetInvalid, match=r"manifest.jsonl:7 \[sample bad\]: field 'pair_id' is missing"):
        run_evaluation(_config(tiny_dataset, tmp_path / "res", ["center-prior"]), QUIET)
    result = run_evaluation(_config(tiny_dataset, tmp_path / "res", ["center-prior"], skip_invalid=True), QUIET)
    assert result.run_info.to_json()["dataset"]["invalid"]["count"] == 1
    assert result.run_info.to_json()["dataset"]["n_samples"] == 6
    assert any("pair_id" in p for p in result.run_info.to_json()["dataset"]["invalid"]["problems"])


def test_unreadable_image_is_an_error_for_that_sample_only(tiny_dataset: Path, tmp_path: Path) -> None:
    # Corrupt the image after validation would pass it: the runner must still record, not crash.
    result_dir = tmp_path / "res"
    config = _config(tiny_dataset, result_dir, ["center-prior"])
    from harness.run import pair_loader

    original = pair_loader.load_pair

    def flaky(root, a, b, cache=None):
        if "test-001" in a:
            from harness.errors import ImageLoadError

            raise ImageLoadError(f"{a}: cannot decode image")
        return original(root, a, b, cache)

    pair_loader.load_pair = flaky
    try:
        result = run_evaluation(config, QUIET)
    finally:
        pair_loader.load_pair = original
    preds = {p["id"]: p for p in _predictions(result.run_dir, "center-prior")}
    assert preds["test-001-d0"]["error"].startswith("input: images/test-001_a.png")
    assert "error" not in preds["test-000-d0"]


def test_extra_strata_from_manifest_attributes(tmp_path: Path) -> None:
    from tests.tiny_dataset import write_tiny_dataset

    root = tmp_path / "ds"
    rows = write_tiny_dataset(root)
    lines = []
    for i, row in enumerate(rows):
        if i % 3:
            row["attributes"] = {"lighting": "dark" if i % 2 else "bright"}
        lines.append(json.dumps(row))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    result = run_evaluation(_config(root, tmp_path / "res", ["pixel-diff"], extra_strata=["lighting"]), QUIET)
    by = result.models[0].metrics["by"]
    assert set(by) == {"edit_type", "size", "lighting"}
    assert {k: v["n"] for k, v in by["lighting"].items()} == {"bright": 2, "dark": 2, "unknown": 2}


def test_loader_workers_give_identical_predictions(tiny_dataset: Path, tmp_path: Path) -> None:
    runs = [
        run_evaluation(
            _config(tiny_dataset, tmp_path / f"w{w}", ["pixel-diff"], batch_size=2, loader_workers=w, use_cache=False),
            QUIET,
        )
        for w in (0, 2)
    ]
    assert _predictions(runs[0].run_dir, "pixel-diff") == _predictions(runs[1].run_dir, "pixel-diff")


def test_result_files_are_readable_by_others(tiny_dataset: Path, tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        result = run_evaluation(_config(tiny_dataset, tmp_path / "res", ["center-prior"]), QUIET)
    finally:
        os.umask(old)
    for path in (result.run_dir / "run.json", result.run_dir / "center-prior" / "metrics.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
