"""`harness train MODEL --config YAML`: the CLI face of the trainer (parser and summary table)."""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.table import Table

import difftracker
from harness.training.task_names import DIFFTRACKER_FAMILY, TASKS

CONFIG_DIR = Path(__file__).resolve().parent / "configs"
DIFFTRACKER_CONFIGS = Path(difftracker.__file__).resolve().parent / "configs"
DEFAULT_CONFIGS = {
    "cd-siamese": CONFIG_DIR / "cd-siamese-synth-cpu.yaml",
    **{name: DIFFTRACKER_CONFIGS / "v2-quick.yaml" for name in DIFFTRACKER_FAMILY},  # the quick recipe (5 epochs)
}


TRAIN_EXAMPLES = """examples:
  harness train cd-siamese
  harness train difftracker --config difftracker/configs/v2-10-epochs.yaml --threads 2
  harness train difftracker --output results/train/difftracker --resume
  torchrun --nproc-per-node 2 -m harness train difftracker --device cuda
"""


def add_train_parser(commands: argparse._SubParsersAction, default_dataset: Path) -> argparse.ArgumentParser:
    train = commands.add_parser(
        "train",
        help="train a trainable model (cd-siamese, DiffTracker and its controls) and export its checkpoint",
        description="Train a model on a dataset's train split, validate each epoch on val, keep the best "
        "checkpoint (safetensors + provenance JSON). Runs under torchrun for DistributedDataParallel.",
        epilog=TRAIN_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("model", choices=sorted(TASKS), help="what to train")
    train.add_argument(
        "--config",
        type=Path,
        help="training YAML (default: cd-siamese-synth-cpu.yaml; DiffTracker and its controls: difftracker/configs/v2-quick.yaml)",
    )
    train.add_argument("--dataset", type=Path, help=f"dataset folder with train/val splits (default {default_dataset})")
    train.add_argument("--output", type=Path, help="output folder (default results/train/<model>)")
    train.add_argument("--resume", action="store_true", help="continue from OUTPUT/last/")
    train.add_argument("--device", default="auto", help="auto, cpu, cuda")
    train.add_argument(
        "--force-ddp",
        action="store_true",
        help="under torchrun, train through DistributedDataParallel in a process group even with one process "
        "(checks the DDP / NCCL path on a single GPU)",
    )
    train.add_argument(
        "--threads",
        type=int,
        help="torch threads per process on CPU, overriding the recipe's cpu_threads (e.g. 1 for each of two "
        "jobs side by side on 2 cores); recorded in the checkpoint's provenance",
    )
    return train


def run_train(args: argparse.Namespace, dataset: Path, console: Console) -> int:
    from harness.training.config import load_train_config
    from harness.training.trainer import train

    config = load_train_config(args.config or DEFAULT_CONFIGS[args.model])
    if config.task != args.model and {config.task, args.model} <= set(DIFFTRACKER_FAMILY):
        # One recipe for DiffTracker and its controls: the model named on the command line is trained.
        config = replace(config, task=args.model)
    if config.task != args.model:
        from harness.training.config import TrainConfigError

        raise TrainConfigError(f"{args.config} trains {config.task!r}, not {args.model!r}")
    if args.threads is not None:
        config = replace(config, cpu_threads=args.threads)
    output = args.output or Path("results/train") / args.model
    result = train(
        config, dataset, output, resume=args.resume, device=args.device, console=console, force_ddp=args.force_ddp
    )
    if result.exported is None:
        return 0
    table = Table(title=f"harness train {args.model}")
    table.add_column("what")
    table.add_column("value")
    table.add_row("steps", str(result.steps))
    table.add_row("best epoch", str(result.best_epoch))
    for key, value in result.export_scores.items():
        table.add_row(f"val {key} (exported weights)", f"{value:.4f}")
    table.add_row("checkpoint", str(result.exported))
    table.add_row("log", str(output / "log.csv"))
    table.add_row("seconds", f"{result.seconds:.0f}")
    console.print(table)
    return 0
