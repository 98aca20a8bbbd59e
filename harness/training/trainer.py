"""The training loop: AdamW, warm-up + cosine, gradient clipping, AMP on GPU, DDP under torchrun,
per-epoch validation, best and last checkpoints, resume, and the CSV/JSON log with its plot."""

from __future__ import annotations

import math
import random
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from harness.data.manifest import dataset_fingerprint, require_train_split
from harness.errors import HarnessError
from harness.run.devices import resolve_device as resolve_run_device
from harness.run.distributed import DistContext, init_from_env
from harness.run.run_environment import run_environment
from harness.training.checkpoint import (
    MODEL_FILE,
    TRAINER_STATE_FILE,
    load_model_weights,
    load_training_state,
    save_model_checkpoint,
    save_training_state,
)
from harness.training.config import TrainConfig
from harness.training.schedule import warmup_cosine_factor
from harness.training.task import TrainingTask, get_task_class
from harness.training.training_log import CURVE_PNG, write_log

BEST_DIR, LAST_DIR, EXPORT_DIR = "best", "last", "export"
# A resumed run must train the same thing; epochs may grow (train longer), nothing else may change.
RESUME_MUST_MATCH = ("task", "task_options", "seed", "batch_size", "lr", "weight_decay", "warmup_steps")


class ResumeError(HarnessError):
    """--resume found no checkpoint, or one from a different configuration."""


@dataclass
class TrainResult:
    output: Path
    epochs_run: int
    steps: int
    best_score: float
    best_epoch: int
    exported: Path | None
    export_scores: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    step_losses: list[float] = field(default_factory=list)
    """This process's loss at each step of this invocation, in order."""
    step_seconds: list[float] = field(default_factory=list)
    """Seconds from the first step's start to each step's end (the loss read-back waits for the GPU)."""


def resolve_device(device: str, ctx: DistContext) -> torch.device:
    return torch.device(resolve_run_device(device, ctx))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(
    config: TrainConfig,
    dataset: Path,
    output: Path,
    resume: bool = False,
    device: str = "auto",
    console: Console | None = None,
    stop_after: int | None = None,
    force_ddp: bool = False,
) -> TrainResult:
    """Train `config.task` on `dataset` into `output` (best/, last/, export/, log.csv, curve.png).

    `stop_after` ends this invocation after that many epochs (a time-limited job), leaving last/
    to resume from; the schedule still follows `config.epochs`. `force_ddp`: under torchrun, join
    the process group and train through DistributedDataParallel even with one process.
    """
    console = console or Console()
    started = time.perf_counter()
    require_train_split(dataset)
    ctx = init_from_env(device, force_group=force_ddp)
    threads = torch.get_num_threads()
    if config.cpu_threads:
        torch.set_num_threads(config.cpu_threads)
    try:
        return _train(
            config, Path(dataset), Path(output), resume, resolve_device(device, ctx), ctx, console, started, stop_after
        )
    finally:
        torch.set_num_threads(threads)
        ctx.close()


