"""Paginated, self-contained gallery pages of samples: A and B thumbnails with boxes, query, IoU.

Thumbnails are drawn on downscaled copies and inlined as JPEG data URIs, so each page stands
alone. Pages hold PER_PAGE entries; a section (e.g. one failure class) shows at most
max_per_section entries (its full count is still stated), which bounds the time and disk a
report takes on 10,000+ samples.

Under the thumbnails and captions, an entry shows the raw text answer of each model that answers in
text (a multimodal LLM's reply), so a miss can be read against what the model actually said. A reply
is model output: it is escaped like every other text, and one longer than MAX_REPLY_CHARS is cut
with a visible marker saying how much was left out.
"""

from __future__ import annotations

import base64
import io
import shutil
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from harness.data.images import ImageCache, load_pair
from harness.errors import HarnessError
from harness.files.atomic import write_text_atomic
from harness.files.file_names import safe_file_name
from harness.report.html_page import esc, html_document

PER_PAGE = 50
MAX_PER_SECTION = 500
THUMB_SIZE = 160
JPEG_QUALITY = 80
MAX_REPLY_CHARS = 600
REPLY_STYLE = (
    "white-space: pre-wrap; word-break: break-word; max-height: 14em; overflow: auto; margin: .2rem 0; "
    "padding: .2rem .3rem; background: #f6f7fb; border: 1px solid #e3e6ee; font-size: .8rem"
)

TARGET_COLOUR = (30, 200, 60)
PREDICTION_COLOURS = ((230, 30, 30), (40, 110, 240))  # first model red, second blue (comparisons)
OTHER_COLOUR = (250, 215, 0)

Box = tuple[float, float, float, float]


@dataclass
class GalleryEntry:
    """One sample to show: its images, boxes and caption lines (plain text, escaped on render)."""

    id: str
    image_a: str
    image_b: str
    target: Box
    others: list[Box] = field(default_factory=list)
    predictions: list[Box | None] = field(default_factory=list)  # drawn in PREDICTION_COLOURS order
    query: str = ""
    lines: list[str] = field(default_factory=list)
    replies: list[tuple[str, str]] = field(default_factory=list)  # (whose, raw text answer), shown as is


class Thumbnailer:
    """Draws entries' boxes on downscaled A and B; the downscaled pairs are cached per image pair.

    One Thumbnailer serves every gallery of a report, which visit the same pairs in turn; `capacity`
    (least recently used out; about 150 KB a pair at 160 px) holds every pair of a typical split, so
    a report decodes each pair's images once rather than once per gallery."""

    def __init__(self, dataset_root: Path, size: int = THUMB_SIZE, capacity: int = 1024) -> None:
        self.root = Path(dataset_root)
        self.size = size
        self.capacity = capacity
        self._images = ImageCache(capacity=8)
        self._thumbs: OrderedDict[tuple[str, str], tuple[Image.Image, Image.Image, float]] = OrderedDict()

    def _base(self, image_a: str, image_b: str) -> tuple[Image.Image, Image.Image, float]:
        key = (image_a, image_b)
        if key in self._thumbs:
            self._thumbs.move_to_end(key)
            return self._thumbs[key]
        a, b = load_pair(self.root, image_a, image_b, self._images)
        scale = self.size / max(b.size)
        small = (max(1, round(b.width * scale)), max(1, round(b.height * scale)))
        item = (
            a.resize(small, Image.Resampling.BILINEAR),
            b.resize(small, Image.Resampling.BILINEAR),
            scale,
        )
        self._thumbs[key] = item
        if len(self._thumbs) > self.capacity:
            self._thumbs.popitem(last=False)
        return item

    def data_uris(self, entry: GalleryEntry) -> tuple[str, str]:
        """JPEG data URIs of A and B with the other differences, the target and the predictions drawn."""
        base_a, base_b, scale = self._base(entry.image_a, entry.image_b)
        uris = []
        for base in (base_a, base_b):
            image = base.copy()
            draw = ImageDraw.Draw(image)
            for box in entry.others:
                draw.rectangle(_scaled(box, scale), outline=OTHER_COLOUR, width=1)
            draw.rectangle(_scaled(entry.target, scale), outline=TARGET_COLOUR, width=2)
            for box, colour in zip(entry.predictions, PREDICTION_COLOURS, strict=False):
                if box is not None:
                    draw.rectangle(_scaled(box, scale), outline=colour, width=2)
            buffer = io.BytesIO()
            image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
            uris.append("data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii"))
        return uris[0], uris[1]


def _scaled(box: Box, scale: float) -> list[float]:
    x1, y1, x2, y2 = (v * scale for v in box)
    # PIL needs x2 >= x1; a zero-size box still shows as a dot.
    return [x1, y1, max(x1, x2), max(y1, y2)]


def section_page_name(section: str, page: int) -> str:
    slug = safe_file_name(section, keep="-_")
    return f"{slug}-{page}.html"


