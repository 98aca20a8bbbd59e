"""The HTML leaderboard and failure galleries: well-formed, self-contained, escaped, paginated."""

from __future__ import annotations

import re
from pathlib import Path

from harness.report.build_report import failure_gallery_sections, load_sample_results, write_report
from harness.report.gallery import write_gallery
from harness.report.html_leaderboard import render_html_leaderboard
from harness.report.runs import LoadedRun
from tests.report.conftest import XSS_QUERY
from tests.report.html_check import check_html

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:|//|ftp:)""", re.IGNORECASE)


def _assert_self_contained(text: str) -> None:
    assert not EXTERNAL.search(text), "page references a network resource"
    assert '<link rel="stylesheet"' not in text and "@import" not in text


def test_report_writes_wellformed_self_contained_pages(xss_run: LoadedRun, tmp_path: Path) -> None:
    out = tmp_path / "leaderboards"
    files = write_report([xss_run], out)
    index = files.index_html.read_text(encoding="utf-8")
    checker = check_html(index)
    _assert_self_contained(index)
    assert checker.tags.count("img") >= 4  # heat map, threshold curve, IoU histogram, size bars, classes
    assert index.count("data:image/png;base64,") == checker.tags.count("img")
    assert 'id="overall"' in index and 'class="sortable"' in index
    for name in ("pixel-diff", "center-prior", "random-box"):
        assert f'href="galleries/{name}/index.html"' in index
        gallery_index = out / "galleries" / name / "index.html"
        check_html(gallery_index.read_text(encoding="utf-8"))
    pages = sorted((out / "galleries").rglob("*.html"))
    for page in pages:
        text = page.read_text(encoding="utf-8")
        check_html(text)
        _assert_self_contained(text)
    assert "Failure taxonomy" in files.leaderboard_md.read_text(encoding="utf-8")
    assert len(index.encode()) < 1_000_000


def test_user_text_is_escaped(xss_run: LoadedRun, tmp_path: Path) -> None:
    out = tmp_path / "leaderboards"
    write_report([xss_run], out)
    texts = [p.read_text(encoding="utf-8") for p in (out / "galleries").rglob("*.html")]
    joined = "\n".join(texts)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in joined
    assert "the &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; one" in joined
    for text in texts:
        assert XSS_QUERY not in text
        assert all("alert" not in script for script in check_html(text).scripts)


def test_pages_paginate_and_cap(xss_run: LoadedRun, tmp_path: Path) -> None:
    dataset, results = load_sample_results([xss_run])
    sections = failure_gallery_sections(results["center-prior"])
    total = sum(len(v) for v in sections.values())
    biggest = max(sections, key=lambda k: len(sections[k]))
    index = write_gallery(tmp_path / "g", "t", "", sections, dataset.root, ["m"], per_page=1, max_per_section=2)
    pages = sorted(p.name for p in index.parent.glob("*.html"))
    expected = 1 + sum(min(len(v), 2) for v in sections.values())
    assert len(pages) == expected and total >= len(sections)
    assert f"{biggest}-1.html" in pages
    text = index.read_text(encoding="utf-8")
    if len(sections[biggest]) > 2:
        assert "first 2 shown" in text


def test_leaderboard_without_dataset_leaves_per_sample_parts_out(xss_run: LoadedRun, tmp_path: Path) -> None:
    xss_run.info.config.dataset = str(tmp_path / "gone")
    files = write_report([xss_run], tmp_path / "lb")
    text = files.index_html.read_text(encoding="utf-8")
    check_html(text)
    assert "left out" in text and "Failure taxonomy" not in text
    assert not (tmp_path / "lb" / "galleries").exists()


def test_render_with_no_results_still_parses(xss_run: LoadedRun) -> None:
    check_html(render_html_leaderboard([xss_run]))


def test_galleries_sharing_a_thumbnailer_decode_each_pair_once(xss_run: LoadedRun, tmp_path: Path, monkeypatch) -> None:
    from harness.report import gallery

    dataset, results = load_sample_results([xss_run])
    loads: list[tuple[str, str]] = []
    real_load_pair = gallery.load_pair
    monkeypatch.setattr(
        gallery, "load_pair", lambda root, a, b, cache: loads.append((a, b)) or real_load_pair(root, a, b, cache)
    )
    thumbnailer = gallery.Thumbnailer(dataset.root)
    pairs = set()
    for name in ("center-prior", "random-box"):
        sections = failure_gallery_sections(results[name])
        pairs |= {(e.image_a, e.image_b) for entries in sections.values() for e in entries}
        write_gallery(tmp_path / name, "t", "", sections, dataset.root, ["m"], thumbnailer=thumbnailer)
    assert sorted(loads) == sorted(pairs)  # each pair decoded once across both galleries
