"""Paired comparison: McNemar on discordant pairs, paired bootstrap CI, the --compare command."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from harness.cli import main
from harness.metrics.paired import paired_test
from harness.report.build_report import write_comparison
from harness.report.runs import LoadedRun
from tests.report.html_check import check_html


def test_mcnemar_uses_only_discordant_pairs() -> None:
    # 30 both hit, 10 only A, 2 only B, 58 both miss.
    a = np.array([1] * 30 + [1] * 10 + [0] * 2 + [0] * 58, dtype=bool)
    b = np.array([1] * 30 + [0] * 10 + [1] * 2 + [0] * 58, dtype=bool)
    result = paired_test(a, b, "overall", seed=0, stream="t")
    assert (result.a_only, result.b_only, result.n) == (10, 2, 100)
    assert result.p_value == pytest.approx(binomtest(10, 12, 0.5).pvalue)
    assert result.p_value == pytest.approx(0.0386, abs=1e-4)
    assert result.diff == pytest.approx(0.08)
    assert result.ci[0] < 0.08 < result.ci[1] and result.ci[0] > 0.0
    again = paired_test(a, b, "overall", seed=0, stream="t")
    assert again.ci == result.ci  # seeded


def test_identical_models_have_p_one_and_zero_interval() -> None:
    hits = np.array([True, False, True, True])
    result = paired_test(hits, hits, "overall")
    assert result.p_value == 1.0 and result.ci == (0.0, 0.0)


def test_compare_writes_markdown_and_disagreement_gallery(xss_run: LoadedRun, tmp_path: Path) -> None:
    md_path, gallery, markdown = write_comparison([xss_run], tmp_path / "lb", "pixel-diff", "center-prior")
    assert md_path.name == "pixel-diff-vs-center-prior.md"
    assert "McNemar" in markdown and "| overall | 6 |" in markdown
    assert "| remove | 3 |" in markdown and "| add | 3 |" in markdown
    check_html(gallery.read_text(encoding="utf-8"))
    for page in gallery.parent.glob("*.html"):
        check_html(page.read_text(encoding="utf-8"))


def test_compare_cli_and_unknown_model(xss_run: LoadedRun, tmp_path: Path) -> None:
    out = tmp_path / "lb"
    args = ["report", str(xss_run.run_dir), "--out", str(out)]
    assert main([*args, "--compare", "pixel-diff", "random-box"]) == 0
    assert (out / "comparisons" / "pixel-diff-vs-random-box.md").is_file()
    assert not (out / "index.html").exists()  # --compare only compares
    assert main([*args, "--compare", "pixel-diff", "nope"]) == 2
