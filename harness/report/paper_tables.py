"""Paper-style tables from YAML specs in leaderboards/tables/: markdown and LaTeX (booktabs).

A spec names its columns (`overall`, an edit type, or `STRATUM=VALUE`, e.g. `size=small`), its
metrics, and groups of rows that each map a label to a model name. A row may carry published
values (`published: {source: ..., values: {COLUMN: {METRIC: number}}}`), or
`values: not-public` when the paper's numbers are not public: the cell then shows our value
beside "—" with a footnote. Missing models show "—". `kind: controls` tables show Acc@0.5 of
each model's normal run and its control runs, with the drop. A row with `model: null` is a
published model the harness cannot run: it shows the published values beside "—".

A spec with `requires_stratum: NAME` is of a dataset whose samples carry that attribute (the
MIG-Bench table needs `task`): rendering all tables skips it unless a run was stratified by it;
asking for it by name (`--table`) renders it regardless.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.errors import HarnessError
from harness.files.atomic import write_text_atomic
from harness.report.controls import CONTROL_KINDS, control_accuracy, split_controls
from harness.report.markdown_text import md_code, md_text
from harness.run.run_records import ModelEntry

NOT_PUBLIC = "not-public"
NOT_PUBLIC_NOTE = "The DiffGround paper's own numbers are not public; published cells stay empty until they are."
METRIC_LABELS = {"miou": "mIoU", "ciou": "cIoU"}


def metric_label(metric: str) -> str:
    """A metric's column label: `acc@0.3` -> `Acc@0.3` (any IoU threshold), `miou` -> `mIoU`."""
    return "Acc@" + metric.removeprefix("acc@") if metric.startswith("acc@") else METRIC_LABELS.get(metric, metric)


class TableSpecError(HarnessError):
    """A table spec is malformed; the message names the file and the field."""


@dataclass
class RenderedTable:
    name: str
    markdown: str
    latex: str


def load_spec(path: Path) -> dict[str, Any]:
    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise TableSpecError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(spec, dict) or not isinstance(spec.get("groups"), list):
        raise TableSpecError(f"{path}: a table spec needs a 'groups' list (see leaderboards/tables/main.yaml)")
    for group in spec["groups"]:
        if not isinstance(group, dict) or not isinstance(group.get("rows"), list):
            raise TableSpecError(f"{path}: every group needs a 'name' and a 'rows' list")
        for row in group["rows"]:
            if not isinstance(row, dict) or "model" not in row:
                raise TableSpecError(f"{path}: every row needs 'model' (and optionally 'label', 'published')")
            if row["model"] is None and "label" not in row:
                raise TableSpecError(f"{path}: a row with 'model: null' (published only) needs a 'label'")
    return spec


def table_names(tables_dir: Path) -> list[str]:
    return sorted(p.stem for p in Path(tables_dir).glob("*.yaml"))


def _block(entry: ModelEntry | None, column: str, metric: str) -> dict | None:
    if entry is None or entry.status != "done" or not entry.metrics:
        return None
    if column == "overall":
        return entry.metrics["overall"].get(metric)
    stratum, _, value = column.partition("=") if "=" in column else ("edit_type", "", column)
    return entry.metrics.get("by", {}).get(stratum, {}).get(value, {}).get(metric)


def _pct(block: dict | None) -> float | None:
    return None if not block or block.get("value") is None else 100.0 * block["value"]


@dataclass
class _Cell:
    ours: float | None
    published: float | None = None
    has_published: bool = False  # the row carries published values (maybe not public)
    not_public: bool = False
    drop: float | None = None  # controls: normal minus control

    def markdown(self) -> str:
        text = "—" if self.ours is None else f"{self.ours:.1f}"
        if self.drop is not None:
            text += f" (↓{self.drop:.1f})"
        if self.has_published:
            if self.not_public or self.published is None:
                text += " / —" + ("¹" if self.not_public else "")
            else:
                delta = "" if self.ours is None else f" ({self.ours - self.published:+.1f})"
                text += f" / {self.published:.1f}{delta}"
        return text

    def latex(self) -> str:
        text = "--" if self.ours is None else f"{self.ours:.1f}"
        if self.drop is not None:
            text += rf" {{\scriptsize($\downarrow${self.drop:.1f})}}"
        if self.has_published:
            if self.not_public or self.published is None:
                text += " / --" + ("$^{1}$" if self.not_public else "")
            else:
                delta = "" if self.ours is None else f" ({self.ours - self.published:+.1f})"
                text += rf" / {self.published:.1f}{{\scriptsize{delta}}}"
        return text


def _published(row: dict, column: str, metric: str) -> tuple[float | None, bool, bool]:
    """(value, row has published values, values are not public)."""
    published = row.get("published")
    if not published:
        return None, False, False
    values = published.get("values") if isinstance(published, dict) else published
    if values == NOT_PUBLIC:
        return None, True, True
    value = (values or {}).get(column, {}).get(metric) if isinstance(values, dict) else None
    return (None if value is None else float(value)), True, False


def _columns(spec: dict) -> list[tuple[str, str, str]]:
    """(column, metric, header) triples in table order."""
    if spec.get("kind") == "controls":
        return [("normal", "acc@0.5", "normal")] + [(k, "acc@0.5", k) for k in spec.get("controls", CONTROL_KINDS)]
    metrics = spec.get("metrics", ["acc@0.5", "miou"])
    return [(c, m, f"{c} {metric_label(m)}") for m in metrics for c in spec.get("columns", ["overall"])]


