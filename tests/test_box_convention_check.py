"""The box-convention self-check on a fake text model that boxes the red square exactly and writes
the box in a frame of the test's choosing: right, a 0-1000 grid, a resized input, no box at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.run.box_convention_check import Verdict, check_box_convention
from harness.run.box_convention_fit import fit_axis
from harness.run.box_convention_pairs import PROBE_SIZES, SQUARE_COLOUR, probe_pairs
from idg_adapters.base import PairInput, Prediction
from idg_adapters.registry import register, unregister
from tests.box_check_fake import FAKE_NAME, FakeBoxVlm, write_prompt


class _KnowsItsInput(FakeBoxVlm):
    """Says the size its model resizes to (the optional `model_input_size` hook): 448 on the longer side."""

    def model_input_size(self, size: tuple[int, int]) -> tuple[int, int]:
        ratio = 448 / max(size)
        return round(size[0] * ratio), round(size[1] * ratio)


class _Crashes(FakeBoxVlm):
    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        raise RuntimeError("server went away")


@pytest.fixture(autouse=True)
def fake_model():
    register(FAKE_NAME)(FakeBoxVlm)
    yield
    unregister(FAKE_NAME)


def _check(tmp_path: Path, answer_in: str, coordinates: str = "pixels", cls=FakeBoxVlm, **options):
    adapter = cls(prompt=str(write_prompt(tmp_path, coordinates)), answer_in=answer_in, **options)
    return check_box_convention(adapter)


def test_probe_pairs_are_seeded_and_hold_one_red_square() -> None:
    first, again, other = probe_pairs(0), probe_pairs(0), probe_pairs(1)
    assert [p.box for p in first] == [p.box for p in again]
    assert [p.box for p in first] != [p.box for p in other]
    assert [p.size for p in first] == list(PROBE_SIZES) and len(first) == 12
    assert {w > h for w, h in PROBE_SIZES} == {True, False}  # landscape and portrait
    for probe in first:
        a, b = np.asarray(probe.pair.image_a), np.asarray(probe.pair.image_b)
        changed = np.argwhere((a != b).any(axis=2))
        x1, y1, x2, y2 = probe.box
        assert (changed.min(axis=0) == [y1, x1]).all() and (changed.max(axis=0) + 1 == [y2, x2]).all()
        assert tuple(b[int(y1), int(x1)]) == SQUARE_COLOUR
        assert 0 < x1 < x2 < probe.size[0] and 0 < y1 < y2 < probe.size[1]


def test_fit_axis_recovers_a_line() -> None:
    true = np.array([10.0, 50.0, 100.0, 300.0, 20.0, 240.0])
    fit = fit_axis("x", true, 0.5 * true + 7, np.full(6, 400.0))
    assert fit is not None
    assert fit.scale == pytest.approx(0.5) and fit.offset_px == pytest.approx(7)
    assert fit.offset_fraction == pytest.approx(7 / 400) and fit.r2 == pytest.approx(1) and fit.n == 6
    assert fit_axis("x", np.array([1.0, 1.0, 1.0, 1.0]), np.arange(4.0), np.ones(4)) is None  # nothing varies


def test_answers_as_declared_give_no_warning(tmp_path: Path) -> None:
    check = _check(tmp_path, "pixels")
    assert check.verdict == Verdict.OK and check.warnings == [] and check.explanation is None
    assert check.boxes == 12 and check.no_box == 0 and check.errors == 0
    for fit in (check.x, check.y):
        assert fit.scale == pytest.approx(1, abs=0.01) and abs(fit.offset_px) < 0.5 and fit.r2 > 0.999
    record = check.to_json()
    assert record["verdict"] == "ok" and record["x"]["n"] == 24 and record["declared"]["coordinates"] == "pixels"


def test_a_0_1000_grid_read_as_pixels_is_named(tmp_path: Path) -> None:
    check = _check(tmp_path, "0-1000")
    assert check.verdict == Verdict.WRONG and check.explanation.reading.key == "0-1000"
    assert "answers look like a 0-1000 grid, but the prompt declares pixels" in check.warnings[0]
    assert check.fix and "coordinates=0-1000" in check.fix


def test_pixels_read_as_a_grid_are_named(tmp_path: Path) -> None:
    check = _check(tmp_path, "pixels", coordinates="0-1000")
    assert check.explanation.reading.key == "pixels"
    assert "answers look like pixels of the image as sent, but the prompt declares a 0-1000 grid" in check.warnings[0]


def test_pixels_of_a_resized_input_are_named_with_their_scale(tmp_path: Path) -> None:
    check = _check(tmp_path, "resized-448")
    assert check.verdict == Verdict.WRONG
    (warning,) = check.warnings
    assert "x looks scaled by" in warning and "resized 448-px input" in warning
    assert check.explanation.reading.key == "longer-side-448"
    # An adapter that tells its model's input size gets the exact reading named.
    told = _check(tmp_path, "resized-448", cls=_KnowsItsInput)
    assert told.explanation.reading.key == "model-pixels"
    assert "pixels of the model's resized input" in told.warnings[0]


def test_no_readable_box_says_so_instead_of_fitting(tmp_path: Path) -> None:
    check = _check(tmp_path, "nothing")
    assert check.verdict == Verdict.NO_BOXES and check.x is None and check.y is None
    assert check.no_box == 12
    (warning,) = check.warnings
    assert warning.startswith("no readable boxes: none of the 12 answers held a box")
    assert "I can see a red square" in warning  # the reply is quoted


def test_a_failing_model_is_reported_not_raised(tmp_path: Path) -> None:
    check = _check(tmp_path, "pixels", cls=_Crashes)
    assert check.verdict == Verdict.NO_BOXES and check.errors == 12
    assert "failed on all 12 probe pairs" in check.warnings[0] and "server went away" in check.warnings[0]


def test_canvas_mode_is_read_through_the_canvas(tmp_path: Path) -> None:
    assert _check(tmp_path, "pixels", mode="canvas").verdict == Verdict.OK
    check = _check(tmp_path, "0-1000", mode="canvas")
    assert check.explanation.reading.key == "0-1000"
