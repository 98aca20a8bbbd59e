"""Reading and writing a dataset folder: `manifest.jsonl` (one Sample a line) and `dataset.json`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.schema import FieldProblem, Sample, parse_sample
from harness.errors import EvaluationOnlyDataset, ManifestError
from harness.files.hashing import file_sha256

MANIFEST_NAME = "manifest.jsonl"
DATASET_INFO_NAME = "dataset.json"
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Problem:
    """One problem in a dataset, located by file, line (1-based, 0 = whole file) and field."""

    file: str
    line: int
    field: str
    message: str
    sample_id: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        who = f" [sample {self.sample_id}]" if self.sample_id else ""
        return f"{where}{who}: field '{self.field}' {self.message}"


@dataclass
class ManifestReadResult:
    """Samples that parsed, with the manifest line each came from, and every problem found."""

    samples: list[Sample] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)  # sample id -> line number
    problems: list[Problem] = field(default_factory=list)
    rows_total: int = 0


_PARSED: dict[str, tuple[str, ManifestReadResult]] = {}


def read_manifest(root: Path) -> ManifestReadResult:
    """Parse `root/manifest.jsonl`, keeping every problem (bad JSON, fields, duplicate ids).

    A row with a problem is not returned as a Sample but is always reported; rows after a bad
    one are still read. The parse is remembered while the file is unchanged (validation and the
    dataset fingerprint both need it); callers must not mutate the result.
    """
    path = Path(root) / MANIFEST_NAME
    if not path.is_file():
        raise ManifestError(
            f"{path}: no manifest; a dataset folder needs {MANIFEST_NAME}, one JSON sample a line "
            '(README section "Data: the DiffGround manifest"; fields in harness/data/schema.py)'
        )
    st = path.stat()
    stat_key = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"
    remembered = _PARSED.get(str(path.resolve()))
    if remembered is not None and remembered[0] == stat_key:
        return remembered[1]
    result = _parse_manifest(path)
    if len(_PARSED) > 8:
        _PARSED.clear()
    _PARSED[str(path.resolve())] = (stat_key, result)
    return result


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes without the line break) for each line; a UTF-8 byte order mark before
    line 1 is dropped. Lines split on newline bytes only, so a U+2028 inside a query stays in its row."""
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1:
                raw = raw.removeprefix(UTF8_BOM)
            yield lineno, raw.rstrip(b"\r\n")


def _id_of(row: Any) -> str | None:
    return row.get("id") if isinstance(row, dict) and isinstance(row.get("id"), str) else None


def _not_utf8(lineno: int, raw: bytes, exc: UnicodeDecodeError) -> Problem:
    """The problem for one line that is not UTF-8 (only that row is lost); names the sample when
    the line is JSON once its bad bytes are replaced."""
    try:
        sample_id = _id_of(json.loads(raw.decode("utf-8", errors="replace")))
    except json.JSONDecodeError:
        sample_id = None
    bad = raw[exc.start : exc.start + 1].hex()
    why = f"is not UTF-8 text: byte 0x{bad} at column {exc.start + 1} ({exc.reason}); re-save the manifest as UTF-8"
    return Problem(MANIFEST_NAME, lineno, "<encoding>", why, sample_id)


def _parse_manifest(path: Path) -> ManifestReadResult:
    result = ManifestReadResult()
    seen: dict[str, int] = {}
    for lineno, raw in _lines(path):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            result.rows_total += 1
            result.problems.append(_not_utf8(lineno, raw, exc))
            continue
        if not line.strip():
            continue
        result.rows_total += 1
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(MANIFEST_NAME, lineno, "<json>", f"is not valid JSON: {exc.msg}"))
            continue
        sample, field_problems = parse_sample(row)
        sample_id = _id_of(row)
        for fp in field_problems:
            result.problems.append(Problem(MANIFEST_NAME, lineno, fp.field, fp.message, sample_id))
        if sample is None:
            continue
        if sample.id in seen:
            result.problems.append(
                Problem(MANIFEST_NAME, lineno, "id", f"duplicates the id on line {seen[sample.id]}", sample.id)
            )
            continue
        seen[sample.id] = lineno
        result.samples.append(sample)
        result.lines[sample.id] = lineno
    return result


def write_manifest(root: Path, samples: Iterable[Sample]) -> Path:
    """Write samples as canonical JSON lines (sorted keys, so the same data gives the same bytes)."""
    path = Path(root) / MANIFEST_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        for sample in samples:
            fh.write(json.dumps(sample.to_json_dict(), sort_keys=True, ensure_ascii=False) + "\n")
    return path


def dataset_fingerprint(root: Path, digest: Callable[[Path], str] | None = None) -> str:
    """sha256 over the manifest bytes and every file it references (sorted by path).

    `digest(path)` gives a file's sha256 (default: read it; the runner passes a cache that skips
    files unchanged since the last run). Referenced files that are missing contribute their name
    only, so a fingerprint can be taken of a dataset with problems.
    """
    root = Path(root)
    digest = digest or file_sha256
    hasher = hashlib.sha256()
    hasher.update((root / MANIFEST_NAME).read_bytes())
    referenced: set[str] = set()
    for sample in read_manifest(root).samples:
        referenced.update(p for p in (sample.image_a, sample.image_b, sample.mask_b) if p)
    for rel in sorted(referenced):
        hasher.update(rel.encode("utf-8") + b"\0")
        path = root / rel
        if path.is_file() and not rel.startswith("/") and ".." not in Path(rel).parts:
            hasher.update(digest(path).encode())
    return hasher.hexdigest()


TRAIN_SPLIT = "train"


def splits_of(root: Path) -> set[str]:
    """The splits that the parsable rows of `root`'s manifest name."""
    return {sample.split for sample in read_manifest(root).samples}


def is_evaluation_only(root: Path) -> bool:
    """True when the dataset has no `train` split: models can be evaluated on it, not trained."""
    return TRAIN_SPLIT not in splits_of(root)


def require_train_split(root: Path) -> None:
    """Raise EvaluationOnlyDataset unless `root` has a `train` split; every training entry point calls this."""
    splits = splits_of(root)
    if TRAIN_SPLIT not in splits:
        raise EvaluationOnlyDataset(
            f"dataset {root} has no {TRAIN_SPLIT!r} split (it has {', '.join(sorted(splits)) or 'no valid rows'}): "
            "it is evaluation-only. Evaluate on it with `harness run --dataset`, and train on a dataset with a "
            "train split (e.g. `harness data synth`), or re-import with `--split train` for the rows meant for training."
        )


def read_dataset_info(root: Path) -> dict[str, Any]:
    """`dataset.json` as a dict, or `{}` when the folder has none (e.g. a hand-made dataset)."""
    path = Path(root) / DATASET_INFO_NAME
    if not path.is_file():
        return {}
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    if not isinstance(info, dict):
        raise ManifestError(f"{path}: must hold a JSON object")
    return info


def write_dataset_info(root: Path, info: dict[str, Any]) -> Path:
    path = Path(root) / DATASET_INFO_NAME
    path.write_text(json.dumps(info, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


__all__ = [
    "DATASET_INFO_NAME",
    "MANIFEST_NAME",
    "TRAIN_SPLIT",
    "FieldProblem",
    "ManifestReadResult",
    "Problem",
    "dataset_fingerprint",
    "file_sha256",
    "is_evaluation_only",
    "read_dataset_info",
    "read_manifest",
    "require_train_split",
    "splits_of",
    "write_dataset_info",
    "write_manifest",
]
