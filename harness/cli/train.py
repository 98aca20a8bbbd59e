"""`harness train MODEL`: train cd-siamese or DiffTracker (and its controls); see harness/training/."""

from __future__ import annotations

import argparse

from harness.cli.consoles_and_defaults import DEFAULT_DATASET, console
from harness.cli.data import ensure_default_dataset


def cmd_train(args: argparse.Namespace) -> int:
    from harness.files.output_paths import check_output_folder
    from harness.training.train_command import run_train

    if args.output is not None:
        check_output_folder(args.output, "--output")
    if args.dataset is None:
        ensure_default_dataset()
    return run_train(args, args.dataset or DEFAULT_DATASET, console)


def register(commands: argparse._SubParsersAction) -> None:
    from harness.training.train_command import add_train_parser

    add_train_parser(commands, DEFAULT_DATASET).set_defaults(func=cmd_train)
