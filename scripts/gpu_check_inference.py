"""The inference steps of `scripts/gpu_check.py`: throughput and peak memory of DiffTracker and of
full-size random-weight grounders, and `harness run` on the GPU against the same run on the CPU.

Grounders are built from their published configurations with random weights (transformers'
GroundingDinoConfig and Owlv2Config defaults at base size, groundingdino-py's packaged SwinT-OGC
config with a BERT-base-shaped text encoder): nothing is downloaded, and the numbers are speed,
never accuracy. A dry run uses the tiny test builders of tests/adapters/grounding/ instead.
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

GROUNDERS = ("gdino", "owlv2", "gdino-official")  # timed in mode b: `gdino-b`, `owlv2-b`, `gdino-official-b`
TOP1_TOLERANCE_PX = 2.0
"""GPU and CPU top-1 boxes may differ by this much per coordinate (px of image B): cuDNN's TF32
convolutions and other kernels round differently from the CPU's."""


def save_full_size_official(directory: Path) -> dict[str, Any]:
    """groundingdino-py's packaged SwinT-OGC config as released, random weights, BERT-base text encoder."""
    import torch
    from groundingdino.models import build_model
    from groundingdino.util.slconfig import SLConfig
    from transformers import BertConfig, BertModel

    from idg_adapters.grounding_text import bert_tokenizer
    from idg_adapters.official_grounding_dino import packaged_config

    text_dir = directory / "bert-base-uncased-random"
    torch.manual_seed(0)
    BertModel(BertConfig()).save_pretrained(text_dir)  # bert-base-uncased's shape
    bert_tokenizer(text_dir).save_pretrained(text_dir)
    args = SLConfig.fromfile(str(packaged_config()))
    args.text_encoder_type = str(text_dir)
    args.device = "cpu"
    checkpoint = directory / "groundingdino_swint_ogc_random.pth"
    torch.save({"model": build_model(args).state_dict()}, checkpoint)
    return {"weights": str(checkpoint), "text_encoder": str(text_dir)}


def grounder_options(family: str, directory: Path, dry: bool) -> dict[str, Any]:
    if dry:
        from tests.adapters.tiny_weights import FAMILY_BUILDERS

        return FAMILY_BUILDERS[family](directory)
    if family == "gdino-official":
        directory.mkdir(parents=True)
        return save_full_size_official(directory)
    from bench_grounding import save_full_size

    return save_full_size(family, directory)


def time_grounder(name: str, options: dict[str, Any], device: str, size: int, repeats: int) -> dict[str, Any]:
    """Samples per second of one adapter on a size x size pair (after a warm-up call) and its peak memory."""
    import torch
    from bench_grounding import synthetic_pair

    from idg_adapters import registry

    pair = synthetic_pair(size)
    adapter = registry.create_adapter(name, **options)
    adapter.load(device)
    (warm,) = adapter.predict([pair])
    if warm.error is not None:
        raise RuntimeError(f"{name} failed on the warm-up pair: {warm.error}")
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        adapter.predict([pair])
        if device == "cuda":
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - started)
    figures = {
        "size": size,
        "params_m": adapter.num_parameters() / 1e6,
        "samples_per_s": 1 / statistics.median(seconds),
        "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None,
    }
    del adapter
    if device == "cuda":
        torch.cuda.empty_cache()
    return figures


