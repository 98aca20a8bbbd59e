"""`harness models --check-boxes` (output at 80 columns, exit codes) and `harness run --check-boxes`
(the fit stored in run.json, the probes kept out of the run's predictions and cache)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.consoles_and_defaults import console
from idg_adapters.base import AdapterUnavailable
from idg_adapters.registry import register, unregister
from tests.box_check_fake import FAKE_NAME, FakeBoxVlm, write_prompt

UNAVAILABLE = "test-fake-vlm-unavailable"


class _Unavailable(FakeBoxVlm):
    def check(self) -> None:
        raise AdapterUnavailable("no server given", f"--opt {UNAVAILABLE}.base_url=URL")


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(console, "width", 80)
    register(FAKE_NAME)(FakeBoxVlm)
    register(UNAVAILABLE)(_Unavailable)
    yield
    unregister(FAKE_NAME)
    unregister(UNAVAILABLE)


def _check_boxes(tmp_path: Path, answer_in: str, *extra: str) -> int:
    prompt = write_prompt(tmp_path, "pixels")
    opts = ["--opt", f"{FAKE_NAME}.prompt={prompt}", "--opt", f"{FAKE_NAME}.answer_in={answer_in}"]
    return main(["models", "--check-boxes", FAKE_NAME, *opts, "--device", "cpu", *extra])


@pytest.mark.parametrize(
    ("answer_in", "code", "says"),
    [
        ("pixels", 0, "result: the boxes look right (exit 0)"),
        ("0-1000", 3, "warning: answers look like a 0-1000 grid, but the prompt declares pixels"),
        ("nothing", 4, "warning: no readable boxes: none of the 12 answers held a box"),
    ],
)
def test_exit_code_and_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], answer_in: str, code: int, says: str
) -> None:
    assert _check_boxes(tmp_path, answer_in) == code
    out = capsys.readouterr().out
    assert " ".join(out.split()).count(" ".join(says.split())) == 1
    assert all(len(line) <= 80 for line in out.splitlines() if not line.startswith("prompt: ")), out
    if answer_in != "nothing":
        assert "scale" in out and "offset px" in out and "R^2" in out
        rows = {line.split()[0]: line.split() for line in out.splitlines() if line.split()[:1] in (["x"], ["y"])}
        assert set(rows) == {"x", "y"}


def test_usage_errors_and_a_model_that_cannot_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "--check-boxes", "no-such-model"]) == 2
    assert "no adapter named 'no-such-model'" in capsys.readouterr().err
    assert main(["models", "--check-boxes", "pixel-diff"]) == 2
    assert "does not answer in text" in capsys.readouterr().err
    assert main(["models", "pixel-diff", "--check-boxes", FAKE_NAME]) == 2
    assert "leave out the PATTERN" in capsys.readouterr().err
    assert _check_boxes(tmp_path, "pixels", "--opt", f"{FAKE_NAME}.mode=sideways") == 2
    assert main(["models", "--check-boxes", UNAVAILABLE, "--device", "cpu"]) == 1
    out = capsys.readouterr().out
    assert "cannot run here: no server given" in out and f"--opt {UNAVAILABLE}.base_url=URL" in out


def test_run_check_boxes_stores_the_fit_and_keeps_probes_out(
    tiny_dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompt = write_prompt(tmp_path, "pixels")
    results = tmp_path / "results"
    args = ["run", "--models", f"{FAKE_NAME},pixel-diff", "--dataset", str(tiny_dataset), "--output-dir", str(results)]
    args += ["--run-id", "r1", "--loader-workers", "0", "--device", "cpu", "--opt", f"{FAKE_NAME}.prompt={prompt}"]
    assert main([*args, "--check-boxes"]) == 0
    err = capsys.readouterr().err
    assert err.count("not checked, as they do not answer in text: pixel-diff") == 1
    assert f"box check of {FAKE_NAME}: looks right" in err
    info = json.loads((results / "r1" / "run.json").read_text())
    fit = info["models"][FAKE_NAME]["box_check"]
    assert fit["verdict"] == "ok" and fit["pairs"] == 12 and fit["boxes"] == 12 and fit["warnings"] == []
    assert fit["x"]["scale"] == pytest.approx(1, abs=0.01) and fit["y"]["offset_px"] == pytest.approx(0, abs=0.5)
    assert "box_check" not in info["models"]["pixel-diff"]
    ids = [json.loads(line)["id"] for line in (results / "r1" / FAKE_NAME / "predictions.jsonl").open()]
    assert len(ids) == 6 and not any(i.startswith("box-check") for i in ids)
    cached = [line for path in (results / ".cache" / FAKE_NAME).glob("*.jsonl") for line in path.open()]
    assert len(cached) == 6 and "box-check" not in "".join(cached)
    # A wrong convention is a warning, not a failed run.
    wrong = [*args, "--opt", f"{FAKE_NAME}.answer_in=0-1000", "--run-id", "r2", "--check-boxes"]
    assert main(wrong) == 0
    assert "box check warning (test-fake-vlm): answers look like a 0-1000 grid" in " ".join(
        capsys.readouterr().err.split()
    )
    info = json.loads((results / "r2" / "run.json").read_text())
    assert info["models"][FAKE_NAME]["box_check"]["explanation"]["reading"] == "0-1000"
