"""Boxes in the text replies of multimodal LLMs, read by a declared convention (never guessed).

| convention | a box in the reply | coordinates |
|---|---|---|
| `qwen2-vl` | `<\\|box_start\\|>(x1,y1),(x2,y2)<\\|box_end\\|>` | 0-1000 |
| `internvl2` | `<box>[[x1, y1, x2, y2]]</box>` (several lists in one tag allowed) | 0-1000 |
| `minicpm` | `<box>x1 y1 x2 y2</box>` | not fixed |
| `mantis` | `<box>[x1, y1, x2, y2]</box>` | not fixed |
| `bbox-json` | `{"bbox_2d": [x1, y1, x2, y2], ...}` (Qwen2.5-VL, Qwen3-VL; fenced or bare JSON) | not fixed |
| `plain` | `[x1, y1, x2, y2]` anywhere in the text | not fixed |

A reply may hold several boxes; they are ranked in the order they appear. The parser returns
the four numbers as written: it neither reorders corners nor checks them against an image, so a
flipped box reaches the caller as it is. A reply with no box in the convention's form, a box with
a number that is not finite, or anything that is not text gives no boxes; the parser never
raises and never makes up a box.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

Box = tuple[float, float, float, float]

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_SEP = r"\s*,\s*"
_FOUR_LIST = re.compile(rf"\[\s*({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})\s*\]")
_QWEN = re.compile(
    rf"<\|box_start\|>\s*\(\s*({_NUM}){_SEP}({_NUM})\s*\){_SEP}\(\s*({_NUM}){_SEP}({_NUM})\s*\)\s*<\|box_end\|>"
)
_BBOX_2D = re.compile(rf"[\"']bbox_2d[\"']\s*:\s*\[\s*({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})\s*\]")
_BOX_TAG = re.compile(r"<box>(.*?)</box>", re.DOTALL)
_INTERNVL_CONTENT = re.compile(r"\s*\[\s*\[.*\]\s*\]\s*", re.DOTALL)
_MINICPM_CONTENT = re.compile(rf"\s*({_NUM})\s+({_NUM})\s+({_NUM})\s+({_NUM})\s*")
_MANTIS_CONTENT = re.compile(rf"\s*\[\s*({_NUM}){_SEP}({_NUM}){_SEP}({_NUM}){_SEP}({_NUM})\s*\]\s*")


@dataclass(frozen=True)
class BoxConvention:
    name: str
    example: str
    scale: str | None  # the coordinate scale the convention fixes ("0-1000"), None when not fixed


CONVENTIONS: dict[str, BoxConvention] = {
    c.name: c
    for c in (
        BoxConvention("qwen2-vl", "<|box_start|>(x1,y1),(x2,y2)<|box_end|>", "0-1000"),
        BoxConvention("internvl2", "<box>[[x1, y1, x2, y2]]</box>", "0-1000"),
        BoxConvention("minicpm", "<box>x1 y1 x2 y2</box>", None),
        BoxConvention("mantis", "<box>[x1, y1, x2, y2]</box>", None),
        BoxConvention("bbox-json", '{"bbox_2d": [x1, y1, x2, y2]}', None),
        BoxConvention("plain", "[x1, y1, x2, y2]", None),
    )
}


def _finite_box(groups: tuple[str, ...]) -> Box | None:
    values = tuple(float(v) for v in groups)
    return values if all(math.isfinite(v) for v in values) else None  # type: ignore[return-value]


def _boxes(matches: list[tuple[str, ...]]) -> list[Box]:
    return [box for box in (_finite_box(m) for m in matches) if box is not None]


def _tag_contents(reply: str) -> list[str]:
    return [m.group(1) for m in _BOX_TAG.finditer(reply)]


def _qwen(reply: str) -> list[Box]:
    return _boxes([m.groups() for m in _QWEN.finditer(reply)])


def _internvl(reply: str) -> list[Box]:
    found = []
    for content in _tag_contents(reply):
        if _INTERNVL_CONTENT.fullmatch(content):
            found += [m.groups() for m in _FOUR_LIST.finditer(content)]
    return _boxes(found)


def _minicpm(reply: str) -> list[Box]:
    return _boxes([m.groups() for c in _tag_contents(reply) if (m := _MINICPM_CONTENT.fullmatch(c))])


def _mantis(reply: str) -> list[Box]:
    return _boxes([m.groups() for c in _tag_contents(reply) if (m := _MANTIS_CONTENT.fullmatch(c))])


def _bbox_json(reply: str) -> list[Box]:
    return _boxes([m.groups() for m in _BBOX_2D.finditer(reply)])


def _plain(reply: str) -> list[Box]:
    return _boxes([m.groups() for m in _FOUR_LIST.finditer(reply)])


_PARSERS = {
    "qwen2-vl": _qwen,
    "internvl2": _internvl,
    "minicpm": _minicpm,
    "mantis": _mantis,
    "bbox-json": _bbox_json,
    "plain": _plain,
}


def parse_box_reply(reply: object, convention: str) -> list[Box]:
    """The boxes of `reply` in `convention`, in the order given; [] when it holds none.

    An unknown convention is a caller's error (ValueError); anything about the reply is not.
    """
    if convention not in _PARSERS:
        raise ValueError(f"unknown box convention {convention!r}; choose from {', '.join(CONVENTIONS)}")
    if not isinstance(reply, str):
        return []
    try:
        return _PARSERS[convention](reply)
    except (ValueError, OverflowError, RecursionError):
        return []
