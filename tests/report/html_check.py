"""A strict well-formedness check for generated HTML: every element closed, in order, nothing left open."""

from __future__ import annotations

from html.parser import HTMLParser

VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class HtmlProblem(AssertionError):
    pass


class _BalanceChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, tuple[int, int]]] = []
        self.tags: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        if tag not in VOID_ELEMENTS:
            self.stack.append((tag, self.getpos()))
        self._in_script = tag == "script"

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_ELEMENTS:
            raise HtmlProblem(f"end tag </{tag}> for a void element at {self.getpos()}")
        if not self.stack or self.stack[-1][0] != tag:
            open_tag = self.stack[-1] if self.stack else None
            raise HtmlProblem(f"</{tag}> at {self.getpos()} does not close the open element {open_tag}")
        self.stack.pop()
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def check_html(text: str) -> _BalanceChecker:
    """Parse `text`, raising HtmlProblem on unbalanced tags; returns the parser (tags, scripts seen)."""
    if not text.startswith("<!DOCTYPE html>"):
        raise HtmlProblem("page does not start with <!DOCTYPE html>")
    checker = _BalanceChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise HtmlProblem(f"elements left open: {checker.stack[-5:]}")
    return checker
