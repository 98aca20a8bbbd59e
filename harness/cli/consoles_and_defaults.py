"""What the subcommands share: the consoles, default paths and the adapter-option arguments."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

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
