"""The `harness` command line: one module per subcommand, dispatched through `set_defaults(func=...)`.

`models` (harness/cli/models.py), `data` (data.py), `run` (run.py), `report` (report.py) and
`train` (train.py) each register their parser with `register(commands)`; `main` parses and calls
the chosen command's function.
"""

from harness.cli.app import build_parser, main

__all__ = ["build_parser", "main"]
