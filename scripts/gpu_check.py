"""The GPU path, checked in one prepared run (`make gpu-check`), within an 8-minute budget on one GPU.

    python scripts/gpu_check.py                 # on a CUDA machine: writes bench/results-gpu.md and .json
    python scripts/gpu_check.py --dry-run       # anywhere: tiny sizes on the CPU, output in a temp folder
    python scripts/gpu_check.py --dry-run --out DIR/results.md

Steps, each timed; a failed step is recorded and the next one still runs; the exit code is 1 if
any step failed:
  1. cuda-tests   `pytest -m cuda` (tests/test_cuda.py: AMP, GPU->CPU checkpoints, CUDA peak memory,
                  `harness run --device cuda`); a dry run expects them skipped.
  2. train-smoke  difftracker/configs/paper.yaml through the trainer for `max_steps` steps with AMP on
                  DiffGround-Synth at the recipe's resolution: steps/s, peak memory, first vs last
                  loss, and the projected wall time of the full recipe.
  3. torchrun     `torchrun -m harness train` with one process (NCCL; gloo in a dry run) and with two
                  on a machine with two GPUs.
  4. inference    throughput and peak memory of difftracker (512, 800 px) and of full-size
                  random-weight gdino-b, owlv2-b and gdino-official-b.
  5. gpu-vs-cpu   `harness run --models difftracker --limit 200` on the GPU and on the CPU: the
                  largest top-1 box difference against a stated tolerance.
Steps 2-5 each run in a child process (`--step NAME`) with a time limit, so a crash or a hang of
one cannot take the others down. A dry run never writes bench/results-gpu.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

REAL_RESULTS = REPO / "bench" / "results-gpu.md"
# Full mode must finish in 8 minutes on one GPU: each step has its own limit (seconds), cut further
# by what is left of the budget. A dry run takes about a minute on 2 cores; its limits only stop a
# hang, with room for a machine shared with other jobs (it runs torch on one thread per process).
BUDGET_SECONDS = {"full": 480, "dry": 900}
STEP_LIMITS = {
    "cuda-tests": {"full": 100, "dry": 180},
    "train-smoke": {"full": 150, "dry": 240},
    "torchrun": {"full": 140, "dry": 180},
    "inference": {"full": 150, "dry": 240},
    "gpu-vs-cpu": {"full": 100, "dry": 240},
}
STEPS = tuple(STEP_LIMITS)


def run_step_in_this_process(step: str, work: Path, dry: bool, publish: Callable[[dict], None]) -> dict[str, Any]:
    """A child's step. `publish` saves what is measured so far: a step cut off by its time limit
    keeps those figures."""
    if step == "train-smoke":
        from gpu_check_training import train_smoke

        return train_smoke(work, dry)
    if step == "torchrun":
        from gpu_check_training import torchrun_runs

        return torchrun_runs(work, dry, publish)
    if step == "inference":
        from gpu_check_inference import inference

        return inference(work, dry, publish)
    from gpu_check_inference import gpu_vs_cpu

    return gpu_vs_cpu(work, dry)


def _run(command: list[str], limit: float) -> subprocess.CompletedProcess:
    """`command` in its own session; past `limit` seconds that whole session (torchrun's workers
    too) is killed and TimeoutExpired raised."""
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(_finite(data), indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


def cuda_tests(work: Path, dry: bool, limit: float) -> dict[str, Any]:
    report = work / "cuda-tests.xml"
    command = [sys.executable, "-m", "pytest", "-m", "cuda", "-q", "-rs", "-p", "no:cacheprovider",
               f"--junitxml={report}", "tests"]  # fmt: skip
    done = _run(command, limit)
    suite = ElementTree.parse(report).getroot()
    suite = suite.find("testsuite") if suite.tag == "testsuites" else suite
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    reasons = sorted({s.get("message", "") for s in suite.iter("skipped")})
    figures = {**counts, "passed": counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
               "skip_reasons": reasons}  # fmt: skip
    checks = {"pytest exit 0": done.returncode == 0, "cuda tests collected": counts["tests"] > 0}
    if dry:
        checks["all skipped without CUDA"] = counts["skipped"] == counts["tests"]
    else:
        checks["none skipped on the GPU"] = counts["skipped"] == 0
    if done.returncode:
        figures["output_tail"] = done.stdout[-2000:]
    return {"figures": figures, "checks": checks}


def run_step(step: str, work: Path, dry: bool, limit: float) -> dict[str, Any]:
    """One step's record: status, seconds, figures, checks, and the error when it failed."""
    started = time.perf_counter()
    record: dict[str, Any] = {"step": step, "status": "failed", "figures": {}, "checks": {}}
    result = work / f"{step}.json"
    try:
        if step == "cuda-tests":
            outcome = cuda_tests(work, dry, limit)
        else:
            command = [sys.executable, __file__, "--step", step, "--work", str(work), "--result", str(result)]
            done = _run(command + (["--dry-run"] if dry else []), limit)
            if done.returncode or not result.is_file():
                raise RuntimeError(f"exit {done.returncode}: {(done.stderr or done.stdout)[-2000:]}")
            outcome = json.loads(result.read_text())
        record.update(outcome)
        failed = [name for name, ok in outcome["checks"].items() if not ok]
        record["status"] = "failed" if failed else "passed"
        if failed:
            record["error"] = "checks failed: " + "; ".join(failed)
    except subprocess.TimeoutExpired:
        if result.is_file():  # what the step measured before its limit
            record.update(json.loads(result.read_text()))
        record["error"] = f"over its time limit of {limit:.0f} s"
    except Exception as exc:  # recorded; the next step still runs
        record["error"] = f"{type(exc).__name__}: {exc}"
    record["seconds"] = time.perf_counter() - started
    return record


