"""`harness score` refuses a bad predictions file with every problem listed by line and field, and
checks its options, before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.score_argv import score_argv

ONE = '{"id": "test-000-d0", "boxes": [[1, 2, 3, 4]]}\n'
CSV_HEAD = "id,x1,y1,x2,y2\n"
MALFORMED = [
    # (case, format options, file text, expected text after "FILE:")
    ("bad json", [], ONE + "{not json\n", "2 field '<json>' is not valid JSON"),
    ("not an object", [], "[1, 2]\n", "1 field '<json>' must be a JSON object, got list"),
    ("missing id", [], '{"boxes": []}\n', "1 field 'id' is missing"),
    ("missing boxes", [], '{"id": "test-000-d0"}\n', "1 field 'boxes' is missing"),
    ("non-number", [], '{"id": "test-000-d0", "boxes": [[1, 2, "x", 4]]}\n', "1 field 'boxes[0][2]' must be a number"),
    ("three coordinates", [], '{"id": "test-000-d0", "boxes": [[1, 2, 3]]}\n', "1 field 'boxes[0]' must have 4 coord"),
    ("flat box", [], '{"id": "test-000-d0", "boxes": [1, 2, 3, 4]}\n', "1 field 'boxes' must be a list of boxes"),
    ("flipped", [], '{"id": "test-000-d0", "boxes": [[1, 2, 3, 4], [9, 2, 3, 4]]}\n', "1 field 'boxes[1]' is flipped"),
    ("nan", [], '{"id": "test-000-d0", "boxes": [[NaN, 2, 3, 4]]}\n', "1 field 'boxes[0][0]' must be a finite number"),
    ("scores length", [], '{"id": "test-000-d0", "boxes": [[1, 2, 3, 4]], "scores": []}\n', "1 field 'scores' must list"),
    ("duplicate", [], ONE + ONE, "2 field 'id' 'test-000-d0' again (first at line 1)"),
    ("outside B", [], '{"id": "test-000-d0", "boxes": [[0, 0, 81.5, 4]]}\n', "1 field 'boxes[0]' box [0.0, 0.0, 81.5"),
    (
        "outside B normalized",
        ["--boxes", "normalized"],
        '{"id": "test-000-d0", "boxes": [[0, 0, 0.5, 1.2]]}\n',
        "1 field 'boxes[0]' box [0.0, 0.0, 0.5, 1.2] (0, 0, 40, 76.8 in pixels) of sample 'test-000-d0' lies outside",
    ),
    ("empty file", [], "\n", " field '<file>' holds no predictions"),
    ("csv header", ["--format", "csv"], "sample,x1,y1,x2,y2\n", "1 field '<header>' must be id,x1,y1,x2,y2[,score]"),
    ("csv non-number", ["--format", "csv"], CSV_HEAD + "test-000-d0,1,2,3,4\ntest-000-d0,1,y,3,4\n", "3 field 'y1'"),
    ("csv columns", ["--format", "csv"], CSV_HEAD + "test-000-d0,1,2,3\n", "2 field '<row>' has 4 columns; the header has 5"),
    ("csv flipped", ["--format", "csv"], CSV_HEAD + "test-000-d0,1,5,3,4\n", "2 field 'x1,y1,x2,y2' is flipped"),
    ("csv no id", ["--format", "csv"], CSV_HEAD + ",1,2,3,4\n", "2 field 'id' is empty"),
    ("csv outside", ["--format", "csv"], CSV_HEAD + "test-000-d0,-3,2,3,4\n", "2 field 'x1,y1,x2,y2' box [-3.0"),
    ("text no reply", ["--format", "text", "--convention", "plain", "--boxes", "pixels"], '{"id": "test-000-d0"}\n',
     "1 field 'reply' is missing"),
    ("text reply not text", ["--format", "text", "--convention", "qwen2-vl"], '{"id": "test-000-d0", "reply": [1]}\n',
     "1 field 'reply' must be a string"),
    ("mig-bench images", ["--format", "mig-bench", "--convention", "internvl2"],
     '[\n {"question": "q", "images": ["a.png"], "reply": "x"}\n]\n', "2 field 'images' must list two image paths"),
    ("mig-bench reply", ["--format", "mig-bench", "--convention", "internvl2"],
     '{"question": "q", "images": ["a.png", "b.png"], "reply": 5}\n', "1 field 'reply' must be the model's text reply"),
    ("mig-bench json", ["--format", "mig-bench", "--convention", "internvl2"], '[\n {"question": "q",\n oops\n]\n',
     "3 field '<json>' is not valid JSON"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "options", "text", "expected"), MALFORMED, ids=[c[0] for c in MALFORMED])
def test_malformed_input_is_refused_with_its_line_and_field(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, options, text, expected
) -> None:
    path = tmp_path / "preds.txt"
    path.write_text(text)
    out = tmp_path / "res"
    assert main([*score_argv(path, tiny_dataset, out), *options]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"{path}:{expected}" in err or (expected.startswith(" ") and f"{path}{expected}" in err), err
    assert "nothing was scored or written" in err and not out.exists()


def test_every_problem_is_listed(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text('{"id": "test-000-d0", "boxes": [[1, 2, 3]]}\n{oops\n{"boxes": []}\n{"id": "zz", "boxes": []}\n')
    assert main(score_argv(path, tiny_dataset, tmp_path / "res")) == 2
    err = capsys.readouterr().err
    assert "4 problem(s)" in err
    for located in (":1 field 'boxes[0]'", ":2 field '<json>'", ":3 field 'id' is missing", ":4 field 'id' 'zz'"):
        assert f"{path}{located}" in err


def test_a_box_within_the_tolerance_is_clipped(tiny_dataset: Path, tmp_path: Path) -> None:
    path = tmp_path / "edge.jsonl"
    path.write_text('{"id": "test-000-d0", "boxes": [[-0.5, 0, 80.9, 64.5]], "scores": [0.9]}\n')
    assert main([*score_argv(path, tiny_dataset, tmp_path / "res"), "--run-id", "e"]) == 0
    record = json.loads((tmp_path / "res" / "e" / "ext" / "predictions.jsonl").read_text().splitlines()[0])
    assert record["boxes"] == [[0.0, 0.0, 80.0, 64.0]] and record["clipped"] is True


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--format", "xml"], "--format 'xml': choose from jsonl, csv, text, mig-bench"),
        (["--format", "text"], "--format text reads raw replies: pass --convention"),
        (["--format", "text", "--convention", "plain"], "--convention plain does not fix a coordinate scale"),
        (["--convention", "plain"], "--convention applies to --format text or mig-bench, not jsonl"),
        (["--boxes", "percent"], "--boxes 'percent': choose from pixels, normalized, 0-1000"),
        (["--name", "m@swap"], "--name 'm@swap': must be non-empty and not end in @CONTROL"),
    ],
)
def test_options_are_checked(tiny_dataset: Path, tmp_path: Path, capsys, options: list[str], message: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(ONE)
    assert main([*score_argv(path, tiny_dataset, tmp_path / "res"), *options]) == 2
    assert message in capsys.readouterr().err
