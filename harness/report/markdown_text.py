"""Text from runs and manifests (model names, dataset names, strata, reasons) made safe for markdown.

Many markdown viewers render raw HTML, so `<`, `>` and `&` become entities; a `|` would split a
table cell, so it is escaped; a newline would end the table row, so it becomes a space.
"""

from __future__ import annotations

from typing import Any

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def md_text(value: Any) -> str:
    """Plain text for a markdown table cell or line."""
    text = "".join(_ENTITIES.get(c, c) for c in str(value))
    return text.replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def md_code(value: Any) -> str:
    """`value` as an inline code span (HTML inside one is shown, not rendered); a value holding a
    backtick, which would end the span early, falls back to escaped plain text."""
    text = str(value).replace("\r", " ").replace("\n", " ")
    if "`" in text:
        return md_text(text)
    return "`" + text.replace("|", "\\|") + "`"
