"""MIG-Bench output records, matched to the samples of a split by image pair and question, or by task
and position.

The file is a JSON list of records or one record a line (JSONL), told apart by its first
character. The model's reply is read from `reply`, or else `answer`, or else `response` (the first
present is read and must be text; an `answer` holding a box list is the benchmark's target, copied
from MIG_data.json, and is passed over for the next field).

A record with `images` ([A, B] paths) and `question` matches a sample when the questions are equal
(whitespace collapsed) and each image path of the record and of the sample end in the same path
components (`/data/mig/images/x_b.png` matches `images/x_b.png`). A sample offers its manifest paths
and query, and, for a dataset imported from MIG-Bench (`harness data import mig-bench`), the source
record's own `images` and `question` kept in its attributes.

MIG-Bench's own evaluation script writes records without `images`: `task`, `question` (with its
format prompt added), `answer` (the reply), `filter_answer`, `iou` and `groundtruth`, in
MIG_data.json's order, and ends the list with a summary object (scores per task), which is passed
over. Such a record matches by position: the k-th record of task T in the file is the sample
imported from the k-th record of task T in MIG_data.json (attributes `task` and `task_index`), so a
file of one task and a file of all tasks both match. Records of MIG-Bench's tasks that the importer
skips (OTHER_TASKS) are passed over too.

When a record gives `groundtruth`, it must equal the `answer` of the source record of the sample it
matched (else the file is not in MIG_data.json's order, or not of this dataset: a problem). A record
that matches no sample of the split is listed like a prediction for an unknown id; a record that
matches several is a problem.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.data.importers.mig_bench import OTHER_TASKS
from harness.data.schema import Sample
from harness.run.external_predictions import (
    PredictionProblem,
    PredictionsReader,
    RawPredictions,
    reply_answer,
)

REPLY_FIELDS = ("reply", "answer", "response")
GROUNDTRUTH_TOLERANCE = 1e-6  # the same decimals, read back from JSON

Key = tuple[tuple[str, ...], tuple[str, ...], str]


def _parts(path: str) -> tuple[str, ...]:
    """A path's components, separators unified, `.` and empty parts dropped."""
    normal = posixpath.normpath(path.replace("\\", "/"))
    return tuple(p for p in normal.split("/") if p not in ("", "."))


