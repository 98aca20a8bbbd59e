"""`harness models --check-boxes MODEL`: the box-convention self-check of one text-answering model.

It loads the model, asks it to box one red square added to twelve plain probe pairs of several
sizes and aspect ratios, and prints per axis the line fit of its boxes against the truth (scale,
offset, R^2) and any warning that its numbers are read in the wrong frame (see
`harness/run/box_convention_check.py`). Exit codes:

| code | meaning |
|---|---|
| 0 | the boxes look right: scale ~1, offset ~0, no other reading explains them better |
| 1 | the model cannot run here (missing weights, package or server); the message says how to enable it |
| 2 | usage error: unknown model, a model that does not answer in text, bad --opt or --device |
| 3 | the boxes look wrong: another reading explains them, or the scale, offset or fit is off |
| 4 | no readable boxes: fewer than three answers held a box in the prompt's form |
"""

from __future__ import annotations

import argparse
import textwrap

from rich import box
from rich.table import Table

from harness.cli.consoles_and_defaults import console
from harness.errors import HarnessError
from harness.run.box_convention_check import BoxCheck, Verdict, check_box_convention
from harness.run.box_convention_fit import signed
from idg_adapters.base import AdapterUnavailable
from idg_adapters.box_text import CONVENTIONS

EXIT_OK = 0
EXIT_UNAVAILABLE = 1
EXIT_WRONG = 3
EXIT_NO_BOXES = 4
EXIT_CODES = {Verdict.OK: EXIT_OK, Verdict.WRONG: EXIT_WRONG, Verdict.NO_BOXES: EXIT_NO_BOXES}
READINGS_SHOWN = 4


def _print(text: str, indent: str = "") -> None:
    """`text` wrapped at the console's width (at least 60), continuation lines indented."""
    width = max(console.width, 60)
    for line in textwrap.wrap(text, width, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False):
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def fit_table(check: BoxCheck) -> Table:
    """Scale, offset, R^2 and residual per axis: 7 narrow columns, under 70 characters wide."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("axis")
    for title in ("scale", "offset px", "% of side", "R^2", "RMS px", "coords"):
        table.add_column(title, justify="right")
    for axis, fit in (("x", check.x), ("y", check.y)):
        if fit is None:
            table.add_row(axis, *["—"] * 6)
            continue
        table.add_row(
            axis,
            f"{fit.scale:.3f}",
            signed(fit.offset_px),
            signed(100 * fit.offset_fraction, 1, "%"),
            f"{fit.r2:.3f}",
            f"{fit.rms_px:.1f}",
            str(fit.n),
        )
    return table


def print_box_check(check: BoxCheck) -> None:
    declared = check.declared
    _print(
        f"Box-convention check of {check.model}: {len(check.answers)} probe pairs (seed {check.seed}); "
        f"{check.boxes} answers with a box, {check.no_box} without, {check.errors} failed",
        "  ",
    )
    _print(f"declared: {declared.claim}", "  ")
    if declared.convention in CONVENTIONS:
        _print(f"boxes:    {declared.convention}, {CONVENTIONS[declared.convention].example}", "  ")
    if declared.prompt:
        console.print(f"prompt:   {declared.prompt}", markup=False, highlight=False, soft_wrap=True)
    if check.x or check.y:
        console.print()
        console.print(fit_table(check))
        console.print()
    if check.own is not None:
        shown = [("as declared", check.own.median_error)]
        shown += [(s.reading.key, s.median_error) for s in check.readings[:READINGS_SHOWN]]
        readings = " · ".join(f"{key} {100 * error:.1f}" for key, error in shown)
        _print(f"readings tried (median error, % of the side): {readings}", "  ")
    for warning in check.warnings:
        _print(f"warning: {warning}", "  ")
    for note in check.notes:
        _print(f"note: {note}", "  ")
    if check.fix:
        _print(f"fix: {check.fix}", "  ")
    outcome = {
        Verdict.OK: "the boxes look right",
        Verdict.WRONG: "the boxes look wrong",
        Verdict.NO_BOXES: "no readable boxes to check",
    }[check.verdict]
    _print(f"result: {outcome} (exit {EXIT_CODES[check.verdict]})")


def cmd_check_boxes(model: str, options: dict, device: str, allow_download: bool = False) -> int:
    """Load `model` with its options on `device`, run the check, print it; the exit code of the table."""
    from harness.run.devices import resolve_device
    from idg_adapters.registry import UnknownAdapterError, create_adapter, get_adapter_class

    try:
        cls = get_adapter_class(model)
    except UnknownAdapterError as exc:
        raise HarnessError(f"--check-boxes: {exc}") from None
    if not getattr(cls, "answers_in_text", False):
        raise HarnessError(
            f"--check-boxes {model}: this model does not answer in text, so it has no box convention to check"
        )
    device = resolve_device(device)
    try:
        adapter = create_adapter(model, **options.get(model, {}))
    except AdapterUnavailable as exc:
        return _unavailable(model, exc)
    except (TypeError, ValueError) as exc:
        raise HarnessError(f"--check-boxes {model}: {exc}") from None
    adapter.allow_download = allow_download
    try:
        adapter.load(device)
    except AdapterUnavailable as exc:
        return _unavailable(model, exc)
    check = check_box_convention(adapter)
    print_box_check(check)
    return EXIT_CODES[check.verdict]


def _unavailable(model: str, exc: AdapterUnavailable) -> int:
    _print(f"{model} cannot run here: {exc.reason}", "  ")
    if exc.how_to_enable:
        _print(f"enable: {exc.how_to_enable}", "  ")
    return EXIT_UNAVAILABLE


def add_check_boxes_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("box-convention self-check")
    group.add_argument(
        "--check-boxes",
        metavar="MODEL",
        help="run a text-answering MODEL on 12 probe pairs and check that its boxes are read in the right "
        "frame (exit 0 right, 3 wrong, 4 no readable boxes, 1 cannot run here)",
    )
    group.add_argument("--device", default="auto", help="with --check-boxes: auto, cpu, cuda, cuda:1 ...")