def shown_reply(text: str, limit: int = MAX_REPLY_CHARS) -> str:
    """`text` as a gallery shows it: whole, or its first `limit` characters and a marker of the rest."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [reply truncated: {len(text) - limit:,} more characters not shown]"


def _replies_html(replies: list[tuple[str, str]]) -> str:
    return "".join(
        f'<div class="reply"><div class="note">{esc(whose)} replied:</div>'
        f'<pre style="{REPLY_STYLE}">{esc(shown_reply(text))}</pre></div>'
        for whose, text in replies
    )


def _entry_html(entry: GalleryEntry, thumbnailer: Thumbnailer) -> str:
    try:
        uri_a, uri_b = thumbnailer.data_uris(entry)
        images = (
            f'<img src="{uri_a}" alt="image A of {esc(entry.id)}" title="A (before)">'
            f'<img src="{uri_b}" alt="image B of {esc(entry.id)}" title="B (after)">'
        )
    except (HarnessError, OSError) as exc:
        images = f'<div class="note">images unavailable: {esc(exc)}</div>'
    lines = "".join(f"<div>{esc(line)}</div>" for line in entry.lines)
    return (
        f'<div class="entry" id="{esc(entry.id)}"><div>{images}</div>'
        f'<div class="query">{esc(entry.query)}</div><div><code>{esc(entry.id)}</code></div>{lines}'
        f"{_replies_html(entry.replies)}</div>"
    )


def _legend(labels: list[str]) -> str:
    def swatch(colour: tuple[int, int, int], text: str) -> str:
        r, g, b = colour
        return f'<span><span class="swatch" style="background: rgb({r},{g},{b})"></span>{esc(text)}</span>'

    parts = [swatch(TARGET_COLOUR, "target")]
    parts += [swatch(c, label) for c, label in zip(PREDICTION_COLOURS, labels, strict=False)]
    parts.append(swatch(OTHER_COLOUR, "other differences of the pair"))
    return '<p class="legend">' + "".join(parts) + "</p>"


def write_gallery(
    out_dir: Path,
    title: str,
    intro_html: str,
    sections: dict[str, list[GalleryEntry]],
    dataset_root: Path,
    prediction_labels: list[str],
    descriptions: dict[str, str] | None = None,
    back_link: str = "../../index.html",
    max_per_section: int = MAX_PER_SECTION,
    per_page: int = PER_PAGE,
    thumbnailer: Thumbnailer | None = None,
) -> Path:
    """Write out_dir/index.html (sections, counts, page links) and one page per PER_PAGE entries
    (`thumbnailer`: one shared by several galleries of the same dataset, so they share its cache)."""
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)  # stale pages of an earlier report must not linger
    out_dir.mkdir(parents=True)
    thumbnailer = thumbnailer or Thumbnailer(dataset_root)
    descriptions = descriptions or {}
    legend = _legend(prediction_labels)
    index_rows = []
    for section, entries in sections.items():
        shown = entries[:max_per_section]
        pages = [shown[i : i + per_page] for i in range(0, len(shown), per_page)]
        links = " ".join(f'<a href="{esc(section_page_name(section, n))}">{n}</a>' for n in range(1, len(pages) + 1))
        capped = f" (first {len(shown)} shown)" if len(shown) < len(entries) else ""
        index_rows.append(
            f'<tr><td class="text">{esc(section)}</td><td>{len(entries)}{esc(capped)}</td>'
            f'<td class="text">{esc(descriptions.get(section, ""))}</td><td class="text">{links or "—"}</td></tr>'
        )
        for n, page_entries in enumerate(pages, start=1):
            nav = _page_nav(section, n, len(pages))
            body = (
                f'<p><a href="index.html">{esc(title)}</a> · <a href="{esc(back_link)}">leaderboard</a></p>'
                f"<h1>{esc(title)}: {esc(section)} ({n}/{len(pages)})</h1>"
                f'<p class="note">{esc(descriptions.get(section, ""))}</p>{legend}{nav}'
                '<div class="gallery">\n'
                + "\n".join(_entry_html(e, thumbnailer) for e in page_entries)
                + f"\n</div>{nav}"
            )
            write_text_atomic(out_dir / section_page_name(section, n), html_document(f"{title}: {section}", body))
    index_body = (
        f'<p><a href="{esc(back_link)}">leaderboard</a></p><h1>{esc(title)}</h1>{intro_html}{legend}'
        '<table><thead><tr><th class="text">class</th><th>samples</th><th class="text">meaning</th>'
        '<th class="text">pages</th></tr></thead><tbody>' + "".join(index_rows) + "</tbody></table>"
    )
    index = out_dir / "index.html"
    write_text_atomic(index, html_document(title, index_body))
    return index


def _page_nav(section: str, page: int, total: int) -> str:
    items = []
    if page > 1:
        items.append(f'<a href="{esc(section_page_name(section, page - 1))}">‹ previous</a>')
    items.append(f"<span>page {page} of {total}</span>")
    if page < total:
        items.append(f'<a href="{esc(section_page_name(section, page + 1))}">next ›</a>')
    return '<nav class="pages">' + " ".join(items) + "</nav>"