def _cells(spec: dict, row: dict, entries: dict[str, ModelEntry], controls: dict) -> list[_Cell]:
    entry = entries.get(row["model"])
    if spec.get("kind") == "controls":
        normal = _pct(_block(entry, "overall", "acc@0.5"))
        cells = [_Cell(normal)]
        for kind in spec.get("controls", CONTROL_KINDS):
            value = _pct(controls.get(row["model"], {}).get(kind))
            cells.append(_Cell(value, drop=None if value is None or normal is None else normal - value))
        return cells
    cells = []
    for column, metric, _ in _columns(spec):
        published, has_published, not_public = _published(row, column, metric)
        cells.append(_Cell(_pct(_block(entry, column, metric)), published, has_published, not_public))
    return cells


LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\^{}",
}


def _latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIALS.get(char, char) for char in str(text))


def render_table(name: str, spec: dict, entries_list: list[ModelEntry]) -> RenderedTable:
    models, control_runs = split_controls(entries_list)
    entries = {e.name: e for e in models}
    controls = control_accuracy(control_runs)
    columns = _columns(spec)
    title = spec.get("title", name)
    any_published = any(r.get("published") for g in spec["groups"] for r in g["rows"])
    any_not_public = False
    md_rows, tex_rows = [], []
    for group in spec["groups"]:
        md_rows.append([f"*{md_text(group.get('name', ''))}*"] + [""] * len(columns))
        tex_rows.append(
            r"\midrule"
            + "\n"
            + rf"\multicolumn{{{len(columns) + 1}}}{{l}}{{\textit{{{_latex_escape(group.get('name', ''))}}}}} \\"
        )
        for row in group["rows"]:
            cells = _cells(spec, row, entries, controls)
            any_not_public |= any(c.not_public for c in cells)
            label = row.get("label", row["model"])
            md_label = f"{md_text(label)} ({md_code(row['model'])})" if row["model"] else md_text(label)
            md_rows.append([md_label] + [c.markdown() for c in cells])
            tex_rows.append(" & ".join([_latex_escape(label)] + [c.latex() for c in cells]) + r" \\")
    notes = [str(n) for n in spec.get("notes", [])]
    if any_published:
        notes.insert(0, "Cells of rows with published values read: ours / published (ours − published).")
    if any_not_public:
        notes.append(f"¹ {NOT_PUBLIC_NOTE}")
    if spec.get("kind") == "controls":
        notes.insert(0, "Acc@0.5 in percent; ↓ is the drop from the model's normal run.")
    header = ["Model"] + [h for _, _, h in columns]
    md = [f"# {title}", "", "Generated by `harness report --table`; do not edit by hand.", ""]
    md += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    md += ["| " + " | ".join(r) + " |" for r in md_rows]
    md += [""] + [f"- {n}" for n in notes]
    tex = _latex(title, spec, columns, tex_rows, notes, name)
    return RenderedTable(name=name, markdown="\n".join(md) + "\n", latex=tex)


def _latex(title: str, spec: dict, columns: list, rows: list[str], notes: list[str], name: str) -> str:
    lines = [
        "% Generated by `harness report --table`; do not edit by hand. Needs \\usepackage{booktabs}.",
        r"\begin{table}[t]",
        r"\centering",
        r"\small",
        r"\begin{tabular}{l" + "r" * len(columns) + "}",
        r"\toprule",
    ]
    if spec.get("kind") == "controls":
        lines.append(" & ".join(["Model"] + [_latex_escape(h) for _, _, h in columns]) + r" \\")
    else:
        metrics = spec.get("metrics", ["acc@0.5", "miou"])
        per = len(spec.get("columns", ["overall"]))
        top = ["Model"] + [rf"\multicolumn{{{per}}}{{c}}{{{_latex_escape(metric_label(m))}}}" for m in metrics]
        lines.append(" & ".join(top) + r" \\")
        lines.append(" ".join(rf"\cmidrule(lr){{{2 + k * per}-{1 + (k + 1) * per}}}" for k in range(len(metrics))))
        lines.append(
            " & ".join([""] + [_latex_escape(c) for c in spec.get("columns", ["overall"])] * len(metrics)) + r" \\"
        )
    lines += rows
    lines += [r"\bottomrule", r"\end{tabular}"]
    caption = (
        _latex_escape(title.rstrip("."))
        + "."
        + "".join(
            " " + _latex_escape(n.replace("¹ ", "")).replace("ours − published", "ours $-$ published") for n in notes
        )
    )
    caption = caption.replace("↓", r"$\downarrow$").replace("—", "--")
    lines += [rf"\caption{{{caption}}}", rf"\label{{tab:{_latex_escape(name)}}}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _has_stratum(entries: list[ModelEntry], stratum: str) -> bool:
    return any(stratum in ((e.metrics or {}).get("by") or {}) for e in entries)


def write_tables(tables_dir: Path, entries: list[ModelEntry], names: list[str] | None = None) -> list[RenderedTable]:
    """Render the named specs (all by default, less those whose `requires_stratum` no run has) to
    NAME.md and NAME.tex beside them."""
    tables_dir = Path(tables_dir)
    available = table_names(tables_dir)
    specs = {name: load_spec(tables_dir / f"{name}.yaml") for name in (available if names is None else [])}
    if names is None:
        names = [
            name
            for name, spec in specs.items()
            if not spec.get("requires_stratum") or _has_stratum(entries, str(spec["requires_stratum"]))
        ]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise TableSpecError(f"no table spec {unknown[0]!r} in {tables_dir}; specs there: {available}")
    rendered = []
    for name in names:
        spec = specs[name] if name in specs else load_spec(tables_dir / f"{name}.yaml")
        table = render_table(name, spec, entries)
        write_text_atomic(tables_dir / f"{name}.md", table.markdown)
        write_text_atomic(tables_dir / f"{name}.tex", table.latex)
        rendered.append(table)
    return rendered