def _same_file(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    n = min(len(a), len(b))
    return n > 0 and a[-n:] == b[-n:]


def _question(text: str) -> str:
    return " ".join(text.split())


def _sample_keys(sample: Sample) -> list[Key]:
    keys = [(_parts(sample.image_a), _parts(sample.image_b), _question(sample.query))]
    images, question = sample.attributes.get("images"), sample.attributes.get("question")
    if isinstance(images, list) and len(images) == 2 and all(isinstance(i, str) for i in images):
        if isinstance(question, str):
            keys.append((_parts(images[0]), _parts(images[1]), _question(question)))
    return keys


def _position(sample: Sample) -> tuple[str, int] | None:
    """(task, task_index) of a sample imported from MIG-Bench, else None."""
    task, index = sample.attributes.get("task"), sample.attributes.get("task_index")
    if isinstance(task, str) and isinstance(index, int) and not isinstance(index, bool):
        return task.strip(), index
    return None


class SampleMatcher:
    """The samples of a split indexed by (A file name, B file name, question), and by (task, position)."""

    def __init__(self, samples: list[Sample]) -> None:
        self._index: dict[tuple[str, str, str], list[tuple[Key, str]]] = {}
        self._by_position: dict[tuple[str, int], list[str]] = {}
        self.targets: dict[str, Any] = {}  # sample id -> the source record's `answer`, when kept
        for sample in samples:
            for key in _sample_keys(sample):
                if key[0] and key[1]:
                    self._index.setdefault((key[0][-1], key[1][-1], key[2]), []).append((key, sample.id))
            position = _position(sample)
            if position is not None:
                self._by_position.setdefault(position, []).append(sample.id)
            if "answer" in sample.attributes:
                self.targets[sample.id] = sample.attributes["answer"]

    def match_position(self, task: str, index: int) -> list[str]:
        """The samples imported from the `index`-th record (from 0) of `task` in MIG_data.json."""
        return list(self._by_position.get((task, index), []))

    def match(self, image_a: str, image_b: str, question: str) -> list[str]:
        a, b, q = _parts(image_a), _parts(image_b), _question(question)
        if not a or not b:
            return []
        found = [
            sample_id
            for (sa, sb, _), sample_id in self._index.get((a[-1], b[-1], q), [])
            if _same_file(a, sa) and _same_file(b, sb)
        ]
        return list(dict.fromkeys(found))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _list_records(reader: PredictionsReader, text: str) -> Iterator[tuple[int, Any]]:
    """The items of a JSON list with the line each starts on; a syntax error stops the reading."""
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == "]":
            return
        start = pos
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            reader.problem(_line_of(text, exc.pos), "<json>", f"is not valid JSON ({exc.msg})")
            return
        yield _line_of(text, start), item
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos >= len(text) or text[pos] != "]":
            reader.problem(_line_of(text, pos), "<json>", "is not valid JSON (expected ',' or ']' after a record)")
            return


def _records(reader: PredictionsReader) -> Iterator[tuple[int, Any]]:
    raw = reader.path.read_bytes() if reader.path.is_file() else b""
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        yield from reader.objects()  # per line, so the lines that are not UTF-8 are named
        return
    if text.lstrip().startswith("["):
        yield from _list_records(reader, text)
    else:
        yield from reader.objects()


def _reply(reader: PredictionsReader, line: int, record: dict[str, Any]) -> str | None:
    for name in REPLY_FIELDS:
        if name in record:
            value = record[name]
            if isinstance(value, str):
                return value
            if name == "answer" and isinstance(value, list):
                continue  # MIG_data.json's target box, not a reply
            reader.problem(line, name, f"must be the model's text reply, got {value!r}")
            return None
    reader.problem(line, "reply", f"is missing (the reply is read from {', '.join(REPLY_FIELDS)})")
    return None


def _is_summary(record: dict[str, Any]) -> bool:
    """MIG-Bench's closing object: {task: {"IOU@0.5": ..., "TOTAL": ...}, ...}."""
    return bool(record) and all(isinstance(v, dict) and "TOTAL" in v for v in record.values())


def _box(value: Any) -> list[float] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return None
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if not isinstance(value, list) or len(value) != 4:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    return [float(v) for v in value]


def _groundtruth_differs(record: dict[str, Any], target: Any) -> str | None:
    """Why the record's `groundtruth` is not the matched sample's source `answer` (None when it is,
    or when either is absent)."""
    if "groundtruth" not in record or target is None:
        return None
    given, expected = _box(record["groundtruth"]), _box(target)
    if given is None or expected is None:
        return None if expected is None else f"must be a box [x1, y1, x2, y2], got {record['groundtruth']!r}"
    if all(abs(a - b) <= GROUNDTRUTH_TOLERANCE for a, b in zip(given, expected, strict=True)):
        return None
    return f"{given} is not the answer {expected} of the sample it matches"


class _Positions:
    """Counts the records of each task in file order: the k-th record of a task has position k."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def next(self, task: str) -> int:
        index = self._seen.get(task, 0)
        self._seen[task] = index + 1
        return index


def read_mig_bench_replies(
    path: Path, convention: str, samples: list[Sample], split_label: str
) -> tuple[RawPredictions, list[PredictionProblem]]:
    """Answers (by matched sample id) and problems, and the records that match no sample."""
    reader = PredictionsReader(path)
    if not reader.path.is_file():
        list(reader.lines())  # raises the clear "cannot read" error
    matcher = SampleMatcher(samples)
    positions = _Positions()
    unmatched: list[PredictionProblem] = []
    for line, record in _records(reader):
        if not isinstance(record, dict):
            reader.problem(line, "<record>", f"must be a JSON object, got {type(record).__name__}")
            continue
        if _is_summary(record):
            continue
        task = record.get("task")
        task = task.strip() if isinstance(task, str) and task.strip() else None
        position = positions.next(task) if task is not None else None
        if task in OTHER_TASKS:
            continue  # a task the importer skips: no sample can match it
        if "images" not in record and position is not None:
            ids, where = matcher.match_position(str(task), position), f"record {position + 1} of task {task!r}"
            key_field = "task"
        else:
            ids, where = _match_by_images(reader, matcher, line, record)
            key_field = "images"
            if where is None:
                _reply(reader, line, record)  # its problems too
                continue
        reply = _reply(reader, line, record)
        if reply is None:
            continue
        if not ids:
            unmatched.append(
                PredictionProblem(str(path), line, key_field, f"{where} matches no sample of {split_label}")
            )
        elif len(ids) > 1:
            reader.problem(line, key_field, f"{where} matches {len(ids)} samples ({', '.join(ids)})")
        elif (differs := _groundtruth_differs(record, matcher.targets.get(ids[0]))) is not None:
            reader.problem(line, "groundtruth", f"{differs} ({where}, sample {ids[0]})")
        else:
            reader.out.answers.append(reply_answer(ids[0], line, reply, convention))
    return reader.out, unmatched


def _match_by_images(
    reader: PredictionsReader, matcher: SampleMatcher, line: int, record: dict[str, Any]
) -> tuple[list[str], str | None]:
    """The samples a record with `images` and `question` matches, and how to name it in messages
    (None, with the problems recorded, when either field is unusable)."""
    question, images = record.get("question"), record.get("images")
    usable = True
    if not isinstance(question, str) or not question.strip():
        reader.problem(line, "question", f"must be a non-empty string, got {question!r}")
        usable = False
    if not (isinstance(images, list) and len(images) == 2 and all(isinstance(i, str) and i for i in images)):
        hint = "" if "images" in record else " (or give `task`, to match MIG-Bench's output records by position)"
        reader.problem(line, "images", f"must list two image paths [A, B], got {images!r}{hint}")
        usable = False
    if not usable:
        return [], None
    return matcher.match(images[0], images[1], question), f"{images} with question {question!r}"
