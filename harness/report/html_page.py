"""Self-contained HTML building blocks: the page shell (inline CSS + table sorter), escaped tables.

Every piece of user text goes through `esc` (html.escape, quotes included); nothing here loads a
resource from anywhere, so pages work offline and from file://.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5rem auto; max-width: 1200px;
  padding: 0 1rem; color: #1d2330; background: #fff; line-height: 1.4; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #dde; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .88rem; }
th, td { border: 1px solid #d5d9e2; padding: .25rem .5rem; text-align: right; white-space: nowrap; }
th { background: #eef1f7; }
th.sortable { cursor: pointer; user-select: none; }
th.sortable::after { content: " \\2195"; color: #98a; }
th[aria-sort="ascending"]::after { content: " \\25B2"; color: #124; }
th[aria-sort="descending"]::after { content: " \\25BC"; color: #124; }
td.text, th.text { text-align: left; }
tr:nth-child(even) td { background: #f8f9fc; }
.ci { color: #6b7385; font-size: .8em; }
.note { color: #55607a; font-size: .9rem; }
.plots { display: flex; flex-wrap: wrap; gap: 1rem; }
.plots figure { margin: 0; }
.plots img { max-width: 100%; border: 1px solid #e3e6ee; }
figcaption { font-size: .85rem; color: #55607a; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(350px, 1fr)); gap: .8rem; }
.entry { border: 1px solid #d5d9e2; border-radius: 4px; padding: .4rem; font-size: .85rem; }
.entry img { width: 160px; height: auto; margin-right: 4px; background: #eee; }
.entry .query { font-weight: 600; margin: .2rem 0; word-break: break-word; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; vertical-align: middle; margin-right: .25rem; }
nav.pages a, nav.pages span { margin-right: .4rem; }
code { background: #f1f3f8; padding: 0 .2rem; }
"""

# Sorts a table on header click: numbers by data-sort (missing values last), text otherwise.
SORT_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("thead th").forEach(function (th, col) {
    th.classList.add("sortable");
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      function key(row) {
        var cell = row.cells[col];
        if (!cell) { return null; }
        var raw = cell.getAttribute("data-sort");
        if (raw === null) { return cell.textContent.trim().toLowerCase(); }
        return raw === "" ? null : parseFloat(raw);
      }
      rows.sort(function (a, b) {
        var ka = key(a), kb = key(b);
        if (ka === null && kb === null) { return 0; }
        if (ka === null) { return 1; }
        if (kb === null) { return -1; }
        var order = ka < kb ? -1 : (ka > kb ? 1 : 0);
        return asc ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


@dataclass
class Cell:
    """One table cell: its HTML (already escaped), an optional numeric sort key, left or right aligned."""

    html: str
    sort: float | None = None
    numeric: bool = True

    @classmethod
    def text(cls, value: object) -> Cell:
        return cls(html=esc(value), numeric=False)


def metric_cell(block: dict | None, digits: int = 1) -> Cell:
    """`43.2 [40.1, 46.3]` in percent from a metrics block, sorting on the value."""
    if not block or block.get("value") is None:
        return Cell("—", sort=None)
    value = 100.0 * block["value"]
    ci = block.get("ci")
    text = f"{value:.{digits}f}"
    if ci and ci[0] is not None:
        text += f' <span class="ci">[{100 * ci[0]:.{digits}f}, {100 * ci[1]:.{digits}f}]</span>'
    return Cell(text, sort=value)


def number_cell(value: float | int | None, fmt: str = "{:,}") -> Cell:
    if value is None:
        return Cell("—", sort=None)
    return Cell(esc(fmt.format(value)), sort=float(value))


def html_table(header: list[str], rows: list[list[Cell]], sortable: bool = True, table_id: str = "") -> str:
    """A table; header strings are escaped here, cells carry their own HTML."""
    attrs = ' class="sortable"' if sortable else ""
    if table_id:
        attrs += f' id="{esc(table_id)}"'
    head = "".join(
        f'<th class="text">{esc(h)}</th>' if i == 0 or (rows and not rows[0][i].numeric) else f"<th>{esc(h)}</th>"
        for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = []
        for cell in row:
            sort = "" if not cell.numeric else f' data-sort="{"" if cell.sort is None else f"{cell.sort:.6g}"}"'
            klass = "" if cell.numeric else ' class="text"'
            cells.append(f"<td{klass}{sort}>{cell.html}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(body) + "\n</tbody></table>"


def html_document(title: str, body: str) -> str:
    """A whole page: escaped title, inline CSS, the body as given, the inline sorter."""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        # No resource may come from the network, even by accident (e.g. a favicon request).
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; img-src data:; '
        "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
        '<link rel="icon" href="data:,">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n"
        f"<script>{SORT_JS}</script>\n</body>\n</html>\n"
    )
