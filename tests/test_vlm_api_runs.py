"""`harness run --models vlm-api` end to end against a scripted OpenAI-compatible server on 127.0.0.1:
answers, token counts in run.json and the leaderboard, the cache across a server restart, failed
requests as per-sample errors asked again on resume, the key kept out of every file, and a kill -9
mid-run resumed by asking only what is missing. The adapter itself is tested in
tests/adapters/test_vlm_api.py."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.cli import main
from tests.adapters.scripted_openai_server import (
    RecordedRequest,
    Reply,
    Script,
    ScriptedOpenAIServer,
    api_error,
    completion,
    scripted_servers,
)
from tests.tiny_dataset import write_tiny_dataset

REPO = Path(__file__).resolve().parents[1]
MODEL = "test-model"
BOX = "[100, 250, 500, 750]"  # on the generic prompt's 0-1000 grid: [8, 16, 40, 48] in the 80x64 images
SAMPLE_ID = re.compile(r"\[(test-\d{3}-d\d)\]")


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedOpenAIServer]]:
    with scripted_servers(MODEL) as start:
        yield start


def write_dataset(root: Path, n_pairs: int) -> list[str]:
    """The tiny dataset with each sample's id in its query, so the server can tell which one it is
    asked (ids, in manifest order)."""
    rows = write_tiny_dataset(root, n_pairs=n_pairs)
    manifest = root / "manifest.jsonl"
    for row in rows:
        row["query"] = f"{row['query']} [{row['id']}]"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return [row["id"] for row in rows]


def sample_of(request: RecordedRequest) -> str:
    match = SAMPLE_ID.search(request.text)
    assert match, request.text
    return match.group(1)


def box_reply(request: RecordedRequest) -> Reply:
    return Reply(body=completion(BOX, prompt_tokens=120, completion_tokens=12))


def run_args(server: ScriptedOpenAIServer, dataset: Path, results: Path, run_id: str, *opts: str) -> list[str]:
    args = ["run", "--models", "vlm-api", "--dataset", str(dataset), "--output-dir", str(results)]
    args += ["--run-id", run_id, "--loader-workers", "0", "--batch-size", "1"]
    args += ["--opt", f"vlm-api.base_url={server.base_url}", "--opt", f"vlm-api.model={MODEL}"]
    for opt in opts:
        args += ["--opt", f"vlm-api.{opt}"]
    return args


def model_entry(results: Path, run_id: str) -> dict:
    return json.loads((results / run_id / "run.json").read_text())["models"]["vlm-api"]


def predictions(results: Path, run_id: str) -> dict[str, dict]:
    lines = (results / run_id / "vlm-api" / "predictions.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, lines)}


def cached_ids(results: Path) -> list[str]:
    """Sample ids in the vlm-api cache; a line torn by a kill is skipped, as the harness does."""
    ids = []
    for path in (results / ".cache").glob("vlm-api/*.jsonl"):
        for line in path.read_text().splitlines():
            try:
                ids.append(json.loads(line)["prediction"]["id"])
            except (ValueError, KeyError):
                continue
    return ids


def test_run_scores_answers_counts_tokens_and_reuses_the_cache_on_another_port(
    serve, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset, results = tmp_path / "ds", tmp_path / "results"
    ids = write_dataset(dataset, n_pairs=3)
    server = serve(lambda r: Reply(body=completion(BOX, prompt_tokens=120, completion_tokens=12), delay=0.1))
    assert main(run_args(server, dataset, results, "r1", "max_concurrency=3")) == 0
    entry = model_entry(results, "r1")
    assert (entry["status"], entry["n"], entry["computed"], entry["errors"], entry["no_prediction"]) == (
        "done",
        6,
        6,
        0,
        0,
    )
    assert entry["tokens"] == {"prompt": 720, "completion": 72, "samples": 6, "per_sample": 132.0}
    rows = predictions(results, "r1")
    assert sorted(rows) == sorted(ids)
    assert all(row["boxes"] == [[8.0, 16.0, 40.0, 48.0]] and row["reply"] == BOX for row in rows.values())
    assert sorted(sample_of(r) for r in server.chat_requests) == sorted(ids)
    # --batch-size 1 still gives batches of max_concurrency, so requests overlap, at most 3 at once.
    assert 1 < server.max_in_flight <= 3

    boards = tmp_path / "boards"
    assert main(["report", "--results-dir", str(results), "--out", str(boards)]) == 0
    board = (boards / "leaderboard.md").read_text()
    header = next(line for line in board.splitlines() if "Tokens / sample" in line)
    row = next(line for line in board.splitlines() if line.startswith("| `vlm-api`") and "132" in line)
    column = [c.strip() for c in header.split("|")].index("Tokens / sample")
    assert [c.strip() for c in row.split("|")][column] == "132"

    restarted = serve(box_reply)  # the same model on another port: every answer comes from the cache
    assert main(run_args(restarted, dataset, results, "r2")) == 0
    assert restarted.chat_requests == []
    assert (model_entry(results, "r2")["cached"], model_entry(results, "r2")["computed"]) == (6, 0)
    capsys.readouterr()


def test_failed_requests_are_sample_errors_asked_again_on_resume_and_the_key_is_never_written(
    serve, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"sk-idg-test-{os.getpid()}-{time.time_ns()}"
    monkeypatch.setenv("IDG_TEST_VLM_SECRET", secret)
    dataset, results = tmp_path / "ds", tmp_path / "results"
    ids = write_dataset(dataset, n_pairs=3)
    healthy = False

    def script(request: RecordedRequest) -> Reply:
        sample = sample_of(request)
        if healthy or sample in ("test-000-d0", "test-002-d1"):
            return box_reply(request)
        if sample == "test-000-d1":
            return api_error(500, "overloaded", **{"retry-after-ms": "1"})
        if sample == "test-001-d0":  # a server that quotes the key back in its error
            return api_error(400, f"bad request from {request.headers['authorization']}")
        if sample == "test-001-d1":
            return Reply(body=completion(BOX), delay=30)
        return Reply(body='{"choices": [')  # test-002-d0: a torn body

    server = serve(script)
    opts = ("api_key_env=IDG_TEST_VLM_SECRET", "max_retries=1", "timeout=0.5")
    assert main(run_args(server, dataset, results, "r", *opts)) == 0  # errored samples do not fail the run
    first = capsys.readouterr()
    entry = model_entry(results, "r")
    assert (entry["status"], entry["errors"], entry["computed"]) == ("done", 4, 6)
    errors = {i: row.get("error") for i, row in predictions(results, "r").items()}
    assert "HTTP 500 after up to 2 attempt(s): overloaded" in errors["test-000-d1"]
    assert "HTTP 400 (not retried): bad request from Bearer ***" in errors["test-001-d0"]
    assert "no answer within 0.5 s" in errors["test-001-d1"]
    assert "not valid JSON" in errors["test-002-d0"]
    assert errors["test-000-d0"] is None and errors["test-002-d1"] is None
    asked = [sample_of(r) for r in server.chat_requests]
    assert asked.count("test-000-d1") == 2 and asked.count("test-001-d0") == 1 and asked.count("test-002-d0") == 1
    assert sorted(cached_ids(results)) == ["test-000-d0", "test-002-d1"]  # errors are not cached

    healthy = True
    before = len(server.chat_requests)
    assert main(run_args(server, dataset, results, "r", *opts)) == 0
    second = capsys.readouterr()
    again = sorted(sample_of(r) for r in server.chat_requests[before:])
    assert again == ["test-000-d1", "test-001-d0", "test-001-d1", "test-002-d0"]
    entry = model_entry(results, "r")
    assert (entry["errors"], entry["cached"], entry["computed"]) == (0, 2, 4)
    assert sorted(predictions(results, "r")) == sorted(ids)

    assert {r.headers["authorization"] for r in server.chat_requests} == {f"Bearer {secret}"}
    written = [p for p in results.rglob("*") if p.is_file()]
    assert any(p.parent.name == "vlm-api" and ".cache" in p.parts for p in written)  # the cache is among them
    leaks = [str(p) for p in written if secret.encode() in p.read_bytes()]
    assert leaks == [], f"the key was written to {leaks}"
    for captured in (first, second):
        assert secret not in captured.out and secret not in captured.err


@pytest.mark.slow
def test_kill_9_mid_run_then_resume_asks_only_what_is_missing(serve, tmp_path: Path) -> None:
    dataset, results = tmp_path / "ds", tmp_path / "results"
    ids = write_dataset(dataset, n_pairs=6)
    server = serve(lambda r: Reply(body=completion(BOX), delay=0.4))  # slow answers: the kill lands mid-run
    args = run_args(server, dataset, results, "r", "max_concurrency=2")
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(cached_ids(results)) < 2 and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.fail(f"the run ended (exit {proc.returncode}) before the kill: {proc.stderr.read()[-2000:]}")
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    answered = set(cached_ids(results))
    asked_before = len(server.chat_requests)
    assert 2 <= len(answered) < len(ids)
    assert main(args) == 0
    resumed = [sample_of(r) for r in server.chat_requests[asked_before:]]
    assert len(resumed) == len(set(resumed))  # each missing sample asked once
    assert answered.isdisjoint(resumed)
    assert answered | set(resumed) == set(ids)
    entry = model_entry(results, "r")
    assert (entry["cached"], entry["computed"], entry["errors"]) == (len(answered), len(resumed), 0)
    assert json.loads((results / "r" / "run.json").read_text())["status"] == "complete"


def test_controls_run_unchanged_and_the_gallery_shows_the_raw_answers(serve, tmp_path: Path) -> None:
    """query-shuffle, a-blind and swap go through the VLM like any model; the report's failure
    gallery shows each answer's text (here a reply without a box, a miss)."""
    dataset, results, boards = tmp_path / "ds", tmp_path / "results", tmp_path / "boards"
    write_dataset(dataset, n_pairs=2)

    def answer(request: RecordedRequest) -> Reply:
        text = BOX if sample_of(request).endswith("d0") else "I cannot see any difference."
        return Reply(body=completion(text, prompt_tokens=100, completion_tokens=8))

    server = serve(answer)
    assert main(run_args(server, dataset, results, "c1", "max_concurrency=2") + ["--control", "all"]) == 0
    models = json.loads((results / "c1" / "run.json").read_text())["models"]
    for kind in ("query-shuffle", "a-blind", "swap"):
        entry = models[f"vlm-api@{kind}"]
        assert entry["status"] == "done" and entry["control"] == kind and "drop" in entry
    assert models["vlm-api"]["no_prediction"] == 2  # the d1 samples: a reply, no box
    assert main(["report", str(results / "c1"), "--out", str(boards)]) == 0
    galleries = "".join(p.read_text() for p in boards.rglob("*.html"))
    assert "I cannot see any difference." in galleries
