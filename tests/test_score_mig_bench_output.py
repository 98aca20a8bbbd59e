"""`harness score --format mig-bench` on output files shaped as MIG-Bench's own evaluation writes them:
no `images`, the reply in `answer`, `groundtruth`, MIG_data.json's order, a closing summary object."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.data.importers import import_dataset
from harness.run.run_records import read_run_info
from tests.data.mig_bench_fixture import copy_fixture
from tests.score_argv import score_argv

QWEN_FORMAT = "Format:<|box_start|>(x1,y1),(x2,y2)<|box_start|>. Don't generate addtional words."


def output_record(record: dict, box: list[float] | None = None) -> dict:
    """One record as MIG-Bench's evaluation of a Qwen2-VL-style model writes it (boxes 0-1000 in the reply)."""
    x1, y1, x2, y2 = (round(1000 * v) for v in (box or record["answer"]))
    return {
        "task": record["task"],
        "question": record["question"] + QWEN_FORMAT,
        "answer": f"<|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>",
        "filter_answer": box or record["answer"],
        "iou": 1.0,
        "groundtruth": record["answer"],
    }


SUMMARY = {"diff": {"IOU@0.7": 6, "IOU@0.5": 6, "IOU@0.3": 6, "AVE_IOU": 6.0, "TOTAL": 6}}


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, list[dict]]:
    source, records, _ = copy_fixture(tmp_path / "bench")
    dataset = tmp_path / "ds"
    import_dataset("mig-bench", source, dataset)
    return dataset, records


def _score(path: Path, dataset: Path, out: Path, *extra: str) -> int:
    return main([*score_argv(path, dataset, out), "--format", "mig-bench", "--convention", "qwen2-vl", *extra])


def test_a_file_of_all_tasks_matches_by_task_and_position(imported, tmp_path: Path) -> None:
    dataset, records = imported
    path = tmp_path / "all.json"
    path.write_text(json.dumps([*(output_record(r) for r in records), SUMMARY], indent=4))
    out = tmp_path / "res"
    assert _score(path, dataset, out, "--run-id", "m") == 0
    entry = read_run_info(out / "m" / "run.json").models["ext"]
    assert (entry.no_prediction, entry.ignored_predictions) == (0, 0)  # other tasks and the summary passed over
    metrics = json.loads((out / "m" / "ext" / "metrics.json").read_text())["metrics"]
    assert metrics["n"] == 9 and metrics["overall"]["acc@0.5"]["value"] == 1.0


def test_a_file_of_one_task_matches_too(imported, tmp_path: Path) -> None:
    dataset, records = imported
    view_diff = [r for r in records if r["task"] == "view_diff"]
    wrong = [0.0, 0.0, 0.1, 0.1]
    path = tmp_path / "view_diff.json"
    path.write_text(json.dumps([output_record(view_diff[0]), output_record(view_diff[1], wrong), SUMMARY]))
    out = tmp_path / "res"
    assert _score(path, dataset, out, "--run-id", "m") == 0
    entry = read_run_info(out / "m" / "run.json").models["ext"]
    assert entry.no_prediction == 7  # 6 diff and the third view_diff record are not in the file
    metrics = json.loads((out / "m" / "ext" / "metrics.json").read_text())["metrics"]
    assert metrics["overall"]["acc@0.5"]["value"] == pytest.approx(1 / 9)


def test_records_out_of_order_are_refused_by_their_groundtruth(imported, tmp_path: Path, capsys) -> None:
    dataset, records = imported
    diff = [r for r in records if r["task"] == "diff"]
    path = tmp_path / "swapped.json"
    path.write_text("[\n" + ",\n".join(json.dumps(output_record(r)) for r in [diff[1], diff[0]]) + "\n]\n")
    assert _score(path, dataset, tmp_path / "res") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{path}:2 field 'groundtruth' {[float(v) for v in diff[1]['answer']]} is not the answer" in err
    assert "(record 1 of task 'diff', sample mig-bench-000000)" in err and not (tmp_path / "res").exists()


def test_position_records_need_an_imported_mig_bench_dataset(tiny_dataset: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "out.json"
    path.write_text(json.dumps([{"task": "diff", "question": "q", "answer": "<|box_start|>(1,2),(3,4)<|box_end|>"}]))
    assert _score(path, tiny_dataset, tmp_path / "res") == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{path}:1 field 'task' record 1 of task 'diff' matches no sample of split 'test'" in err
    path.write_text(json.dumps([{"question": "q", "answer": "x"}]))
    assert _score(path, tiny_dataset, tmp_path / "res") == 2
    assert "(or give `task`, to match MIG-Bench's output records by position)" in capsys.readouterr().err
