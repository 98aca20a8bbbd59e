"""What the subcommands share: the consoles, default paths and the adapter-option arguments."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from rich.console import Console

from harness.errors import HarnessError

DEFAULT_DATASET = Path("data/diffground-synth")
DEFAULT_RESULTS = Path("results")
DEFAULT_LEADERBOARDS = Path("leaderboards")

console = Console()
err_console = Console(stderr=True)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the line breaks of the examples in each command's epilog."""


def add_adapter_option_args(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    parser.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="MODEL.KEY=VALUE",
        help="adapter option, repeatable (e.g. --opt pixel-diff.min_area=50)",
    )
    parser.add_argument("--model-config", type=Path, help="YAML file mapping model names to their options")


def ensure_default_dataset() -> None:
    """Generate the bundled DiffGround-Synth at DEFAULT_DATASET when it is not there yet."""
    if (DEFAULT_DATASET / "manifest.jsonl").is_file():
        return
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise HarnessError(
            f"no dataset at {DEFAULT_DATASET}: generate it before a sharded run (`harness data synth`) "
            "so the ranks do not all write it at once"
        )
    err_console.print(f"No dataset at {DEFAULT_DATASET}: generating the bundled DiffGround-Synth (seed 0) ...")
    from harness.cli.data import generate_with_progress
    from harness.data.synth import SynthConfig

    # The output does not depend on the number of workers, so use what the machine has.
    config = SynthConfig(workers=min(4, os.cpu_count() or 1))
    report = generate_with_progress(DEFAULT_DATASET, config, err_console)
    err_console.print(f"Generated {report.total_queries} queries in {report.elapsed_s:.1f} s.")
