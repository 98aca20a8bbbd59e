"""The top-level parser and `main`: each subcommand module registers itself and its function."""

from __future__ import annotations

import argparse

from harness import __version__
from harness.cli import data, models, report, run, score, train
from harness.cli.consoles_and_defaults import err_console
from harness.errors import HarnessError

COMMANDS = (models, data, run, score, report, train)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="harness",
        description="idg-harness: evaluate Image Difference Grounding models on DiffGround-format data.",
    )
    parser.add_argument("--version", action="version", version=f"idg-harness {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except HarnessError as exc:  # includes DatasetInvalid: one clear message, no traceback
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return 2
