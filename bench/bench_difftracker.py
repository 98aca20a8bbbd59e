"""DiffTracker's benchmarks: test-split accuracy against its targets and controls, training cost
from the checkpoints' provenance, and inference throughput / peak memory at 256 and 512 px.

    python bench/bench_difftracker.py            # all rows (runs the six models on the test split)
    python bench/bench_difftracker.py --size 512 # one throughput measurement (JSON), as run_all calls it
    python bench/bench_difftracker.py --size 224 --processes 2  # 2 one-thread processes side by side
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

FAMILY = ("difftracker", "difftracker-nodem", "late-fusion", "early-fusion", "concat-canvas", "mdetr-style")
CONTROLS = FAMILY[1:]
QUERIES = ("the object that appeared", "what was swapped for something red and plain", "the change in the upper left")


def throughput(size: int, pairs: int = 12, threads: int = 1) -> dict:
    """Pairs and queries per second of the committed difftracker run at `size` px (3 queries per pair),
    with `threads` torch threads on CPU."""
    import numpy as np
    import torch

    from difftracker.config import DiffTrackerConfig
    from difftracker.inference import encode_pair, ground_text
    from difftracker.model import DiffTracker
    from idg_adapters.checkpoint_files import CHECKPOINT_DIR, load_state_dict

    provenance = json.loads((CHECKPOINT_DIR / "difftracker-synth.json").read_text())
    config = DiffTrackerConfig.from_dict({**provenance["model"]["config"], "image_size": size})
    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(threads if device == "cpu" else torch.get_num_threads())
    model = DiffTracker(config)
    model.load_trained_state_dict(
        {k: v.float() for k, v in load_state_dict(CHECKPOINT_DIR / "difftracker-synth.safetensors").items()}
    )
    model = model.to(device).eval()
    encoder = model.make_text_encoder().to(device)
    texts = [encoder([q]) for q in QUERIES]
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (2, 3, size, size), dtype=np.uint8) for _ in range(pairs)]
    ground_text(model, encode_pair(model, images[0], device), texts[0])  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    for pair in images:
        visual = encode_pair(model, pair, device)
        for text in texts:
            ground_text(model, visual, text)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    return {
        "size": size,
        "device": device,
        "threads": torch.get_num_threads(),
        "pairs_per_s": pairs / seconds,
        "queries_per_s": pairs * len(texts) / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None,
    }


def side_by_side(size: int, processes: int, pairs: int = 60) -> dict:
    """Summed throughput of `processes` one-thread measurements run at once (as a sharded `harness
    run` uses the cores: torchrun, one thread per process); `pairs` long enough that the timed
    windows overlap although the processes finish loading at slightly different times."""
    command = [sys.executable, __file__, "--size", str(size), "--threads", "1", "--pairs", str(pairs)]
    running = [subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO) for _ in range(processes)]
    results = []
    for proc in running:
        out, _ = proc.communicate(timeout=900)
        if proc.returncode:
            raise SystemExit(f"a measuring process failed (exit {proc.returncode})")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "size": size,
        "processes": processes,
        "queries_per_s": sum(r["queries_per_s"] for r in results),
        "per_process_queries_per_s": [round(r["queries_per_s"], 1) for r in results],
        "peak_rss_mb_per_process": max(r["peak_rss_mb"] for r in results),
    }


def throughput_rows() -> str:
    parts = []
    for size in (256, 512):
        done = subprocess.run(
            [sys.executable, __file__, "--size", str(size)], capture_output=True, text=True, cwd=REPO, timeout=900
        )
        if done.returncode:
            parts.append(f"{size} px: failed ({done.stderr.strip().splitlines()[-1:]})")
            continue
        r = json.loads(done.stdout.strip().splitlines()[-1])
        memory = f"peak RSS {r['peak_rss_mb']:.0f} MB" + (
            f", CUDA {r['cuda_peak_mb']:.0f} MB" if r["cuda_peak_mb"] else ""
        )
        parts.append(
            f"{size} px: {r['pairs_per_s']:.1f} pairs/s, {r['queries_per_s']:.1f} queries/s (3 per pair), {memory} "
            f"({r['device']}, {r['threads']} thread(s))"
        )
    return "; ".join(parts)


def accuracy_rows(dataset: Path) -> dict:
    """Test-split Acc@0.5 of the six models (overall, per edit type) via the harness's own run."""
    from rich.console import Console

    from harness.run.run_config import RunConfig
    from harness.run.runner import run_evaluation

    result = run_evaluation(
        RunConfig(models=list(FAMILY), split="test", dataset=dataset, output_dir=REPO / "results"), Console(quiet=True)
    )
    scores = {}
    for name in FAMILY:
        metrics_file = result.run_dir / name / "metrics.json"
        if not metrics_file.is_file():
            continue
        metrics = json.loads(metrics_file.read_text())["metrics"]
        by_edit = metrics["by"].get("edit_type", {})
        scores[name] = {
            "acc50": metrics["overall"]["acc@0.5"]["value"],
            "ci": metrics["overall"]["acc@0.5"]["ci"],
            "by_edit": {k: v["acc@0.5"]["value"] for k, v in by_edit.items()},
        }
    return scores


