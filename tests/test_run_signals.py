"""A run stopped by SIGKILL or SIGTERM, with DataLoader workers decoding images, resumes exactly.

The stopped run's workers must not outlive it or keep its run folder locked; the rerun of the
same command must give the files of a run that was never stopped.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.run.run_lock import RunLock
from tests.slow_runner import SLOW_RUNNER
from tests.tiny_dataset import write_tiny_dataset

REPO = Path(__file__).resolve().parents[1]

N_PAIRS = 5  # 10 samples: enough batches for the workers to be busy when the signal comes


def _command(script: Path, dataset: Path, results: Path) -> list[str]:
    args = [sys.executable, str(script), "run", "--models", "test-slow", "--dataset", str(dataset), "--run-id", "r"]
    return args + ["--output-dir", str(results), "--batch-size", "1", "--loader-workers", "2"]


def _cached(results: Path) -> int:
    files = list((results / ".cache").glob("test-slow/*.jsonl")) if (results / ".cache").exists() else []
    return len(files[0].read_text().splitlines()) if files else 0


def _live_members(pgid: int) -> list[str]:
    """Processes of the group that are still running (zombies waiting to be reaped do not count)."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        state, group = fields[0], int(fields[2])
        if group == pgid and state not in ("Z", "X"):
            alive.append(f"{stat.parent.name} ({state})")
    return alive


def _wait_until_gone(pgid: int, seconds: float = 4.0) -> list[str]:
    deadline = time.time() + seconds
    while time.time() < deadline:
        alive = _live_members(pgid)
        if not alive:
            return []
        time.sleep(0.05)
    return _live_members(pgid)


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find left-over processes")
@pytest.mark.parametrize(
    ("signum", "to_group"),
    [(signal.SIGKILL, False), (signal.SIGTERM, False), (signal.SIGTERM, True)],
    ids=["sigkill", "sigterm", "sigterm-to-group"],
)
def test_stopped_run_with_loader_workers_resumes_to_identical_files(
    tmp_path: Path, signum: signal.Signals, to_group: bool
) -> None:
    dataset = tmp_path / "ds"
    write_tiny_dataset(dataset, n_pairs=N_PAIRS)
    script = tmp_path / "slow_run.py"
    script.write_text(SLOW_RUNNER)
    env = {**os.environ, "PYTHONPATH": str(REPO), "SLOW_SECONDS": "0"}
    reference = tmp_path / "reference"
    subprocess.run(_command(script, dataset, reference), env=env, check=True, capture_output=True)

    # A point drawn at random, reproducibly: after that many predictions are cached.
    kill_after = random.Random(f"{signum.name}-{to_group}").randint(0, 2 * N_PAIRS - 3)
    results = tmp_path / "results"
    command = _command(script, dataset, results)
    proc = subprocess.Popen(
        command,
        env={**env, "SLOW_SECONDS": "0.25"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: the workers can be found and a group signal sent
    )
    pgid = proc.pid
    deadline = time.time() + 90
    started = results / "r" / "run.json"
    while time.time() < deadline and (not started.exists() or _cached(results) < kill_after) and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is not None:
        pytest.fail(f"the run ended (exit {proc.returncode}) before it could be stopped: {proc.stderr.read()[-2000:]}")
    if to_group:
        os.killpg(pgid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    left = _wait_until_gone(pgid)
    assert not left, f"processes of the stopped run still alive: {left}"

    info = json.loads((results / "r" / "run.json").read_text())
    if signum == signal.SIGTERM:
        assert proc.returncode == 143, err.decode()[-2000:]
        assert info["status"] == "interrupted"
        assert "Interrupted" in err.decode()
    else:
        assert proc.returncode == -signal.SIGKILL
        assert info["status"] == "running"

    with RunLock(results / "r"):
        pass  # nothing holds the folder any more
    done_before = _cached(results)
    resumed = subprocess.run(command, env=env, capture_output=True)
    assert resumed.returncode == 0, resumed.stderr.decode()[-2000:]
    info = json.loads((results / "r" / "run.json").read_text())
    assert info["status"] == "complete"
    assert info["models"]["test-slow"]["cached"] == done_before
    got = (results / "r" / "test-slow" / "predictions.jsonl").read_bytes()
    assert got == (reference / "r" / "test-slow" / "predictions.jsonl").read_bytes()
    want = json.loads((reference / "r" / "test-slow" / "metrics.json").read_text())["metrics"]
    assert json.loads((results / "r" / "test-slow" / "metrics.json").read_text())["metrics"] == want


LOCK_THEN_FORK = textwrap.dedent(
    """
    import os, sys, time
    from harness.run.run_lock import RunLock

    lock = RunLock(sys.argv[1])
    lock.acquire()
    child = os.fork()
    if child == 0:
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 1)  # let the test read the parent's output without waiting for the child
        os.dup2(devnull, 2)
        time.sleep(60)  # a forked helper that outlives its parent, as a stuck worker would
        os._exit(0)
    print(child, flush=True)
    os._exit(0)  # the parent dies holding the lock
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_keep_the_run_folder_locked(tmp_path: Path) -> None:
    script = tmp_path / "lock_then_fork.py"
    script.write_text(LOCK_THEN_FORK)
    out = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run")],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        check=True,
        text=True,
    )
    child = int(out.stdout.strip())
    try:
        os.kill(child, 0)  # the child is still alive ...
        with RunLock(tmp_path / "run"):  # ... and the folder is free
            pass
    finally:
        os.kill(child, signal.SIGKILL)
