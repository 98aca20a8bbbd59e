"""Paper tables from YAML specs: groups, missing models, published values, footnotes, LaTeX."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.report.paper_tables import TableSpecError, load_spec, render_table, write_tables
from harness.report.runs import LoadedRun, merge_runs
from harness.run.run_records import ModelEntry, ModelStatus

SPEC = {
    "title": "Main & more",
    "metrics": ["acc@0.5", "miou"],
    "columns": ["remove", "overall"],
    "groups": [
        {"name": "CD", "rows": [{"label": "Pixel | diff", "model": "pixel-diff"}, {"model": "missing-model"}]},
        {
            "name": "Trackers_1",
            "rows": [
                {"model": "pixel-diff", "label": "paper row", "published": {"values": {"overall": {"acc@0.5": 10.0}}}},
                {"model": "pixel-diff", "label": "secret", "published": {"source": "paper", "values": "not-public"}},
            ],
        },
    ],
}


def _entry(name: str, overall: float, remove: float) -> ModelEntry:
    block = {"value": overall, "ci": [overall - 0.1, overall + 0.1]}
    metrics = {
        "overall": {"acc@0.5": block, "miou": block},
        "by": {"edit_type": {"remove": {"acc@0.5": {"value": remove}, "miou": {"value": remove}}}},
    }
    return ModelEntry(name=name, status=ModelStatus.DONE, metrics=metrics)


def test_render_markdown_and_latex() -> None:
    table = render_table("main", SPEC, [_entry("pixel-diff", 0.331, 0.369)])
    md = table.markdown
    assert "| Model | remove Acc@0.5 | overall Acc@0.5 | remove mIoU | overall mIoU |" in md
    assert "| Pixel \\| diff (`pixel-diff`) | 36.9 | 33.1 | 36.9 | 33.1 |" in md
    assert "| missing-model (`missing-model`) | — | — | — | — |" in md
    assert "33.1 / 10.0 (+23.1)" in md  # ours / published (difference)
    assert "33.1 / —¹" in md and "¹ The DiffGround paper's own numbers are not public" in md
    tex = table.latex
    assert r"\toprule" in tex and r"\midrule" in tex and r"\bottomrule" in tex
    assert r"\textit{Trackers\_1}" in tex and r"Main \& more" in tex
    assert r"\cmidrule(lr){2-3} \cmidrule(lr){4-5}" in tex
    assert tex.count(r"\\") >= 6


def test_controls_table_shows_drops() -> None:
    spec = {"kind": "controls", "groups": [{"name": "g", "rows": [{"model": "m"}]}]}
    control = _entry("m@query-shuffle", 0.1, 0.1)
    table = render_table("controls", spec, [_entry("m", 0.5, 0.5), control])
    assert "| m (`m`) | 50.0 | 10.0 (↓40.0) | — | — |" in table.markdown


def test_table_cli_and_bad_specs(xss_run: LoadedRun, tmp_path: Path) -> None:
    out = tmp_path / "lb"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "main.yaml").write_text(
        "groups:\n  - name: CD\n    rows:\n      - {model: pixel-diff}\n", encoding="utf-8"
    )
    assert main(["report", str(xss_run.run_dir), "--out", str(out), "--table", "main"]) == 0
    assert "pixel-diff" in (out / "tables" / "main.md").read_text(encoding="utf-8")
    assert (out / "tables" / "main.tex").read_text(encoding="utf-8").startswith("% Generated")
    assert main(["report", str(xss_run.run_dir), "--out", str(out), "--table", "nope"]) == 2
    (out / "tables" / "bad.yaml").write_text("groups: 3\n", encoding="utf-8")
    with pytest.raises(TableSpecError, match="groups"):
        write_tables(out / "tables", merge_runs([xss_run]), ["bad"])


def test_committed_specs_render() -> None:
    tables = Path(__file__).resolve().parents[2] / "leaderboards" / "tables"
    for spec in sorted(tables.glob("*.yaml")):
        render_table(spec.stem, load_spec(spec), [_entry("pixel-diff", 0.3, 0.3)])


def _task_entry(name: str, diff: float) -> ModelEntry:
    entry = _entry(name, diff, diff)
    assert entry.metrics is not None
    entry.metrics["by"]["task"] = {"diff": {"acc@0.5": {"value": diff}}}
    return entry


def test_published_only_rows_and_required_stratum(tmp_path: Path) -> None:
    spec = (
        "requires_stratum: task\nmetrics: [acc@0.5]\ncolumns: [task=diff]\ngroups:\n  - name: g\n    rows:\n"
        "      - {label: Published only, model: null, published: {values: {task=diff: {acc@0.5: 29.92}}}}\n"
        "      - {label: Ours, model: pixel-diff}\n"
    )
    (tmp_path / "mig.yaml").write_text(spec, encoding="utf-8")
    (tmp_path / "plain.yaml").write_text("groups:\n  - name: g\n    rows:\n      - {model: pixel-diff}\n")
    # Runs without the `task` stratum: rendering all tables leaves the MIG-Bench-style spec out...
    assert [t.name for t in write_tables(tmp_path, [_entry("pixel-diff", 0.3, 0.3)])] == ["plain"]
    # ...but asked for by name it renders, and with the stratum it is part of "all".
    assert [t.name for t in write_tables(tmp_path, [_entry("pixel-diff", 0.3, 0.3)], ["mig"])] == ["mig"]
    rendered = {t.name: t for t in write_tables(tmp_path, [_task_entry("pixel-diff", 0.5)])}
    md = rendered["mig"].markdown
    assert "| Published only | — / 29.9 |" in md
    assert "| Ours (`pixel-diff`) | 50.0 |" in md
    (tmp_path / "bad.yaml").write_text("groups:\n  - name: g\n    rows:\n      - {model: null}\n", encoding="utf-8")
    with pytest.raises(TableSpecError, match="needs a 'label'"):
        load_spec(tmp_path / "bad.yaml")
