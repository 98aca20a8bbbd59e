"""`harness run --check-boxes`: the box-convention self-check of each text-answering model, run on
the loaded adapter just before the model's predictions on the split.

Only models whose adapter answers in text (`answers_in_text`) have a box convention to check; the
others are named once and skipped. The check's fit goes into the model's run.json entry
(`ModelEntry.box_check`) and its warnings are printed; the run goes on whatever the verdict. The
check's probe pairs are not samples of the split: their predictions are never written to the run's
predictions or to the prediction cache.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from harness.run.box_convention_check import Verdict, check_box_convention, summary_line
from idg_adapters.base import Adapter
from idg_adapters.registry import get_adapter_class


def answers_in_text(name: str) -> bool:
    return bool(getattr(get_adapter_class(name), "answers_in_text", False))


def announce_unchecked(names: list[str], console: Console) -> None:
    """One line naming the models the check skips because they do not answer in text."""
    skipped = [name for name in names if not answers_in_text(name)]
    if skipped:
        console.print(
            f"--check-boxes: not checked, as they do not answer in text: {escape(', '.join(skipped))}",
            highlight=False,
        )


def check_before_run(adapter: Adapter, batch_size: int, console: Console) -> dict[str, Any] | None:
    """The check of a loaded text-answering adapter as run.json keeps it (None for other adapters);
    prints its one-line result and each warning."""
    if not getattr(adapter, "answers_in_text", False):
        return None
    check = check_box_convention(adapter, batch_size=batch_size)
    colour = "green" if check.verdict == Verdict.OK else "yellow"
    console.print(f"[{colour}]{escape(summary_line(check))}[/]", highlight=False)
    for warning in check.warnings:
        console.print(f"[yellow]box check warning[/] ({escape(check.model)}): {escape(warning)}", highlight=False)
    if check.fix:
        console.print(f"  fix: {escape(check.fix)}", highlight=False)
    return check.to_json()
