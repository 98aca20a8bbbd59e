"""Crash safety: kill -9 at several points, rerun, and get exactly an uninterrupted run's files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.cli import main
from harness.run.run_lock import RunLock
from tests.slow_runner import SLOW_RUNNER

REPO = Path(__file__).resolve().parents[1]


def _cache_lines(results: Path) -> int:
    files = list((results / ".cache").glob("test-slow/*.jsonl")) if (results / ".cache").exists() else []
    return len(files[0].read_text().splitlines()) if files else 0


def _command(script: Path, dataset: Path, results: Path, run_id: str) -> list[str]:
    args = [sys.executable, str(script), "run", "--models", "test-slow,center-prior", "--dataset", str(dataset)]
    return args + ["--output-dir", str(results), "--batch-size", "1", "--run-id", run_id, "--loader-workers", "0"]


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0, 2, 5, 6])
def test_kill_9_then_rerun_equals_uninterrupted(tiny_dataset: Path, tmp_path: Path, kill_after: int) -> None:
    """kill_after: predictions cached before the kill (0 = while starting, 6 = during scoring/writing)."""
    script = tmp_path / "slow_run.py"
    script.write_text(SLOW_RUNNER)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLOW_SECONDS": "0"}
    reference = tmp_path / "reference"
    subprocess.run(_command(script, tiny_dataset, reference, "r"), env=env, check=True, capture_output=True)

    results = tmp_path / "results"
    command = _command(script, tiny_dataset, results, "r")
    proc = subprocess.Popen(
        command, env={**env, "SLOW_SECONDS": "0.3"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 60
    while time.time() < deadline and _cache_lines(results) < kill_after and proc.poll() is None:
        time.sleep(0.01)
    if kill_after == 6:
        time.sleep(0.05)  # into the merge / metrics / run.json writes
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = _cache_lines(results)
    assert done_before >= kill_after

    subprocess.run(command, env=env, check=True, capture_output=True)
    info = json.loads((results / "r" / "run.json").read_text())
    assert info["status"] == "complete"
    assert info["models"]["test-slow"]["cached"] == done_before
    for model in ("test-slow", "center-prior"):
        got = (results / "r" / model / "predictions.jsonl").read_bytes()
        assert got == (reference / "r" / model / "predictions.jsonl").read_bytes()
        ids = [json.loads(line)["id"] for line in got.decode().splitlines()]
        assert len(ids) == len(set(ids)) == 6
        want = json.loads((reference / "r" / model / "metrics.json").read_text())["metrics"]
        assert json.loads((results / "r" / model / "metrics.json").read_text())["metrics"] == want
    leftovers = [p.name for p in (results / "r").rglob("*.tmp")]
    assert not leftovers, f"temporary files left behind: {leftovers}"


def test_a_run_folder_in_use_is_refused(tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    args = ["run", "--models", "center-prior", "--dataset", str(tiny_dataset), "--output-dir", str(results)]
    with RunLock(results / "busy"):
        assert main([*args, "--run-id", "busy"]) == 2
        assert "is in use by another harness process" in capsys.readouterr().err
        assert main([*args, "--run-id", "free"]) == 0
    assert main([*args, "--run-id", "busy"]) == 0, "the lock must be released with its holder"


@pytest.mark.slow
def test_two_runs_at_once_share_the_results_folder_safely(tiny_dataset: Path, tmp_path: Path) -> None:
    from harness.run.prediction_cache import PredictionCache

    script = tmp_path / "slow_run.py"
    script.write_text(SLOW_RUNNER)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLOW_SECONDS": "0.05"}
    results = tmp_path / "results"
    procs = [
        subprocess.Popen(_command(script, tiny_dataset, results, f"run{i}"), env=env, stderr=subprocess.PIPE)
        for i in range(2)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-2000:]
    first, second = ((results / f"run{i}" / "test-slow" / "predictions.jsonl").read_bytes() for i in range(2))
    assert first == second
    cache_file = next((results / ".cache" / "test-slow").glob("*.jsonl"))
    cache = PredictionCache(results, "test-slow", cache_file.stem)
    assert cache.torn_lines == 0 and len(cache) == 6
