"""Importer for MIG-Bench (Migician): its two-image difference records, one query each.

The source is MIG-Bench's `MIG_data.json`: a JSON list of records with `task`, `images`,
`question`, `answer`, `additional_info` and `need_format`. Only the two-image difference tasks
are imported: `diff` (static differences) and `view_diff` (differences seen from another
viewpoint), also accepted under the names the paper gives them, `static_diff` and `robust_diff`
(DIFFERENCE_TASKS). A record of any other task (`region`, `common_object`, `object_tracking`, ...)
is skipped: counted per task under "not a two-image difference task", never a failure, so the
real file imports with exit code 0, also under `--strict`. A record without `task` is read as a
difference record.

A difference record: `images` (A then B), `question` (the query), `answer` (`[x1, y1, x2, y2]`
normalised 0-1 in B's frame; a single box nested in a list, or the same as a JSON string, is
accepted) and `additional_info`, in MIG_data.json a string (`""` or a hint text, kept as an
attribute), in older files an object whose `edit_type` and `split` are used when present.
MIG-Bench names no edit type, so it is `unknown` (a known value: `harness data validate` does not
warn about it). Records naming the same two images form one pair.

Image paths (`./MIG-Bench/images/static_diff/140513_1_source.png`) are relative to the folder
that holds the `MIG-Bench` folder, while the JSON lives inside it: a path is looked for under the
JSON's folder first and then under the folder above it; a row whose image is in neither is a
problem naming both places.

Every source field is kept as a sample attribute under its own name, with `source_index` (the
record's 0-based index in the file) and `task_index` (its 0-based position among the file's
records of the same task: the order MIG-Bench's own evaluation writes its outputs in, which
`harness score --format mig-bench` matches by). dataset.json names `task` as the dataset's default
stratum, so `harness run` on it scores per task without `--strata task` (an explicit `--strata`
replaces the default).
Problems name records from 1 (`record 1` is the first).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.data.importers.box_conversion import normalised_to_pixels
from harness.data.importers.import_options import ImportOptions
from harness.data.importers.import_report import ImportReport, ImportSourceError, RowRejected, read_source_text
from harness.data.importers.import_session import ImportSession, edit_type_from, query_from

FORMAT = "mig-bench"
DIFFERENCE_TASKS: tuple[str, ...] = ("diff", "view_diff", "static_diff", "robust_diff")
"""MIG_data.json's names of the two-image difference tasks, then the paper's names for the same two."""
OTHER_TASKS: tuple[str, ...] = (
    "region",
    "common_object",
    "object_tracking",
    "group_grounding",
    "multi_view",
    "correspondence",
    "reasoning",
    "refer_grounding",
)
"""MIG_data.json's other tasks (grounding in one of several images): skipped here, and their output
records skipped by `harness score --format mig-bench`."""
NOT_A_DIFFERENCE_TASK = "not a two-image difference task"


def _load_records(source: Path) -> list[Any]:
    text = read_source_text(source)
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportSourceError(f"{source}: not valid JSON ({exc})") from exc
    if isinstance(records, dict) and isinstance(records.get("data"), list):
        records = records["data"]  # some releases wrap the list
    if not isinstance(records, list):
        raise ImportSourceError(
            f"{source}: MIG-Bench data must be a JSON list of records, got {type(records).__name__}"
        )
    return records


def task_of(record: Any) -> str | None:
    """The record's `task` when it is a non-empty string (stripped), else None."""
    task = record.get("task") if isinstance(record, dict) else None
    return task.strip() if isinstance(task, str) and task.strip() else None


def classify_records(records: list[Any]) -> Iterator[tuple[int, Any, int | None, str | None]]:
    """(index, record, task_index, skip reason) per record: task_index is the record's position among
    the records of its task (None without a task); the reason is None for a record to convert."""
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        task = task_of(record)
        task_index = None
        if task is not None:
            task_index = seen.get(task, 0)
            seen[task] = task_index + 1
        skip = NOT_A_DIFFERENCE_TASK if task is not None and task not in DIFFERENCE_TASKS else None
        yield index, record, task_index, skip


def _answer_box(answer: Any) -> Any:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError:
            raise RowRejected("answer", f"must be [x1, y1, x2, y2], got the text {answer!r}") from None
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], (list, tuple)):
        answer = answer[0]
    return answer


def _info(record: dict[str, Any]) -> dict[str, Any]:
    """`additional_info` as an object: MIG_data.json's string (a hint, kept only as an attribute) gives {}."""
    info = record.get("additional_info")
    if isinstance(info, dict):
        return info
    if info is None or isinstance(info, str):
        return {}
    raise RowRejected("additional_info", f"must be a string or an object, got {type(info).__name__}")


def _convert(session: ImportSession, index: int, record: Any, task_index: int | None) -> None:
    if not isinstance(record, dict):
        raise RowRejected("<record>", f"must be a JSON object, got {type(record).__name__}")
    if "task" in record and task_of(record) is None:
        raise RowRejected("task", f"must be a non-empty string, got {record['task']!r}")
    images = record.get("images")
    if not isinstance(images, list) or len(images) != 2:
        count = len(images) if isinstance(images, list) else type(images).__name__
        raise RowRejected("images", f"must list exactly two images (A, B), got {count}")
    info = _info(record)
    query = query_from(record.get("question"), "question")
    image_a = session.images.probe(images[0], "images[0]")
    image_b = session.images.probe(images[1], "images[1]")
    box = normalised_to_pixels(_answer_box(record.get("answer")), image_b.size, "answer")
    split = info.get("split", record.get("split", session.options.split))
    if not isinstance(split, str) or not split.strip():
        raise RowRejected("split", f"must be a non-empty string, got {split!r}")
    positions = {"source_index": index} if task_index is None else {"source_index": index, "task_index": task_index}
    session.add(
        pair_id=session.pair_id(image_a, image_b),
        split=split.strip(),
        image_a=image_a,
        image_b=image_b,
        query=query,
        box=box,
        edit_type=edit_type_from(info.get("edit_type"), "additional_info.edit_type"),
        # Every source field as it was, under its own name (so `--strata task` works).
        attributes={**record, **positions},
    )


def import_mig_bench(source: Path, out: Path, options: ImportOptions) -> ImportReport:
    records = _load_records(source)
    # MIG-Bench's paths start at the folder holding `MIG-Bench/`, one above the JSON.
    session = ImportSession(
        FORMAT,
        source,
        out,
        options,
        image_fallback_dirs=[Path(source).absolute().parent.parent],
        default_strata=("task",),  # MIG-Bench scores per task: `harness run` stratifies by it unless told otherwise
    )
    for index, record, task_index, skip in classify_records(records):
        if skip is not None:
            session.skip(skip, str(task_of(record)))
            continue
        try:
            _convert(session, index, record, task_index)
        except RowRejected as exc:
            session.reject(f"record {index + 1}", exc.field, exc.message)  # numbered from 1, like lines
    return session.finish(rows_read=len(records))
