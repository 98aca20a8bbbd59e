"""Sharded runs: torchrun with 2 CPU processes gives the same predictions and metrics as 1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.run.distributed import DistContext
from tests.tiny_dataset import write_tiny_dataset

REPO = Path(__file__).resolve().parents[1]


def test_shards_partition_the_samples() -> None:
    items = list(range(11))
    shards = [DistContext(rank=r, world_size=3).shard(items) for r in range(3)]
    assert sorted(x for s in shards for x in s) == items
    assert shards[0] == [0, 3, 6, 9]


def test_keyed_shards_keep_each_group_on_one_rank() -> None:
    items = ["a1", "a2", "b1", "c1", "c2", "c3", "d1", "a3"]
    shards = [DistContext(rank=r, world_size=2).shard(items, key=lambda s: s[0]) for r in range(2)]
    assert shards == [["a1", "a2", "a3", "c1", "c2", "c3"], ["b1", "d1"]]
    assert DistContext().shard(items, key=lambda s: s[0]) == items


def _harness(args: list[str], processes: int) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    if processes == 1:
        cmd = [sys.executable, "-m", "harness", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", str(processes)]
        cmd += ["--standalone", "-m", "harness", *args]  # standalone: a free local rendezvous port
    # Own session, so a hung rank can be killed with its launcher instead of outliving the test.
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        _, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-3000:]


@pytest.mark.slow
def test_two_processes_match_one(tmp_path: Path) -> None:
    dataset = tmp_path / "ds"
    write_tiny_dataset(dataset, n_pairs=5)
    base = ["run", "--models", "pixel-diff,random-box", "--dataset", str(dataset), "--batch-size", "2"]
    _harness([*base, "--output-dir", str(tmp_path / "one"), "--run-id", "r"], processes=1)
    _harness([*base, "--output-dir", str(tmp_path / "two"), "--run-id", "r"], processes=2)
    for model in ("pixel-diff", "random-box"):
        one, two = tmp_path / "one" / "r" / model, tmp_path / "two" / "r" / model
        assert (one / "predictions.jsonl").read_bytes() == (two / "predictions.jsonl").read_bytes()
        assert not list(two.glob("predictions.rank*.jsonl")), "rank files must be merged away"
        m1 = json.loads((one / "metrics.json").read_text())
        m2 = json.loads((two / "metrics.json").read_text())
        assert m1["metrics"] == m2["metrics"]
        assert (m1["processes"], m2["processes"]) == (1, 2)
        assert m2["computed"] == 10 and m2["cached"] == 0
    # The cache written by two processes serves a one-process rerun completely.
    _harness([*base, "--output-dir", str(tmp_path / "two"), "--run-id", "again"], processes=1)
    info = json.loads((tmp_path / "two" / "again" / "run.json").read_text())["models"]["pixel-diff"]
    assert info["cached"] == 10 and info["computed"] == 0
