"""Bad settings and hostile text: `harness run` checks its options before any model loads, naming
the option, and the markdown reports escape whatever text a dataset or a run carries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from tests.tiny_dataset import write_tiny_dataset


def _flat(text: str) -> str:
    """Console output with rich's line wrapping undone."""
    return " ".join(text.split())


def _run_args(dataset: Path, out: Path, *extra: str) -> list[str]:
    return ["run", "--models", "center-prior", "--dataset", str(dataset), "--output-dir", str(out), *extra]


# ---- settings checked before any model loads ----


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--opt", "pixel-dif.min_area=5"], "options for pixel-dif, which is not among the models of this run"),
        (["--opt", "pixel-diff.min_area=abc"], "option pixel-diff.min_area='abc': expected an integer"),
        (["--opt", "pixel-diff.min_area=1.5"], "option pixel-diff.min_area=1.5: expected an integer"),
        (["--opt", "pixel-diff.max_boxes=true"], "option pixel-diff.max_boxes=True: expected an integer"),
        (["--device", "bogus"], "--device 'bogus': not a device name"),
        (["--device", "tpu"], "--device 'tpu': not a device name"),
        (["--strata", "tempalte_family"], "--strata tempalte_family: no sample of the split has such an attribute"),
    ],
)
def test_bad_settings_are_refused_before_any_model_loads(
    tiny_dataset: Path,
    tmp_path: Path,
    extra: list[str],
    words: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from idg_adapters.pixel_diff import PixelDiffAdapter

    def never(self, device: str = "cpu") -> None:
        raise AssertionError("a model was loaded before the settings were checked")

    monkeypatch.setattr(PixelDiffAdapter, "load", never)
    args = ["run", "--models", "pixel-diff", "--dataset", str(tiny_dataset), "--output-dir", str(tmp_path / "r")]
    assert main([*args, *extra]) == 2
    assert words in _flat(capsys.readouterr().err)
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").glob("*/run.json"))


def test_cuda_is_refused_up_front_where_there_is_none(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    assert main(_run_args(tiny_dataset, tmp_path / "r", "--device", "cuda")) == 2
    assert "--device cuda: CUDA is not available here" in _flat(capsys.readouterr().err)


def test_models_command_refuses_options_for_unknown_models(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--opt", "pixel-dif.min_area=5"]) == 2
    assert "no registered model named pixel-dif" in _flat(capsys.readouterr().err)


# ---- markdown output ----

HOSTILE = ["<script>alert(1)</script>", '<img src=x onerror="alert(2)">', "a | b", "tick`s & <b>"]


def test_markdown_reports_escape_hostile_text(tmp_path: Path) -> None:
    from harness.report.markdown_text import md_code, md_text

    root = tmp_path / "ds"
    rows = write_tiny_dataset(root, n_pairs=4)
    for i, row in enumerate(rows):  # hostile queries, ids and edit types (an edit type becomes a table header)
        row["query"] = HOSTILE[i % len(HOSTILE)]
        row["edit_type"] = HOSTILE[i % len(HOSTILE)]
        row["attributes"] = {"family": HOSTILE[(i + 1) % len(HOSTILE)]}
    rows[0]["id"] = "<img src=x onerror=alert(3)>"
    (root / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (root / "dataset.json").write_text(json.dumps({"name": "<script>ds</script>|x", "version": "<b>1</b>"}))
    results, out = tmp_path / "results", tmp_path / "lb"
    args = ["run", "--models", "pixel-diff,center-prior", "--dataset", str(root), "--output-dir", str(results)]
    assert main([*args, "--run-id", "r", "--strata", "family"]) == 0
    assert main(["report", str(results / "r"), "--out", str(out), "--no-galleries"]) == 0
    assert main(["report", str(results / "r"), "--out", str(out), "--compare", "pixel-diff", "center-prior"]) == 0
    pages = [out / "leaderboard.md", *sorted((out / "comparisons").glob("*.md"))]
    assert len(pages) == 2
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for bad in ("<script", "<img", "<b>"):
            assert bad not in text, f"{page.name} holds raw {bad!r}"
        header_cells = None
        for line in text.splitlines():
            if not line.startswith("|"):
                header_cells = None  # the table ended
                continue
            cells = line.replace("\\|", "").count("|")
            header_cells = header_cells or cells
            assert cells == header_cells, f"{page.name}: a cell split the row: {line}"
    leaderboard = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert md_text(HOSTILE[0]) in leaderboard  # shown escaped, not dropped
    assert md_code("a | b") == "`a \\| b`" and md_text("a | b") == "a \\| b"
