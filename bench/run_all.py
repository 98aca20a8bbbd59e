"""The benchmark suite (`make bench`): every speed target of the harness, measured, in one table.

Writes bench/results.md with the date and machine. Targets live here, never in unit tests.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_metrics import synthetic_boxes  # noqa: E402
from harness.data.manifest import read_manifest  # noqa: E402
from harness.data.synth import SynthConfig, generate_dataset  # noqa: E402
from harness.metrics import OutcomeTable, SampleOutcome, summarize_table  # noqa: E402
from harness.run.prediction_cache import PredictionCache  # noqa: E402
from harness.run.run_config import RunConfig  # noqa: E402
from harness.run.runner import run_evaluation  # noqa: E402
from harness.run.shard_predictor import ShardPredictor  # noqa: E402
from idg_adapters.base import Adapter, PairInput, Prediction  # noqa: E402
from idg_adapters.registry import register  # noqa: E402

DATASET = REPO / "data" / "diffground-synth"
console = Console()


@dataclass
class BenchResult:
    name: str
    measured: str
    target: str
    met: bool | None  # None: no target to meet yet
    note: str = ""


@register("bench-no-op")
class NoOpAdapter(Adapter):
    """Answers instantly: what remains is the harness's own cost per sample."""

    uses_query = False

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        return [Prediction.ranked([[0.0, 0.0, 8.0, 8.0]], [1.0]) for _ in batch]


def _ensure_dataset() -> None:
    if not (DATASET / "manifest.jsonl").is_file():
        console.print(f"generating {DATASET} ...")
        generate_dataset(DATASET, SynthConfig(workers=min(4, os.cpu_count() or 1)))


def bench_overhead(n: int = 5000) -> BenchResult:
    """Per-sample cost of the prediction loop (inputs, checks, predictions file, cache) with a no-op
    adapter and every image already decoded: all samples share one pair."""
    sample = next(s for s in read_manifest(DATASET).samples if s.split == "test")
    samples = [type(sample)(**{**sample.__dict__, "id": f"s{i:06d}"}) for i in range(n)]
    with tempfile.TemporaryDirectory() as tmp:
        fps = {s.id: f"{i:064x}" for i, s in enumerate(samples)}
        evaluation = ShardPredictor(
            adapter=NoOpAdapter(),
            samples=samples,
            fingerprints=fps,
            dataset=DATASET,
            cache=PredictionCache(Path(tmp), "bench-no-op", "0" * 64),
            predictions_path=Path(tmp) / "predictions.jsonl",
            batch_size=32,
        )
        start = time.perf_counter()
        evaluation.run(on_start=lambda total, cached: None, on_batch=lambda k: None)
        ms = 1000 * (time.perf_counter() - start) / n
    return BenchResult(
        "Harness overhead per sample (no-op adapter, images cached)", f"{ms:.3f} ms", "<= 1 ms", ms <= 1.0
    )


def bench_metrics(n: int = 1_000_000) -> BenchResult:
    targets, pred = synthetic_boxes(n, seed=0)
    rng = np.random.default_rng(1)
    edit_types = rng.choice(["appearance", "replace", "remove", "add"], n)
    sizes = rng.choice(["small", "medium", "large"], n)
    outcomes = [
        SampleOutcome(
            id=f"{i:08d}",
            target=tuple(targets[i]),
            boxes=pred[i : i + 1] if not np.isnan(pred[i, 0]) else np.zeros((0, 4)),
            scores=np.ones(1) if not np.isnan(pred[i, 0]) else np.zeros(0),
            strata={"edit_type": edit_types[i], "size": sizes[i]},
        )
        for i in range(n)
    ]
    start = time.perf_counter()
    table = OutcomeTable.from_outcomes(outcomes)
    built = time.perf_counter() - start
    start = time.perf_counter()
    summarize_table(table, with_ap50=False)
    summary = time.perf_counter() - start
    return BenchResult(
        "Metrics with 95% CIs, 1,000,000 samples (overall + 8 strata, no AP50)",
        f"{summary:.2f} s",
        "<= 2 s",
        summary <= 2.0,
        f"plus {built:.2f} s to sort and check the records; AP50 (pycocotools) is excluded at this size",
    )


def bench_synth(queries: int = 3000) -> BenchResult:
    with tempfile.TemporaryDirectory() as warm:
        generate_dataset(
            Path(warm), SynthConfig(seed=1, n_train=200, n_val=0, n_test=0, n_test_novel=0, n_test_robust=0)
        )
    with tempfile.TemporaryDirectory() as out:
        report = generate_dataset(
            Path(out),
            SynthConfig(seed=0, n_train=queries, n_val=0, n_test=0, n_test_novel=0, n_test_robust=0, workers=1),
        )
    qps = report.queries_per_second
    return BenchResult(
        "DiffGround-Synth generation, one core",
        f"{qps:.0f} queries/s",
        ">= 300 queries/s",
        qps >= 300,
        "about half the time is PNG compression and file creation; `--workers N` scales across cores",
    )


