"""`harness score`: predictions made elsewhere, read in each format, scored into run folders and reports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.files.hashing import file_sha256
from harness.run.run_lock import RunLock
from harness.run.run_records import ModelEntry, read_run_info
from tests.score_argv import score_argv
from tests.tiny_dataset import write_tiny_dataset

W, H = 80, 64  # the size of every image B of the tiny dataset


class BaseRun:
    """A `harness run` of pixel-diff and center-prior (center-prior also under query-shuffle)."""

    def __init__(self, root: Path) -> None:
        self.dataset = root / "tiny"
        self.rows = write_tiny_dataset(self.dataset)
        self.results = root / "results"
        self.run_dir = self.results / "base"
        argv = ["run", "--models", "pixel-diff,center-prior", "--dataset", str(self.dataset), "--split", "test"]
        argv += ["--output-dir", str(self.results), "--run-id", "base", "--loader-workers", "0"]
        assert main([*argv, "--control", "query-shuffle"]) == 0

    def records(self, model: str) -> list[dict[str, Any]]:
        lines = (self.run_dir / model / "predictions.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines]

    def metrics(self, model: str) -> dict[str, Any]:
        return json.loads((self.run_dir / model / "metrics.json").read_text())["metrics"]

    def score(self, path: Path, name: str, *extra: str) -> int:
        argv = ["score", str(path), "--dataset", str(self.dataset), "--split", "test", "--name", name]
        return main([*argv, "--output-dir", str(self.results), "--run-id", "base", *extra])


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> BaseRun:
    return BaseRun(tmp_path_factory.mktemp("score"))


CSV_HEAD = "id,x1,y1,x2,y2\n"


# -- exporting a run's predictions into each format ------------------------------------------------


def to_jsonl(records: list[dict], dataset_rows: list[dict]) -> str:
    return "".join(json.dumps({"id": r["id"], "boxes": r["boxes"], "scores": r["scores"]}) + "\n" for r in records)


def to_csv(records: list[dict], dataset_rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "x1", "y1", "x2", "y2", "score"])
    for r in reversed(records):  # row order does not matter when scores are given
        for box, score in reversed(list(zip(r["boxes"], r["scores"], strict=True))):
            writer.writerow([r["id"], *(repr(v) for v in box), repr(score)])
    return out.getvalue()


def to_text_plain(records: list[dict], dataset_rows: list[dict]) -> str:
    replies = [{"id": r["id"], "reply": " then ".join(json.dumps(b) for b in r["boxes"])} for r in records]
    return "".join(json.dumps(r) + "\n" for r in replies)


def _thousandths(box: list[float]) -> list[int]:
    return [round(box[0] / W * 1000), round(box[1] / H * 1000), round(box[2] / W * 1000), round(box[3] / H * 1000)]


def to_text_internvl2(records: list[dict], dataset_rows: list[dict]) -> str:
    replies = [
        {"id": r["id"], "reply": f"<ref>it</ref><box>{json.dumps([_thousandths(b) for b in r['boxes']])}</box>"}
        for r in records
    ]
    return "".join(json.dumps(r) + "\n" for r in replies)


def to_mig_bench(records: list[dict], dataset_rows: list[dict], dataset: Path) -> str:
    by_id = {row["id"]: row for row in dataset_rows}
    out = []
    for r in records:
        row = by_id[r["id"]]
        images = [str(dataset / row["image_a"]), str(dataset / row["image_b"])]  # absolute paths
        reply = "".join(f"<box>{json.dumps(b)}</box>" for b in r["boxes"])
        out.append({"task": "static_diff", "question": row["query"], "images": images, "response": reply})
    return json.dumps(out, indent=1)


def without_ap50(block: Any) -> Any:
    """The metrics without AP50, which ranks by scores across samples (replies carry no scores)."""
    if isinstance(block, dict):
        return {k: without_ap50(v) for k, v in block.items() if k != "ap50"}
    return block


def close(a: Any, b: Any, tol: float) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol
    return a == b


Exporter = Callable[[list[dict], list[dict]], str]
ROUND_TRIPS: list[tuple[str, Exporter, list[str], str]] = [
    # (case, exporter, score options, how metrics compare)
    ("jsonl", to_jsonl, [], "equal"),
    ("csv", to_csv, ["--format", "csv"], "equal"),
    ("text-plain", to_text_plain, ["--format", "text", "--convention", "plain", "--boxes", "pixels"], "no-ap50"),
    ("text-internvl2", to_text_internvl2, ["--format", "text", "--convention", "internvl2"], "rounded"),
]


@pytest.mark.parametrize("model", ["pixel-diff", "center-prior"])
@pytest.mark.parametrize(("case", "export", "options", "compare"), ROUND_TRIPS, ids=[c[0] for c in ROUND_TRIPS])
def test_round_trip_gives_the_runs_metrics(
    base: BaseRun, model: str, case: str, export: Exporter, options: list[str], compare: str
) -> None:
    path = base.results.parent / f"{model}-{case}.txt"
    path.write_text(export(base.records(model), base.rows))
    name = f"{model}-from-{case}"
    assert base.score(path, name, *options) == 0
    original, scored = base.metrics(model), base.metrics(name)
    if compare == "equal":
        assert scored == original
    elif compare == "no-ap50":  # exact boxes, no scores
        assert without_ap50(scored) == without_ap50(original)
    else:  # the 0-1000 grid moves a corner by at most half a thousandth of B's side
        assert close(without_ap50(scored), without_ap50(original), tol=0.02)


@pytest.mark.parametrize("model", ["pixel-diff", "center-prior"])
def test_mig_bench_round_trip_matches_records_by_images_and_question(base: BaseRun, model: str) -> None:
    path = base.results.parent / f"{model}-mig.json"
    path.write_text(to_mig_bench(base.records(model), base.rows, base.dataset))
    name = f"{model}-from-mig"
    assert base.score(path, name, "--format", "mig-bench", "--convention", "mantis", "--boxes", "pixels") == 0
    assert without_ap50(base.metrics(name)) == without_ap50(base.metrics(model))
    records = base.records(name)
    assert [r["id"] for r in records] == [r["id"] for r in base.records(model)]
    assert all(r["reply"].startswith("<box>[") for r in records)


def test_joining_a_run_records_provenance_and_leaves_its_models_alone(base: BaseRun) -> None:
    before = {
        m: ((base.run_dir / m / "metrics.json").read_bytes(), (base.run_dir / m / "predictions.jsonl").read_bytes())
        for m in ("pixel-diff", "center-prior", "center-prior@query-shuffle")
    }
    path = base.results.parent / "provenance.jsonl"
    path.write_text(to_text_internvl2(base.records("pixel-diff"), base.rows))
    assert base.score(path, "prov", "--format", "text", "--convention", "internvl2") == 0
    info = read_run_info(base.run_dir / "run.json")
    entry = info.models["prov"]
    assert entry.scored and entry.source == "scored"
    assert entry.predictions_sha256 == file_sha256(path) and entry.predictions_file == str(path)
    assert (entry.predictions_format, entry.convention, entry.boxes) == ("text", "internvl2", "0-1000")
    assert entry.n == 6 and entry.no_prediction == 0 and entry.errors == 0
    assert not info.models["pixel-diff"].scored
    assert "source" not in info.models["pixel-diff"].to_json()
    for model, (metrics, predictions) in before.items():
        assert (base.run_dir / model / "metrics.json").read_bytes() == metrics
        assert (base.run_dir / model / "predictions.jsonl").read_bytes() == predictions
    metrics_file = json.loads((base.run_dir / "prov" / "metrics.json").read_text())
    assert metrics_file["source"] == "scored" and metrics_file["predictions_sha256"] == file_sha256(path)


def test_a_run_json_without_the_scored_fields_still_loads() -> None:
    entry = ModelEntry.from_json("m", {"status": "done", "n": 3, "errors": 0, "clipped": 0})
    assert entry.source == "run" and not entry.scored and entry.no_prediction is None
    stored = entry.to_json()
    assert not {"source", "predictions_sha256", "no_prediction", "boxes"} & stored.keys()
    scored = ModelEntry.from_json("s", {"status": "done", "source": "scored", "boxes": "pixels", "no_prediction": 2})
    assert ModelEntry.from_json("s", scored.to_json()) == scored and scored.extra == {}


def test_missing_samples_are_no_prediction_misses(base: BaseRun) -> None:
    kept = base.records("pixel-diff")[:2]
    path = base.results.parent / "partial.jsonl"
    path.write_text(to_jsonl(kept, base.rows))
    assert base.score(path, "partial") == 0
    entry = read_run_info(base.run_dir / "run.json").models["partial"]
    assert entry.no_prediction == 4 and entry.n == 6
    assert base.metrics("partial")["no_prediction"] == 4
    records = base.records("partial")
    assert len(records) == 6 and sum(1 for r in records if not r["boxes"]) == 4


def test_replies_without_a_box_keep_their_text(base: BaseRun, capsys: pytest.CaptureFixture[str]) -> None:
    ids = [r["id"] for r in base.rows]
    replies = [{"id": ids[0], "reply": "I see no difference."}, {"id": ids[1], "reply": "[30, 40, 10, 20]"}]
    replies += [{"id": i, "reply": "[46, 30, 71, 57]"} for i in ids[2:]]
    path = base.results.parent / "junk.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in replies))
    assert base.score(path, "junk", "--format", "text", "--convention", "plain", "--boxes", "pixels") == 0
    assert "1 replies without a box" in capsys.readouterr().out
    records = {r["id"]: r for r in base.records("junk")}
    assert records[ids[0]]["boxes"] == [] and records[ids[0]]["reply"] == "I see no difference."
    assert "flipped" in records[ids[1]]["error"] and records[ids[1]]["reply"] == "[30, 40, 10, 20]"
    entry = read_run_info(base.run_dir / "run.json").models["junk"]
    assert (entry.no_prediction, entry.errors) == (1, 1)


def test_extra_ids_are_refused_unless_allowed(tiny_dataset: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "extra.jsonl"
    path.write_text('{"id": "test-000-d0", "boxes": [[1, 2, 3, 4]]}\n{"id": "nope", "boxes": []}\n')
    out = tmp_path / "res"
    assert main([*score_argv(path, tiny_dataset, out), "--run-id", "x"]) == 2
    err = capsys.readouterr().err
    assert f"{path}:2 field 'id' 'nope' is not a sample of split 'test'" in err and "--allow-extra" in err
    assert not out.exists()
    assert main([*score_argv(path, tiny_dataset, out), "--run-id", "x", "--allow-extra"]) == 0
    assert f"ignored (--allow-extra): {path}:2 field 'id'" in capsys.readouterr().err
    entry = read_run_info(out / "x" / "run.json").models["ext"]
    assert entry.ignored_predictions == 1 and entry.no_prediction == 5


def test_joining_refuses_a_run_model_name_a_locked_run_and_another_split(
    base: BaseRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(to_jsonl(base.records("center-prior"), base.rows))
    assert base.score(path, "pixel-diff") == 2
    assert "already has a model 'pixel-diff' that the harness ran" in capsys.readouterr().err
    with RunLock(base.run_dir):
        assert base.score(path, "locked") == 2
    assert "is in use" in capsys.readouterr().err
    other = tmp_path / "other"
    write_tiny_dataset(other, n_pairs=2)
    argv = ["score", str(path), "--dataset", str(other), "--split", "test", "--name", "o", "--allow-extra"]
    assert main([*argv, "--output-dir", str(base.results), "--run-id", "base"]) == 2
    assert "holds a run of another dataset or split" in capsys.readouterr().err
    assert "locked" not in read_run_info(base.run_dir / "run.json").models


def test_report_mixes_scored_and_run_models(base: BaseRun, tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(to_jsonl(base.records("center-prior")[:3], base.rows))
    assert base.score(path, "mixed") == 0
    boards = tmp_path / "boards"
    assert main(["report", str(base.run_dir), "--out", str(boards), "--no-galleries"]) == 0
    board = (boards / "leaderboard.md").read_text()
    overall = board.split("## Overall")[1].split("##")[0]
    assert "`mixed`†" in overall and "`pixel-diff` |" in overall
    assert "† scored from a predictions file (harness score)" in board
    controls = board.split("## Controls")[1].split("\n## ")[0]
    assert "| `mixed`† | 0.0 [0.0, 0.0] | — | — | — | — | — |" in controls
    assert "controls cannot apply to a file" in controls
    page = (boards / "index.html").read_text()
    assert "<code>mixed</code><span" in page and "controls cannot apply to a file" in page
    assert main(["report", str(base.run_dir), "--out", str(boards), "--compare", "mixed", "pixel-diff"]) == 0
    comparison = (boards / "comparisons" / "mixed-vs-pixel-diff.md").read_text()
    assert "| overall | 6 |" in comparison


def test_a_new_run_of_only_a_scored_model_reports(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(CSV_HEAD + "test-000-d1,0.575,0.46875,0.8875,0.890625\n")
    out, boards = tmp_path / "res", tmp_path / "boards"
    assert main([*score_argv(path, tiny_dataset, out, name="solo"), "--format", "csv", "--boxes", "normalized"]) == 0
    (run_dir,) = [p for p in out.iterdir() if p.name != ".cache"]
    info = read_run_info(run_dir / "run.json")
    assert info.status == "complete" and list(info.models) == ["solo"] and info.config.models == ["solo"]
    assert main(["report", "--results-dir", str(out), "--out", str(boards), "--no-galleries"]) == 0
    board = (boards / "leaderboard.md").read_text()
    assert "| 1 | `solo`† | 6 | 16.7" in board and "## Controls" not in board


def test_mig_bench_records_match_by_path_suffix_question_and_source_record() -> None:
    from harness.data.schema import Sample
    from harness.run.mig_bench_replies import SampleMatcher

    def sample(sample_id: str, a: str, b: str, query: str, **attributes: Any) -> Sample:
        return Sample(sample_id, "p", "test", a, b, query, (0, 0, 1, 1), "add", attributes=attributes)

    matcher = SampleMatcher(
        [
            sample("s1", "images/x_a.png", "images/x_b.png", "the new  cup"),
            sample(
                "s2",
                "images/y/1.png",
                "images/y/2.png",
                "what changed",
                images=["mig/0_1.png", "mig/0_2.png"],
                question="What changed?",
            ),  # fmt: skip
            sample("s3", "images/z_a.png", "images/z_b.png", "same"),
            sample("s4", "images/z_a.png", "images/z_b.png", "same"),
        ]
    )
    assert matcher.match("/data/set/images/x_a.png", "./images/x_b.png", "the new cup") == ["s1"]
    assert matcher.match("C:\\data\\images\\x_a.png", "images\\x_b.png", " the new cup ") == ["s1"]
    assert matcher.match("images/xx_a.png", "images/x_b.png", "the new cup") == []  # whole components only
    assert matcher.match("other/x_a.png", "images/x_b.png", "the new cup") == []
    assert matcher.match("images/x_a.png", "images/x_b.png", "the old cup") == []
    assert matcher.match("/root/mig/0_1.png", "/root/mig/0_2.png", "What changed?") == ["s2"]
    assert matcher.match("images/z_a.png", "images/z_b.png", "same") == ["s3", "s4"]


def test_mig_bench_records_for_no_sample_are_refused_unless_allowed(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [json.loads(line) for line in (tiny_dataset / "manifest.jsonl").read_text().splitlines()]
    records = [
        {
            "question": rows[0]["query"],
            "images": [rows[0]["image_a"], rows[0]["image_b"]],
            "answer": "[46, 30, 71, 57]",
        },
        {"question": "what moved?", "images": [rows[0]["image_a"], rows[0]["image_b"]], "answer": "[1, 2, 3, 4]"},
    ]
    path = tmp_path / "mig.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "res"
    options = ["--format", "mig-bench", "--convention", "plain", "--boxes", "pixels", "--run-id", "m"]
    assert main([*score_argv(path, tiny_dataset, out), *options]) == 2
    assert f"{path}:2 field 'images'" in capsys.readouterr().err and not out.exists()
    assert main([*score_argv(path, tiny_dataset, out), *options, "--allow-extra"]) == 0
    entry = read_run_info(out / "m" / "run.json").models["ext"]
    assert (entry.ignored_predictions, entry.no_prediction, entry.convention) == (1, 5, "plain")
