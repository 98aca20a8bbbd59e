"""Predictions made outside the harness, read from a file in a declared format (never guessed).

| format | what the file holds |
|---|---|
| `jsonl` | one object a line: `id`, `boxes` (a list of `[x1, y1, x2, y2]`, ranked), optional `scores` |
| `csv` | a header `id,x1,y1,x2,y2` or `id,x1,y1,x2,y2,score`, then one box a row; several rows per id, ranked by score when the column is there (stable), else by row order |
| `text` | one object a line: `id` and `reply`, the model's raw text, read by a box convention (adapters/box_text.py) |
| `mig-bench` | MIG-Bench-style output records, matched to samples by image pair and question (harness/run/mig_bench_replies.py) |

Reading keeps every problem, located as `FILE:LINE field ...`: bad JSON, a missing field, a
non-number, a box of other than four numbers, a flipped box (x2 < x1 or y2 < y1) in a file of
numbers, an id given twice. The numbers stay in the file's scale here; harness/run/prediction_boxes.py
turns them into pixels of B and checks them against B's size.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import HarnessError
from idg_adapters.box_text import parse_box_reply

FORMATS: tuple[str, ...] = ("jsonl", "csv", "text", "mig-bench")
REPLY_FORMATS: tuple[str, ...] = ("text", "mig-bench")  # formats of raw replies, read by a box convention
CSV_HEADER = ("id", "x1", "y1", "x2", "y2")
UTF8_BOM = "\ufeff"


@dataclass(frozen=True)
class PredictionProblem:
    """One problem in a predictions file, located by line (1-based; 0 = the whole file) and field."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} field '{self.field}' {self.message}"


class PredictionsInvalid(HarnessError):
    """A predictions file with problems: nothing is scored, and every problem is listed."""

    def __init__(self, message: str, problems: list[PredictionProblem]) -> None:
        super().__init__(message)
        self.problems = problems


@dataclass
class ExternalAnswer:
    """One sample's answer as the file gives it; boxes still in the file's coordinate scale."""

    id: str
    line: int
    boxes: list[list[float]] = field(default_factory=list)
    scores: list[float] | None = None  # None: the file gives no scores
    reply: str | None = None  # the raw reply, for the reply formats
    places: list[tuple[int, str]] = field(default_factory=list)  # (line, field) of each box, for messages


@dataclass
class RawPredictions:
    """What a file said, before it is matched to the split: answers in file order, and problems."""

    answers: list[ExternalAnswer] = field(default_factory=list)
    problems: list[PredictionProblem] = field(default_factory=list)