def _timed_run(output_dir: Path, run_id: str, use_cache: bool) -> float:
    config = RunConfig(
        models=["pixel-diff"],
        split="test",
        dataset=DATASET,
        output_dir=output_dir,
        run_id=run_id,
        device="cpu",
        use_cache=use_cache,
    )
    start = time.perf_counter()
    run_evaluation(config, Console(quiet=True))
    return time.perf_counter() - start


def bench_cached_rerun() -> BenchResult:
    with tempfile.TemporaryDirectory() as tmp:
        cold = _timed_run(Path(tmp), "cold", use_cache=False)
        warm = min(_timed_run(Path(tmp), f"warm{i}", use_cache=True) for i in range(3))
    ratio = cold / warm
    return BenchResult(
        "Cached rerun of a full pixel-diff test run (1000 samples)",
        f"{ratio:.0f}x faster ({cold:.1f} s -> {warm:.2f} s)",
        ">= 50x",
        ratio >= 50,
    )


def _harness_wall(args: list[str], processes: int) -> tuple[float, float]:
    """(command wall time, evaluation time from run.json) of a pixel-diff run."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    if processes == 1:
        cmd = [sys.executable, "-m", "harness", *args]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]
        cmd += ["-m", "harness", *args]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - start
    out = Path(args[args.index("--output-dir") + 1]) / args[args.index("--run-id") + 1]
    seconds = json.loads((out / "run.json").read_text())["models"]["pixel-diff"]["seconds"]
    return wall, seconds


def bench_sharding() -> BenchResult:
    with tempfile.TemporaryDirectory() as tmp:
        base = ["run", "--models", "pixel-diff", "--split", "test", "--dataset", str(DATASET), "--no-cache"]
        base += ["--loader-workers", "0", "--output-dir", tmp]
        one = _harness_wall([*base, "--run-id", "one"], 1)
        two = _harness_wall([*base, "--run-id", "two"], 2)
    speedup, eval_speedup = one[0] / two[0], one[1] / two[1]
    return BenchResult(
        "Two-process sharding speed-up (torchrun, pixel-diff, 1000 samples)",
        f"{speedup:.2f}x whole command, {eval_speedup:.2f}x evaluation",
        ">= 1.6x on 2 cores",
        speedup >= 1.6,
        f"1 process {one[0]:.1f} s, 2 processes {two[0]:.1f} s (includes start-up and rendezvous)",
    )


def bench_difftracker() -> BenchResult:
    from bench.bench_difftracker import throughput_rows

    return BenchResult(
        "DiffTracker inference throughput and peak memory (256 / 512 px)",
        throughput_rows(),
        "report",
        None,
        "committed difftracker checkpoint, one pair encoded once and grounded for 3 queries; "
        "accuracy against its targets: `python bench/bench_difftracker.py`",
    )


def bench_difftracker_targets() -> BenchResult:
    from bench.bench_difftracker import target_summary

    measured, met, note = target_summary()
    return BenchResult(
        "DiffTracker on the test split: Acc@0.5 overall / worst edit type, margin over the best control, "
        "no-DEM below DEM, training time",
        measured,
        ">= 0.80 overall, >= 0.70 per edit type, >= 15 pts over the best control, nodem < difftracker, <= 30 min on 2 CPU cores",
        met,
        note,
    )


def bench_grounding_latency() -> BenchResult:
    from bench.bench_grounding import grounding_rows

    measured, note = grounding_rows()
    return BenchResult(
        "Grounding adapters, CPU latency per sample and mode (tiny random models)",
        measured,
        "report",
        None,
        f"{note}; full-size random weights at 800 px: `python bench/bench_grounding.py --full`",
    )


BENCHMARKS: list[Callable[[], BenchResult]] = [
    bench_overhead,
    bench_metrics,
    bench_synth,
    bench_cached_rerun,
    bench_sharding,
    bench_difftracker,
    bench_difftracker_targets,
    bench_grounding_latency,
]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        )
    except (OSError, StopIteration):
        pass
    import torch

    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}"
    )


def main() -> None:
    _ensure_dataset()
    results = []
    for bench in BENCHMARKS:
        console.print(f"[bold]{bench.__name__}[/] ...")
        results.append(bench())
    table = Table(title="idg-harness benchmarks")
    for column in ("Benchmark", "Measured", "Target", "Met", "Note"):
        table.add_column(column, overflow="fold")
    marks = {True: "yes", False: "NO", None: "—"}
    for r in results:
        table.add_row(r.name, r.measured, r.target, marks[r.met], r.note)
    console.print(table)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Benchmark results",
        "",
        f"Measured {stamp} on {machine()} by `make bench` (bench/run_all.py).",
        "",
        "| Benchmark | Measured | Target | Met | Note |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {r.name} | {r.measured} | {r.target} | {marks[r.met]} | {r.note} |" for r in results]
    (REPO / "bench" / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print("Written to bench/results.md")


if __name__ == "__main__":
    main()