def inference(work: Path, dry: bool, publish: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    from bench_difftracker import throughput

    device = "cpu" if dry else "cuda"
    figures: dict[str, Any] = {"device": device}
    checks: dict[str, bool] = {}
    for size in (128, 160) if dry else (512, 800):
        try:
            result = throughput(size, pairs=2 if dry else 12)
            figures[f"difftracker@{size}"] = {k: result[k] for k in ("pairs_per_s", "queries_per_s", "cuda_peak_mb")}
            checks[f"difftracker@{size}"] = result["device"] == device
        except Exception as exc:  # one failure must not hide the other measurements
            figures[f"difftracker@{size}"] = {"error": f"{type(exc).__name__}: {exc}"}
            checks[f"difftracker@{size}"] = False
        publish({"figures": figures, "checks": checks})
    for family in GROUNDERS:
        name = f"{family}-b"
        try:
            built = time.perf_counter()
            options = grounder_options(family, work / f"grounder-{family}", dry)
            build_seconds = time.perf_counter() - built
            figures[name] = {**time_grounder(name, options, device, 160 if dry else 800, 2 if dry else 10),
                             "build_seconds": build_seconds}  # fmt: skip
            checks[name] = True
        except Exception as exc:
            figures[name] = {"error": f"{type(exc).__name__}: {exc}"}
            checks[name] = False
        publish({"figures": figures, "checks": checks})
    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"figures": figures, "checks": checks}


def _top1(run_dir: Path, model: str) -> dict[str, list[float] | None]:
    rows = [json.loads(line) for line in (run_dir / model / "predictions.jsonl").open(encoding="utf-8")]
    return {row["id"]: (row["boxes"][0] if row.get("boxes") and not row.get("error") else None) for row in rows}


def gpu_vs_cpu(work: Path, dry: bool) -> dict[str, Any]:
    """`harness run --models difftracker --limit N` on the GPU and on the CPU; top-1 boxes compared."""
    from harness.data.synth import SynthConfig, generate_dataset

    limit = 12 if dry else 200
    dataset = work / "test-synth"
    if not (dataset / "manifest.jsonl").is_file():
        size = {"min_size": 128, "max_size": 128} if dry else {}
        generate_dataset(
            dataset,
            SynthConfig(
                seed=11,
                n_train=0,
                n_val=0,
                n_test=limit,
                n_test_novel=0,
                n_test_robust=0,
                workers=1 if dry else 8,
                **size,
            ),
        )
    runs: dict[str, Path] = {}
    figures: dict[str, Any] = {"limit": limit, "tolerance_px": TOP1_TOLERANCE_PX}
    # A dry run has no GPU: its "gpu" run is a second CPU run, which exercises the comparison.
    for label, device in (("cpu", "cpu"), ("gpu", "cpu" if dry else "cuda")):
        out = work / f"run-{label}"
        command = [sys.executable, "-m", "harness", "run", "--models", "difftracker", "--dataset", str(dataset),
                   "--split", "test", "--limit", str(limit), "--device", device, "--output-dir", str(out),
                   "--run-id", "compare", "--no-cache", "--loader-workers", "0" if dry else "4"]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        figures[f"{label}_seconds"] = time.perf_counter() - started
        if done.returncode:
            raise RuntimeError(f"harness run --device {device} exited {done.returncode}: {done.stderr[-1500:]}")
        runs[label] = out / "compare"
        metrics = json.loads((runs[label] / "difftracker" / "metrics.json").read_text())
        figures[f"{label}_acc50"] = metrics["metrics"]["overall"]["acc@0.5"]["value"]
        figures[f"{label}_samples_per_s"] = metrics["samples_per_second"]
        figures[f"{label}_cuda_peak_mb"] = metrics["cuda_peak_mb"]
    cpu, gpu = _top1(runs["cpu"], "difftracker"), _top1(runs["gpu"], "difftracker")
    differences = {}
    for sample_id, box in cpu.items():
        other = gpu.get(sample_id)
        if box is None or other is None:
            differences[sample_id] = float("inf")
        else:
            differences[sample_id] = max(abs(a - b) for a, b in zip(box, other, strict=True))
    over = sorted((d, i) for i, d in differences.items() if d > TOP1_TOLERANCE_PX)
    figures["compared"] = len(differences)
    figures["max_top1_difference_px"] = max(differences.values(), default=float("nan"))
    figures["over_tolerance"] = len(over)
    figures["over_tolerance_ids"] = [i for _, i in over[-10:]]
    checks = {
        f"{limit} samples compared": len(differences) == limit and set(cpu) == set(gpu),
        f"top-1 boxes within {TOP1_TOLERANCE_PX} px": not over,
    }
    return {"figures": figures, "checks": checks}