def _train(
    config: TrainConfig,
    dataset: Path,
    output: Path,
    resume: bool,
    device: torch.device,
    ctx: DistContext,
    console: Console,
    started: float,
    stop_after: int | None,
) -> TrainResult:
    seed_everything(config.seed)
    task: TrainingTask = get_task_class(config.task)(config.task_options, dataset, config.seed)
    task.prepare()
    model = task.build_model().to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = task.num_train_items() // (config.batch_size * ctx.world_size)
    if steps_per_epoch == 0:
        raise HarnessError(
            f"{task.num_train_items()} training items are fewer than one batch of "
            f"{config.batch_size} x {ctx.world_size} process(es): lower batch_size"
        )
    total_steps = config.epochs * steps_per_epoch
    rows: list[dict[str, Any]] = []
    start_epoch, step, best_score, best_epoch = 0, 0, -math.inf, 0
    if resume:
        state = _resume(output / LAST_DIR, config, task, model, optimizer)
        start_epoch, step, rows = state["epoch"], state["step"], state["rows"]
        best_score, best_epoch = state["best_score"], state["best_epoch"]
        if ctx.is_main:
            console.print(f"Resuming from {output / LAST_DIR} after epoch {start_epoch} (step {step}).")
    use_amp = config.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    if resume and use_amp and state.get("grad_scaler"):
        scaler.load_state_dict(state["grad_scaler"])
    trained = model
    if ctx.active:
        from torch.nn.parallel import DistributedDataParallel

        trained = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    provenance_base = _provenance_base(config, task, dataset, ctx) if ctx.is_main else {}

    end_epoch = config.epochs if stop_after is None else min(config.epochs, start_epoch + stop_after)
    step_losses: list[float] = []
    step_seconds: list[float] = []
    loop_started = time.perf_counter()
    cut_short = False  # max_steps ended an epoch before its last step
    for epoch in range(start_epoch, end_epoch):
        if config.max_steps and step >= config.max_steps:
            end_epoch = epoch
            break
        epoch_started = time.perf_counter()
        order = np.random.default_rng([config.seed, epoch]).permutation(task.num_train_items())
        mine = ctx.shard(list(order))[: steps_per_epoch * config.batch_size]
        model.train()
        losses, parts = [], {}
        with _progress(ctx.is_main, console) as progress:
            bar = progress.add_task(f"epoch {epoch + 1}/{config.epochs}", total=steps_per_epoch)
            for i in range(steps_per_epoch):
                if config.max_steps and step >= config.max_steps:
                    cut_short = True
                    break
                batch = task.train_batch(mine[i * config.batch_size : (i + 1) * config.batch_size], epoch, device)
                for group in optimizer.param_groups:
                    group["lr"] = config.lr * warmup_cosine_factor(
                        step, total_steps, config.warmup_steps, config.min_lr_ratio
                    )
                with torch.autocast("cuda", enabled=use_amp):
                    loss = task.loss(trained, batch)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                if config.grad_clip > 0:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                step += 1
                losses.append(float(loss.detach()))
                step_losses.append(losses[-1])
                step_seconds.append(time.perf_counter() - loop_started)
                for name, value in task.last_loss_parts.items():
                    parts.setdefault(name, []).append(value)
                progress.update(bar, advance=1, description=f"epoch {epoch + 1}/{config.epochs} loss {losses[-1]:.3f}")
        train_loss = float(np.mean([x for rank in ctx.gather(losses) for x in rank]))
        model.eval()
        scores = _validate(task, model, ctx, device)
        row = {
            "epoch": epoch + 1,
            "step": step,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": train_loss,
            **_mean_parts(ctx.gather(parts)),
            **{f"val_{k}": v for k, v in scores.items()},
            "epoch_seconds": time.perf_counter() - epoch_started,
        }
        rows.append(row)
        improved = scores[task.score_name] > best_score
        if improved:
            best_score, best_epoch = scores[task.score_name], epoch + 1
        if ctx.is_main:
            provenance = {**provenance_base, "epoch": epoch + 1, "step": step, "val": scores}
            if improved:
                save_model_checkpoint(output / BEST_DIR, task.checkpoint_state(model), provenance)
            save_model_checkpoint(output / LAST_DIR, task.checkpoint_state(model), provenance)
            save_training_state(
                output / LAST_DIR,
                optimizer,
                {
                    "epoch": epoch + 1,
                    "step": step,
                    "rows": rows,
                    "best_score": best_score,
                    "best_epoch": best_epoch,
                    "config": config.to_dict(),
                    "grad_scaler": scaler.state_dict() if use_amp else None,
                },
            )
            write_log(output, rows, task.score_name)
            console.print(
                f"epoch {epoch + 1}: loss {train_loss:.4f}, val {task.score_name} {scores[task.score_name]:.4f}"
                + (" (best)" if improved else "")
                + f", {row['epoch_seconds']:.1f} s"
            )
        ctx.barrier()
        if cut_short:
            end_epoch = epoch + 1
            break

    exported, export_scores = None, {}
    if ctx.is_main and end_epoch == config.epochs and not cut_short and (output / BEST_DIR / MODEL_FILE).is_file():
        exported, export_scores = _export(config, task, output, device, provenance_base, started, best_epoch, step)
    ctx.barrier()
    return TrainResult(
        output=output,
        epochs_run=end_epoch - start_epoch,
        steps=step,
        best_score=best_score,
        best_epoch=best_epoch,
        exported=exported,
        export_scores=export_scores,
        seconds=time.perf_counter() - started,
        step_losses=step_losses,
        step_seconds=step_seconds,
    )


