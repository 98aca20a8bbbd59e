"""Control runs (query-shuffle, a-blind, swap) and their accuracy drop against the model's normal run.

A model entry is a control of base model M when its per-model run.json info says
`{"control": KIND, "base_model": M}`, or, failing that, when it is named `M@KIND`. Controls are
shown beside their base model, never ranked as models of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.run.run_records import ModelEntry

CONTROL_KINDS: tuple[str, ...] = ("query-shuffle", "a-blind", "swap")
CONTROL_DESCRIPTIONS = {
    "query-shuffle": "each query replaced by another difference's query of the same pair: how much the model uses the query",
    "a-blind": "image A replaced by image B: how much the model uses the before image",
    "swap": "A and B swapped: whether the model knows which image is after",
}


@dataclass
class ControlResult:
    base_model: str
    kind: str
    entry: ModelEntry


def control_of(entry: ModelEntry) -> tuple[str, str] | None:
    """(base model, control kind) when `entry` is a control run, else None."""
    kind = entry.control
    base = entry.base_model
    if kind in CONTROL_KINDS and base:
        return str(base), str(kind)
    if "@" in entry.name:
        base, _, kind = entry.name.rpartition("@")
        if kind in CONTROL_KINDS and base:
            return base, kind
    return None


def split_controls(entries: list[ModelEntry]) -> tuple[list[ModelEntry], list[ControlResult]]:
    """The ordinary model entries, and the control runs (done ones only)."""
    models, controls = [], []
    for entry in entries:
        found = control_of(entry)
        if found is None:
            models.append(entry)
        elif entry.done and entry.metrics:
            controls.append(ControlResult(base_model=found[0], kind=found[1], entry=entry))
    return models, controls


def control_accuracy(controls: list[ControlResult], metric: str = "acc@0.5") -> dict[str, dict[str, dict]]:
    """{base model: {control kind: metrics block}} for the overall `metric`."""
    table: dict[str, dict[str, dict]] = {}
    for control in controls:
        table.setdefault(control.base_model, {})[control.kind] = control.entry.metrics["overall"][metric]
    return table


def uses_input(control: ControlResult | None) -> str:
    """`yes (↓x)` when the control's paired Acc@0.5 drop is significant (95% CI above 0), else `no`.

    The drop and its CI are computed by the runner over the same samples (harness.metrics.paired).
    """
    if control is None:
        return "—"
    drop = control.entry.drop
    if not drop or drop.get("ci") is None or drop["ci"][0] is None:
        return "—"
    verdict = "yes" if drop["ci"][0] > 0 else "no"
    return f"{verdict} (↓{100 * drop['acc@0.5']:.1f} [{100 * drop['ci'][0]:.1f}, {100 * drop['ci'][1]:.1f}])"
