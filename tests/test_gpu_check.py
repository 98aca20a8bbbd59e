"""scripts/gpu_check.py (`make gpu-check`): its dry run end to end, so the prepared GPU check cannot
rot between the rare runs on a GPU, and the orchestration rules (failures recorded, the next step
still run, a dry run never overwriting the real results)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.script_module import load_script

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "gpu_check.py"


def _gpu_check():
    return load_script("gpu_check")


@pytest.mark.slow
def test_dry_run_exercises_every_step_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "results-gpu.md"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(out)], cwd=REPO, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(out.with_suffix(".json").read_text())
    steps = {s["step"]: s for s in report["steps"]}
    assert list(steps) == ["cuda-tests", "train-smoke", "torchrun", "inference", "gpu-vs-cpu"]
    assert all(s["status"] == "passed" and s["seconds"] > 0 for s in steps.values()), steps
    assert report["environment"]["mode"] == "dry-run" and report["environment"]["torch"]

    tests = steps["cuda-tests"]["figures"]
    assert tests["tests"] >= 5 and tests["skipped"] == tests["tests"] and tests["skip_reasons"]
    smoke = steps["train-smoke"]["figures"]
    assert smoke["steps"] == 16 and smoke["steps_per_s"] > 0 and smoke["peak_rss_mb"] > 0
    assert smoke["loss_first"] > 0 and smoke["loss_last"] > 0
    projection = smoke["projection"]
    assert projection["epochs"] == 30 and projection["steps_per_epoch_1gpu"] == 8 * projection["steps_per_epoch_8gpu"]
    assert projection["total_hours_1gpu"] > projection["total_hours_8gpu"] > 0
    torchrun = steps["torchrun"]["figures"]
    assert torchrun["backend"] == "gloo" and torchrun["1proc_steps"] == 3
    inference = steps["inference"]["figures"]
    for name in ("difftracker@128", "difftracker@160"):
        assert inference[name]["pairs_per_s"] > 0, name
    for name in ("gdino-b", "owlv2-b", "gdino-official-b"):
        assert inference[name]["samples_per_s"] > 0 and inference[name]["params_m"] > 0, name
    compare = steps["gpu-vs-cpu"]["figures"]
    assert compare["compared"] == 12 and compare["max_top1_difference_px"] == 0.0  # two CPU runs agree exactly

    text = out.read_text()
    assert text.startswith("# GPU check (dry run")
    for key in ("## cuda-tests", "`skipped`", "`steps_per_s`", "`loss_last`", "`projection.epoch_minutes_8gpu`",
                "`1proc_steps`", "`gdino-official-b.samples_per_s`", "`difftracker@160.queries_per_s`",
                "`max_top1_difference_px`", "| device | CPU"):  # fmt: skip
        assert key in text, key


def test_a_failed_step_is_recorded_and_the_next_still_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    gpu_check = _gpu_check()
    ran = []

    def fake_step(step, work, dry, limit):
        ran.append(step)
        failed = step == "torchrun"
        return {"step": step, "status": "failed" if failed else "passed", "seconds": 1.0,
                "figures": {"x": 1.5}, "checks": {"ok": not failed}, **({"error": "boom"} if failed else {})}  # fmt: skip

    monkeypatch.setattr(gpu_check, "run_step", fake_step)
    out = tmp_path / "r.md"
    assert gpu_check.main(["--dry-run", "--out", str(out)]) == 1
    assert ran == list(gpu_check.STEPS)
    report = json.loads(out.with_suffix(".json").read_text())
    assert report["passed"] == 4 and [s["status"] for s in report["steps"]].count("failed") == 1
    assert "| torchrun | failed | 1.0 | boom |" in out.read_text()


def test_a_step_over_its_limit_keeps_the_figures_it_published(tmp_path: Path) -> None:
    gpu_check = _gpu_check()
    (tmp_path / "inference.json").write_text(json.dumps({"figures": {"gdino-b": {"samples_per_s": 3.0}},
                                                         "checks": {"gdino-b": True}}))  # fmt: skip

    def too_slow(command, limit):
        raise subprocess.TimeoutExpired(command, limit)

    gpu_check._run = too_slow
    record = gpu_check.run_step("inference", tmp_path, dry=True, limit=7)
    assert record["status"] == "failed" and record["error"] == "over its time limit of 7 s"
    assert record["figures"] == {"gdino-b": {"samples_per_s": 3.0}}


def test_the_run_helper_kills_the_whole_session_past_its_limit(tmp_path: Path) -> None:
    gpu_check = _gpu_check()
    pid_file = tmp_path / "grandchild.pid"
    grandchild = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    command = [sys.executable, "-c", "import subprocess, sys, time; "
               f"subprocess.Popen([sys.executable, '-c', {grandchild!r}]); time.sleep(60)"]  # fmt: skip
    with pytest.raises(subprocess.TimeoutExpired):
        gpu_check._run(command, 3)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # gone, or a zombie waiting for init to reap it
        stat = Path(f"/proc/{pid}/stat")
        if not stat.exists() or stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"the grandchild {pid} outlived the time limit")


def test_a_dry_run_never_overwrites_the_real_results() -> None:
    real = REPO / "bench" / "results-gpu.md"
    before = real.read_bytes()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--dry-run", "--out", str(real)], capture_output=True, text=True
    )
    assert done.returncode == 2 and "never overwrites" in done.stderr
    assert real.read_bytes() == before
