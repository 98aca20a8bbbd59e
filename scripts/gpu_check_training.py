"""The training steps of `scripts/gpu_check.py`: the paper.yaml smoke training and its torchrun runs.

Both go through the project's trainer (`harness.training.trainer.train`, `harness train`) with
difftracker/configs/paper.yaml and a few overrides: random backbone weights, a random-weight text
encoder of BERT-base's shape (nothing is downloaded), `max_steps`, and a small val split. Dry-run
sizes shrink the model and the data so the same code runs on a CPU in seconds.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
PAPER_RECIPE = REPO / "difftracker" / "configs" / "paper.yaml"
DEFAULT_TRAIN_QUERIES = 4000  # `harness data synth`'s default train split, for the projection

# What each mode changes in paper.yaml. Full mode keeps the recipe's architecture, batch size,
# resolution and schedule; the dry run is tiny and warms up at once so a dozen steps can learn.
FULL = {
    "train_queries": 2400,  # about 850 pairs: one epoch of 200 steps at 4 pairs per step
    "val_queries": 24,
    "overrides": {"max_steps": 200, "task_options": {"max_val_pairs": 8, "loader_threads": 8}},
    "torchrun_steps": 20,
}
DRY = {
    "train_queries": 60,
    "val_queries": 6,
    "overrides": {
        "max_steps": 16,
        "batch_size": 1,
        "lr": 0.001,
        "warmup_steps": 2,
        "task_options": {
            "max_val_pairs": 2,
            "loader_threads": 1,
            "model": {
                "image_size": 64,
                "d_model": 32,
                "heads": 2,
                "ffn_dim": 64,
                "neck_layers": 1,
                "decoder_layers": 2,
                "num_queries": 8,
            },  # fmt: skip
        },
    },
    "torchrun_steps": 3,
}


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def random_text_encoder(directory: Path, dry: bool) -> Path:
    """A BERT with random weights (bert-base-uncased's shape; tiny in a dry run) and the packaged
    bert-base-uncased vocabulary, saved where DiffTracker's text encoder loads local directories."""
    if (directory / "config.json").is_file():
        return directory
    import torch
    from transformers import BertConfig, BertModel

    from idg_adapters.grounding_text import bert_tokenizer

    config = (
        BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=37)
        if dry
        else BertConfig()
    )
    torch.manual_seed(0)
    BertModel(config).save_pretrained(directory)
    bert_tokenizer(directory).save_pretrained(directory)
    return directory


def training_inputs(work: Path, dry: bool) -> tuple[Path, dict[str, Any]]:
    """The synth dataset at the recipe's resolution and the recipe with this mode's overrides (both
    made once per work folder and shared by the smoke training and the torchrun runs)."""
    from harness.data.synth import SynthConfig, generate_dataset
    from harness.training.config import load_train_config

    sizes = DRY if dry else FULL
    recipe = load_train_config(PAPER_RECIPE).to_dict()
    dataset = work / "train-synth"
    if not (dataset / "manifest.jsonl").is_file():
        side = max(128, int(recipe["task_options"]["model"]["image_size"]))  # synth's smallest side is 128
        workers = 1 if dry else min(8, os.cpu_count() or 1)
        synth = SynthConfig(seed=7, n_train=sizes["train_queries"], n_val=sizes["val_queries"], n_test=0, n_test_novel=0, n_test_robust=0,
                            min_size=side, max_size=side, workers=workers)  # fmt: skip
        generate_dataset(dataset, synth)
    encoder = random_text_encoder(work / "text-encoder", dry)
    paths = {"task_options": {"text_cache": str(work / "text-cache.safetensors"),
                              "model": {"backbone_weights": "random", "text_encoder": str(encoder)}}}  # fmt: skip
    return dataset, _merged(_merged(recipe, sizes["overrides"]), paths)