def training_costs() -> dict:
    from idg_adapters.checkpoint_files import CHECKPOINT_DIR

    costs = {}
    for name in FAMILY:
        path = CHECKPOINT_DIR / f"{name}-synth.json"
        if path.is_file():
            p = json.loads(path.read_text())
            costs[name] = {
                "seconds": p.get("train_seconds"),
                "threads": p["config"].get("cpu_threads"),
                "val": p["val"]["acc50"],
            }
    return costs


def target_summary() -> tuple[str, bool, str]:
    """One benchmark row: the measured numbers against DiffTracker's speed and accuracy targets."""
    scores = accuracy_rows(REPO / "data" / "diffground-synth")
    costs = training_costs()
    ours = scores["difftracker"]
    worst_edit, worst = min(ours["by_edit"].items(), key=lambda item: item[1])
    best_control, control_score = max(((n, scores[n]["acc50"]) for n in CONTROLS if n in scores), key=lambda x: x[1])
    margin = ours["acc50"] - control_score
    nodem = scores.get("difftracker-nodem", {}).get("acc50", float("nan"))
    minutes = (costs.get("difftracker", {}).get("seconds") or float("nan")) / 60
    threads = costs.get("difftracker", {}).get("threads") or "all"
    met = ours["acc50"] >= 0.80 and worst >= 0.70 and margin >= 0.15 and nodem < ours["acc50"] and minutes <= 30
    lo, hi = ours["ci"]
    measured = (
        f"{ours['acc50']:.3f} [{lo:.3f}, {hi:.3f}] overall, worst edit type {worst_edit} {worst:.3f}; "
        f"best control {best_control} {control_score:.3f} (margin {100 * margin:+.1f} pts); "
        f"nodem {nodem:.3f}; trained in {minutes:.1f} min ({threads} CPU thread(s), from its provenance)"
    )
    controls = ", ".join(f"{n} {scores[n]['acc50']:.3f}" for n in CONTROLS if n in scores)
    return measured, met, f"controls (same recipe): {controls}"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int)
    parser.add_argument("--threads", type=int, default=1, help="torch threads on CPU (the table rows use 1)")
    parser.add_argument("--processes", type=int, default=1, help="with --size: this many one-thread processes at once")
    parser.add_argument(
        "--pairs", type=int, help="with --size: image pairs timed, 3 queries each (12; 60 side by side)"
    )
    args = parser.parse_args()
    if args.size and args.processes > 1:
        print(json.dumps(side_by_side(args.size, args.processes, args.pairs or 60)))
    elif args.size:
        print(json.dumps(throughput(args.size, pairs=args.pairs or 12, threads=args.threads)))
    else:
        print(
            json.dumps(
                {"accuracy": accuracy_rows(REPO / "data" / "diffground-synth"), "training": training_costs()}, indent=1
            )
        )
        print(throughput_rows())