def environment(dry: bool) -> dict[str, Any]:
    import torch

    from harness.run.run_environment import run_environment

    info: dict[str, Any] = {
        "mode": "dry-run" if dry else "full",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": platform.node(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "gpus": torch.cuda.device_count() if torch.cuda.is_available() else 0,
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores)",
        "driver": None,
        "git_sha": run_environment().get("git_sha"),
    }
    try:
        smi = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
        info["driver"] = subprocess.run(smi, capture_output=True, text=True, timeout=20).stdout.split("\n")[0] or None
    except (OSError, subprocess.TimeoutExpired):
        pass
    return info


def _finite(value: Any) -> Any:
    """JSON without NaN/Infinity: non-finite floats become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.0f}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_show(v) for v in value) or "-"
    return "-" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def _figure_rows(figures: dict[str, Any], prefix: str = "") -> list[str]:
    rows = []
    for key, value in figures.items():
        if isinstance(value, dict):
            rows += _figure_rows(value, f"{prefix}{key}.")
        else:
            rows.append(f"| `{prefix}{key}` | {_show(value)} |")
    return rows


def markdown(report: dict[str, Any]) -> str:
    env = report["environment"]
    dry = env["mode"] == "dry-run"
    lines = [
        "# GPU check" + (" (dry run: tiny sizes on the CPU, not GPU figures)" if dry else ""),
        "",
        f"Written by `{report['command']}` (`scripts/gpu_check.py`) on {env['date']}: "
        f"{report['passed']}/{len(report['steps'])} steps passed in {report['seconds']:.0f} s. "
        "The figures are also in the JSON file beside this one.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {key} | {_show(env[key])} |" for key in env],
        "",
        "| step | status | seconds | error |",
        "|---|---|---|---|",
        *[f"| {s['step']} | {s['status']} | {s['seconds']:.1f} | {_show(s.get('error'))} |" for s in report["steps"]],
    ]
    for step in report["steps"]:
        lines += ["", f"## {step['step']}", "", "| figure | value |", "|---|---|", *_figure_rows(step["figures"])]
        lines += [f"| check: {name} | {'ok' if ok else 'FAILED'} |" for name, ok in step["checks"].items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes on the CPU (also where CUDA is missing)")
    parser.add_argument("--out", type=Path, help="the markdown file (JSON beside it); default bench/results-gpu.md, "
                        "or a temp folder in a dry run")  # fmt: skip
    parser.add_argument("--steps", default=",".join(STEPS), help=f"comma-separated subset of {','.join(STEPS)}")
    parser.add_argument("--step", choices=STEPS[1:], help=argparse.SUPPRESS)  # child process: one step
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.dry_run:
        # Tiny models gain nothing from a second thread, and lose much when the cores are shared.
        os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.step:
        publish = partial(_write_json, args.result)
        publish(run_step_in_this_process(args.step, args.work, args.dry_run, publish))
        return 0

    import torch

    dry = args.dry_run
    if not dry and not torch.cuda.is_available():
        print("gpu_check: CUDA is not available here; run with --dry-run (make gpu-check does)", file=sys.stderr)
        return 2
    out = args.out or (
        Path(tempfile.gettempdir()) / "idg-gpu-check" / "results-gpu-dry-run.md" if dry else REAL_RESULTS
    )
    if dry and out.resolve() == REAL_RESULTS.resolve():
        print(f"gpu_check: a dry run never overwrites {REAL_RESULTS}; pass another --out", file=sys.stderr)
        return 2
    steps = [s for s in args.steps.split(",") if s]
    unknown = sorted(set(steps) - set(STEPS))
    if unknown:
        parser.error(f"unknown step(s) {unknown}; steps: {','.join(STEPS)}")
    mode = "dry" if dry else "full"
    started = time.perf_counter()
    records = []
    with tempfile.TemporaryDirectory(prefix="idg-gpu-check-") as tmp:
        for step in [s for s in STEPS if s in steps]:
            left = BUDGET_SECONDS[mode] - (time.perf_counter() - started)
            if left < 5:
                records.append({"step": step, "status": "failed", "seconds": 0.0, "figures": {}, "checks": {},
                                "error": f"not run: the {BUDGET_SECONDS[mode]} s budget was spent"})  # fmt: skip
                continue
            print(f"gpu_check: {step} ...", flush=True)
            records.append(run_step(step, Path(tmp), dry, min(STEP_LIMITS[step][mode], left)))
            print(f"gpu_check: {step} {records[-1]['status']} in {records[-1]['seconds']:.1f} s"
                  + (f": {records[-1]['error'][:300]}" if records[-1].get("error") else ""), flush=True)  # fmt: skip
    report = {
        "command": "python scripts/gpu_check.py" + (" --dry-run" if dry else ""),
        "environment": environment(dry),
        "seconds": time.perf_counter() - started,
        "passed": sum(r["status"] == "passed" for r in records),
        "steps": records,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_json(out.with_suffix(".json"), report)
    out.write_text(markdown(report), encoding="utf-8")
    print(f"gpu_check: {report['passed']}/{len(records)} steps passed in {report['seconds']:.0f} s; wrote {out}")
    return 0 if report["passed"] == len(records) else 1


if __name__ == "__main__":
    sys.exit(main())