class PredictionsReader:
    """Reads one predictions file into `out`, recording every problem instead of stopping at the first."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        self.out = RawPredictions()

    def problem(self, line: int, field_name: str, message: str) -> None:
        self.out.problems.append(PredictionProblem(self.name, line, field_name, message))

    def lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of every non-blank line; lines that are not UTF-8 become problems."""
        try:
            raw_lines = self.path.read_bytes().split(b"\n")
        except OSError as exc:
            raise HarnessError(f"{self.path}: cannot read the predictions file ({exc.strerror or exc})") from None
        for number, raw in enumerate(raw_lines, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.problem(number, "<line>", f"is not UTF-8 text (byte {exc.start + 1})")
                continue
            if number == 1:
                text = text.removeprefix(UTF8_BOM)
            if text.strip():
                yield number, text.rstrip("\r")

    def objects(self) -> Iterator[tuple[int, dict[str, Any]]]:
        """Each line as a JSON object, or a problem."""
        for number, text in self.lines():
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                self.problem(number, "<json>", f"is not valid JSON ({exc.msg}, column {exc.colno})")
                continue
            if not isinstance(row, dict):
                self.problem(number, "<json>", f"must be a JSON object, got {type(row).__name__}")
                continue
            yield number, row

    def sample_id(self, line: int, row: dict[str, Any]) -> str | None:
        value = row.get("id")
        if value is None:
            self.problem(line, "id", "is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            self.problem(line, "id", f"must be a non-empty string, got {value!r}")
            return None
        return str(value)

    def number(self, line: int, field_name: str, value: Any) -> float | None:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                self.problem(line, field_name, f"must be a number, got {value!r}")
                return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(line, field_name, f"must be a number, got {value!r}")
            return None
        if not math.isfinite(value):
            self.problem(line, field_name, f"must be a finite number, got {value!r}")
            return None
        return float(value)

    def box(self, line: int, field_name: str, value: Any) -> list[float] | None:
        """Four finite numbers with x1 <= x2 and y1 <= y2, or a problem."""
        if not isinstance(value, (list, tuple)):
            self.problem(line, field_name, f"must be a box [x1, y1, x2, y2], got {value!r}")
            return None
        if len(value) != 4:
            self.problem(line, field_name, f"must have 4 coordinates [x1, y1, x2, y2], got {len(value)}")
            return None
        coords = [self.number(line, f"{field_name}[{i}]", v) for i, v in enumerate(value)]
        if any(c is None for c in coords):
            return None
        return self.ordered(line, field_name, coords)

    def ordered(self, line: int, field_name: str, box: list[float]) -> list[float] | None:
        x1, y1, x2, y2 = box
        if x2 < x1 or y2 < y1:
            self.problem(line, field_name, f"is flipped (x2 < x1 or y2 < y1): {box}")
            return None
        return box


def _read_jsonl(reader: PredictionsReader) -> None:
    for line, row in reader.objects():
        sample_id = reader.sample_id(line, row)
        if "boxes" not in row:
            reader.problem(line, "boxes", "is missing (a list of [x1, y1, x2, y2]; [] for no box)")
            continue
        given = row["boxes"]
        if not isinstance(given, list):
            reader.problem(line, "boxes", f"must be a list of [x1, y1, x2, y2] boxes, got {given!r}")
            continue
        if len(given) == 4 and not any(isinstance(v, (list, tuple)) for v in given):
            reader.problem(line, "boxes", "must be a list of boxes; got one flat box (write [[x1, y1, x2, y2]])")
            continue
        boxes = [reader.box(line, f"boxes[{i}]", b) for i, b in enumerate(given)]
        scores = None
        if row.get("scores") is not None:
            scores_given = row["scores"]
            if not isinstance(scores_given, list) or len(scores_given) != len(given):
                count = len(scores_given) if isinstance(scores_given, list) else type(scores_given).__name__
                reader.problem(line, "scores", f"must list one score per box ({len(given)}), got {count}")
                continue
            scores = [reader.number(line, f"scores[{i}]", s) for i, s in enumerate(scores_given)]
            if any(s is None for s in scores):
                continue
        if sample_id is None or any(b is None for b in boxes):
            continue
        places = [(line, f"boxes[{i}]") for i in range(len(boxes))]
        reader.out.answers.append(ExternalAnswer(sample_id, line, boxes, scores, places=places))  # type: ignore[arg-type]


def _read_csv(reader: PredictionsReader) -> None:
    rows: dict[str, ExternalAnswer] = {}
    header: tuple[str, ...] | None = None
    for line, text in reader.lines():
        try:
            cells = next(csv.reader([text]))
        except csv.Error as exc:
            reader.problem(line, "<row>", f"is not a CSV row ({exc})")
            continue
        if header is None:
            names = tuple(c.strip().lower() for c in cells)
            if names not in (CSV_HEADER, (*CSV_HEADER, "score")):
                reader.problem(line, "<header>", f"must be {','.join(CSV_HEADER)}[,score], got {','.join(cells)!r}")
                return
            header = names
            continue
        if len(cells) != len(header):
            reader.problem(line, "<row>", f"has {len(cells)} columns; the header has {len(header)}")
            continue
        sample_id = cells[0].strip()
        if not sample_id:
            reader.problem(line, "id", "is empty")
        values = [reader.number(line, name, cell) for name, cell in zip(header[1:], cells[1:], strict=True)]
        if not sample_id or any(v is None for v in values):
            continue
        box = reader.ordered(line, "x1,y1,x2,y2", values[:4])  # type: ignore[arg-type]
        if box is None:
            continue
        answer = rows.setdefault(sample_id, ExternalAnswer(sample_id, line, scores=[] if len(header) == 6 else None))
        answer.boxes.append(box)
        answer.places.append((line, "x1,y1,x2,y2"))
        if answer.scores is not None:
            answer.scores.append(values[4])  # type: ignore[arg-type]
    if header is None:
        reader.problem(0, "<header>", f"is missing: the file is empty (expected {','.join(CSV_HEADER)}[,score])")
    for answer in rows.values():
        if answer.scores is not None:
            order = sorted(range(len(answer.boxes)), key=lambda i: -answer.scores[i])  # type: ignore[index]
            answer.boxes = [answer.boxes[i] for i in order]
            answer.scores = [answer.scores[i] for i in order]  # type: ignore[index]
            answer.places = [answer.places[i] for i in order]
        reader.out.answers.append(answer)


def reply_answer(sample_id: str, line: int, reply: str, convention: str) -> ExternalAnswer:
    """A raw reply as an answer: the boxes the convention finds (maybe none) and the text kept."""
    boxes = [list(b) for b in parse_box_reply(reply, convention)]
    return ExternalAnswer(sample_id, line, boxes, None, reply=reply, places=[(line, "reply")] * len(boxes))


def _read_text(reader: PredictionsReader, convention: str) -> None:
    for line, row in reader.objects():
        sample_id = reader.sample_id(line, row)
        reply = row.get("reply")
        if not isinstance(reply, str):
            reader.problem(line, "reply", "is missing" if reply is None else f"must be a string, got {reply!r}")
            continue
        if sample_id is not None:
            reader.out.answers.append(reply_answer(sample_id, line, reply, convention))


def read_raw_predictions(path: Path, fmt: str, convention: str | None = None) -> RawPredictions:
    """Every answer and problem of a jsonl, csv or text file (mig-bench: harness/run/mig_bench_replies.py)."""
    reader = PredictionsReader(path)
    if fmt == "jsonl":
        _read_jsonl(reader)
    elif fmt == "csv":
        _read_csv(reader)
    elif fmt == "text":
        if convention is None:
            raise HarnessError("--format text needs --convention (how the replies write boxes)")
        _read_text(reader, convention)
    else:
        raise HarnessError(f"--format {fmt!r}: choose from {', '.join(FORMATS)}")
    return reader.out


@dataclass
class SplitPredictions:
    """A file's answers matched to the split: by sample id, the answers for other ids, and problems."""

    answers: dict[str, ExternalAnswer]
    extra: list[PredictionProblem]  # answers for ids the split does not have
    problems: list[PredictionProblem]


def match_to_split(path: Path, raw: RawPredictions, split_ids: set[str], split_label: str) -> SplitPredictions:
    """Answers by sample id; an id given twice is a problem, an id outside the split an extra."""
    answers: dict[str, ExternalAnswer] = {}
    extra: list[PredictionProblem] = []
    problems = list(raw.problems)
    for answer in raw.answers:
        if answer.id in answers:
            first = answers[answer.id].line
            problems.append(
                PredictionProblem(str(path), answer.line, "id", f"{answer.id!r} again (first at line {first})")
            )
        elif answer.id not in split_ids:
            extra.append(
                PredictionProblem(str(path), answer.line, "id", f"{answer.id!r} is not a sample of {split_label}")
            )
        else:
            answers[answer.id] = answer
    if not raw.answers and not raw.problems:
        problems.append(PredictionProblem(str(path), 0, "<file>", "holds no predictions"))
    return SplitPredictions(answers, extra, problems)