def loss_windows(losses: list[float]) -> dict[str, float]:
    """Mean loss over the first and the last fifth of the steps (at least 2 steps each)."""
    width = max(2, len(losses) // 5)
    first, last = sum(losses[:width]) / width, sum(losses[-width:]) / width
    return {"window_steps": width, "loss_first": first, "loss_last": last, "loss_fell": last < first}


def steps_per_second(step_seconds: list[float]) -> float:
    """Steps per second after the first tenth of the steps (cuDNN autotuning, allocator warm-up)."""
    skip = max(1, len(step_seconds) // 10)
    return (len(step_seconds) - skip) / (step_seconds[-1] - step_seconds[skip - 1])


def projection(rate: float, config: dict[str, Any], dataset: Path) -> dict[str, Any]:
    """Wall time of the full recipe at the measured rate: training steps only (validation and
    checkpoints excluded), on DiffGround-Synth's default train split, with pairs counted at this
    dataset's queries per pair; 8 GPUs assume each GPU keeps the 1-GPU rate (linear scaling)."""
    rows = [json.loads(line) for line in (dataset / "manifest.jsonl").open(encoding="utf-8")]
    train = [r for r in rows if r["split"] == "train"]
    queries_per_pair = len(train) / len({r["pair_id"] for r in train})
    pairs = round(DEFAULT_TRAIN_QUERIES / queries_per_pair)
    steps_1 = pairs // config["batch_size"]
    steps_8 = pairs // (config["batch_size"] * 8)
    return {
        "train_queries": DEFAULT_TRAIN_QUERIES,
        "train_pairs_estimated": pairs,
        "epochs": config["epochs"],
        "steps_per_epoch_1gpu": steps_1,
        "epoch_minutes_1gpu": steps_1 / rate / 60,
        "total_hours_1gpu": steps_1 * config["epochs"] / rate / 3600,
        "steps_per_epoch_8gpu": steps_8,
        "epoch_minutes_8gpu": steps_8 / rate / 60,
        "total_hours_8gpu": steps_8 * config["epochs"] / rate / 3600,
    }


def train_smoke(work: Path, dry: bool) -> dict[str, Any]:
    import torch
    from rich.console import Console

    from harness.training.config import TrainConfig
    from harness.training.trainer import train

    device = "cpu" if dry else "cuda"
    prepared = time.perf_counter()
    dataset, config_dict = training_inputs(work, dry)
    prepare_seconds = time.perf_counter() - prepared
    config = TrainConfig.from_dict(config_dict, source=str(PAPER_RECIPE))
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    result = train(config, dataset, work / "smoke", device=device, console=Console(quiet=True))
    rate = steps_per_second(result.step_seconds)
    windows = loss_windows(result.step_losses)
    figures = {
        "device": device,
        "amp": bool(config.amp and device == "cuda"),
        "batch_size_pairs": config.batch_size,
        "image_size": config.task_options["model"]["image_size"],
        "steps": result.steps,
        "steps_per_s": rate,
        "pairs_per_s": rate * config.batch_size,
        **windows,
        "cuda_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "data_and_encoder_seconds": prepare_seconds,
        "train_seconds": result.seconds,
        "projection": projection(rate, config.to_dict(), dataset),
    }
    checks = {
        "ran max_steps": result.steps == config.max_steps,
        "losses finite": all(abs(x) < float("inf") for x in result.step_losses),
        "loss fell": windows["loss_fell"],
    }
    return {"figures": figures, "checks": checks}


def torchrun_runs(work: Path, dry: bool, publish: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """`torchrun -m harness train` with one process (--force-ddp: DDP in a one-process group) and,
    on a machine with 2 or more GPUs, with two."""
    import torch

    dataset, config_dict = training_inputs(work, dry)
    sizes = DRY if dry else FULL
    gpus = 0 if dry else torch.cuda.device_count()
    figures: dict[str, Any] = {"backend": "gloo" if dry else "nccl", "gpus": gpus}
    checks: dict[str, bool] = {}
    for processes in (1, 2) if gpus >= 2 else (1,):
        steps = sizes["torchrun_steps"]
        pairs = steps * config_dict["batch_size"] * processes
        config = _merged(config_dict, {"max_steps": steps, "task_options": {"max_train_pairs": pairs}})
        config_path = work / f"torchrun-{processes}.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        output = work / f"torchrun-{processes}"
        shutil.rmtree(output, ignore_errors=True)
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
                   "-m", "harness", "train", "difftracker", "--config", str(config_path), "--dataset", str(dataset),
                   "--output", str(output), "--device", "cpu" if dry else "cuda", "--force-ddp"]  # fmt: skip
        environment = {**os.environ, "NCCL_DEBUG": "INFO", "PYTHONPATH": str(REPO)}
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=environment, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        rows = json.loads((output / "log.json").read_text()) if (output / "log.json").is_file() else []
        trained = rows[-1]["step"] if rows else 0
        key = f"{processes}proc"
        figures[f"{key}_seconds"] = seconds
        figures[f"{key}_steps"] = trained
        figures[f"{key}_epoch_seconds"] = rows[-1]["epoch_seconds"] if rows else None
        checks[f"{processes} process(es): exit 0"] = done.returncode == 0
        checks[f"{processes} process(es): {steps} steps logged"] = trained == steps
        if not dry:
            checks[f"{processes} process(es): NCCL initialised"] = "NCCL INFO" in done.stdout + done.stderr
        if done.returncode:
            figures[f"{key}_error"] = (done.stdout + done.stderr)[-1500:]
        publish({"figures": figures, "checks": checks})
    return {"figures": figures, "checks": checks}