def _progress(enabled: bool, console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not enabled,
        transient=True,
    )


def _validate(task: TrainingTask, model: torch.nn.Module, ctx: DistContext, device: torch.device) -> dict[str, float]:
    counts = task.validation_counts(model, ctx.shard, device)
    totals: dict[str, float] = {}
    for rank_counts in ctx.gather(counts):
        for key, value in rank_counts.items():
            totals[key] = totals.get(key, 0.0) + value
    return task.validation_scores(totals)


def _resume(folder: Path, config: TrainConfig, task: TrainingTask, model: torch.nn.Module, optimizer) -> dict[str, Any]:
    if not (folder / TRAINER_STATE_FILE).is_file():
        raise ResumeError(f"--resume: no checkpoint to resume from in {folder}; run without --resume to start")
    task.load_checkpoint_state(model, load_model_weights(folder))
    state = load_training_state(folder, optimizer)
    saved, wanted = state["config"], config.to_dict()
    changed = [key for key in RESUME_MUST_MATCH if saved.get(key) != wanted.get(key)]
    if changed:
        raise ResumeError(
            f"--resume: the checkpoint in {folder} was trained with different {changed}; "
            "resume with the same config (only epochs may grow) or train into another --output"
        )
    return state


def _mean_parts(per_rank: list[dict[str, list[float]]]) -> dict[str, float]:
    """Each loss part's epoch mean over every rank's steps, as `train_<part>` log columns."""
    names = sorted({name for rank in per_rank for name in rank})
    return {f"train_{name}": float(np.mean([v for rank in per_rank for v in rank.get(name, [])])) for name in names}


def _provenance_base(config: TrainConfig, task: TrainingTask, dataset: Path, ctx: DistContext) -> dict[str, Any]:
    environment = run_environment()
    return {
        "task": task.name,
        "model": task.model_spec(),
        "config": config.to_dict(),
        "command": sys.argv,
        "git_sha": environment["git_sha"],
        "packages": environment["packages"],
        "dataset": {"path": str(dataset), "fingerprint": dataset_fingerprint(dataset)},
        "seed": config.seed,
        "world_size": ctx.world_size,
        "score_name": task.score_name,
        **task.provenance_extras(),
    }


def _export(
    config: TrainConfig,
    task: TrainingTask,
    output: Path,
    device: torch.device,
    provenance_base: dict[str, Any],
    started: float,
    best_epoch: int,
    step: int,
) -> tuple[Path, dict[str, float]]:
    """Write the best weights in `export_dtype` and score exactly those (rounded) weights on val.

    The export is built in `export.partial/` and renamed into place once its provenance is
    complete, so `export/` never holds weights without their provenance (a kill while scoring
    leaves the previous export, or none)."""
    folder = output / EXPORT_DIR
    partial = output / f"{EXPORT_DIR}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    best = load_model_weights(output / BEST_DIR)
    save_model_checkpoint(partial, best, {}, dtype=config.export_dtype)
    model = task.build_model().to(device)
    task.load_checkpoint_state(model, load_model_weights(partial))
    model.eval()
    scores = _validate(task, model, DistContext(), device)
    provenance = {
        **provenance_base,
        "epoch": best_epoch,
        "steps": step,
        "val": scores,
        "weights_dtype": config.export_dtype,
        "train_seconds": round(time.perf_counter() - started, 1),
        "curve": CURVE_PNG,
    }
    save_model_checkpoint(partial, best, provenance, dtype=config.export_dtype)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder / MODEL_FILE, scores
