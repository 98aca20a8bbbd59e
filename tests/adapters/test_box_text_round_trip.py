"""Round trips of a known box through every box convention and coordinate scale: a pixel box in B,
written on the scale as a model would (`pixels_to_scale`, rounded to the digits a model writes), put
in the convention's form, parsed, and mapped back (`boxes_to_pixels`, and `canvas_boxes_to_b` for a
canvas) gives the same box up to that rounding. The same cases run through
`VlmAdapter.prediction_for`, the path every answer takes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from idg_adapters.base import PairInput
from idg_adapters.box_scales import Size, boxes_to_pixels, pixels_to_scale, scale_divisors
from idg_adapters.box_text import CONVENTIONS, parse_box_reply
from idg_adapters.canvas_mapping import CanvasLayout, canvas_boxes_to_b
from idg_adapters.vlm_adapter import VlmAdapter, VlmAnswer, VlmRequest


def _number(value: float, digits: int) -> str:
    return str(round(value)) if digits == 0 else f"{value:.{digits}f}"


def _qwen(b: list[str]) -> str:
    return f"<|object_ref_start|>the cup<|object_ref_end|><|box_start|>({b[0]},{b[1]}),({b[2]},{b[3]})<|box_end|>"


def _internvl(b: list[str]) -> str:
    return f"<ref>the cup</ref><box>[[{', '.join(b)}]]</box>"


def _minicpm(b: list[str]) -> str:
    return f"<ref>the cup</ref><box>{' '.join(b)}</box>"


def _mantis(b: list[str]) -> str:
    return f"The difference is at <box>[{', '.join(b)}]</box>."


def _bbox_json(b: list[str]) -> str:
    return "```json\n" + json.dumps([{"bbox_2d": [json.loads(v) for v in b], "label": "the cup"}]) + "\n```"


def _plain(b: list[str]) -> str:
    return f"The box is [{', '.join(b)}]."


WRITERS: dict[str, Callable[[list[str]], str]] = {
    "qwen2-vl": _qwen,
    "internvl2": _internvl,
    "minicpm": _minicpm,
    "mantis": _mantis,
    "bbox-json": _bbox_json,
    "plain": _plain,
}


@dataclass(frozen=True)
class Case:
    convention: str
    scale: str
    digits: int  # decimals the model writes
    size: Size = (640, 480)  # B's size
    max_image_side: int = 0
    model_size: Size | None = None  # the model's resized input (model-pixels)
    mode: str = "pair"

    @property
    def id(self) -> str:
        extra = f"-{self.mode}" if self.mode != "pair" else ""
        return f"{self.convention}-{self.scale}{extra}-{self.size[0]}x{self.size[1]}"


CASES = [
    Case("qwen2-vl", "0-1000", 0),
    Case("qwen2-vl", "0-1000", 0, size=(300, 600)),
    Case("internvl2", "0-1000", 0, size=(1024, 512)),
    Case("minicpm", "pixels", 0, size=(1280, 960), max_image_side=640),  # pixels of the downscaled image sent
    Case("minicpm", "0-100", 1),
    Case("mantis", "0-1", 3),
    Case("mantis", "0-1", 3, size=(240, 320)),
    Case("bbox-json", "model-pixels", 0, model_size=(644, 476)),  # Qwen2.5-VL: pixels of its resized input
    Case("bbox-json", "0-1000", 0, size=(800, 450)),  # Qwen3-VL
    Case("bbox-json", "pixels", 0, size=(450, 800)),
    Case("plain", "0-1000", 0),
    Case("plain", "0-1", 4, size=(333, 777)),
    Case("plain", "0-1000", 0, mode="canvas"),  # A|B on one image: the box is on the canvas
    Case("internvl2", "0-1000", 0, size=(400, 300), mode="canvas"),
]
assert {c.convention for c in CASES} == set(CONVENTIONS)
GAP = 8


def _true_box(size: Size) -> np.ndarray:
    w, h = size
    return np.array([0.21 * w, 0.37 * h, 0.58 * w, 0.81 * h])


def _frames(case: Case) -> tuple[Size, Size, CanvasLayout | None]:
    """(frame size, sent size, layout) as the adapter would send the case's pair."""
    w, h = case.size
    layout = CanvasLayout(w, h, GAP) if case.mode == "canvas" else None
    frame = layout.size if layout else case.size
    sent = frame
    if case.max_image_side and max(frame) > case.max_image_side:
        ratio = case.max_image_side / max(frame)
        sent = (round(frame[0] * ratio), round(frame[1] * ratio))
    return frame, sent, layout


def _written(case: Case, frame: Size, sent: Size, layout: CanvasLayout | None) -> str:
    """The reply a model writes for the true box, on the case's scale, rounded as it writes numbers."""
    box = _true_box(case.size)
    if layout is not None:
        box = box + np.array([layout.b_offset, 0, layout.b_offset, 0])
    on_scale = pixels_to_scale([box], case.scale, frame, sent, case.model_size)[0]
    numbers = [_number(v, case.digits) for v in on_scale]
    return WRITERS[case.convention](numbers)


def _tolerance(case: Case, frame: Size, sent: Size) -> np.ndarray:
    """Half a unit of the last digit written, in pixels of B, per coordinate."""
    dx, dy = scale_divisors(case.scale, sent, case.model_size)
    half = 0.5 * 10.0**-case.digits
    return np.array([half * frame[0] / dx, half * frame[1] / dy] * 2) + 1e-9


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_round_trip_through_parser_and_scale(case: Case) -> None:
    frame, sent, layout = _frames(case)
    reply = _written(case, frame, sent, layout)
    parsed = parse_box_reply(reply, case.convention)
    assert len(parsed) == 1, reply
    pixels = boxes_to_pixels(parsed, case.scale, frame, sent, case.model_size)
    if layout is not None:
        pixels, _ = canvas_boxes_to_b(pixels, np.ones(1), layout)
    assert np.all(np.abs(pixels[0] - _true_box(case.size)) <= _tolerance(case, frame, sent)), (reply, pixels)


class _Replays(VlmAdapter):
    """Answers with the reply it is given (tests only)."""

    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:  # pragma: no cover - unused
        raise AssertionError


def _prompt(tmp_path: Path, convention: str, scale: str) -> Path:
    path = tmp_path / f"{convention}-{scale}.yaml"
    text = {"pair": "Box it: {query}", "canvas": "Box it: {query}", "convention": convention, "coordinates": scale}
    path.write_text(json.dumps(text))  # JSON is YAML
    return path


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_round_trip_through_the_adapter(case: Case, tmp_path: Path) -> None:
    adapter = _Replays(
        prompt=str(_prompt(tmp_path, case.convention, case.scale)), mode=case.mode, max_image_side=case.max_image_side
    )
    image = Image.new("RGB", case.size, (90, 90, 90))
    request = adapter.request_for(PairInput("s", image, image.copy(), "the cup"))
    frame, sent, layout = _frames(case)
    assert (request.frame_size, request.sent_size) == (frame, sent)
    reply = _written(case, frame, sent, layout)
    sizes = [case.model_size] if case.model_size else []
    prediction = adapter.prediction_for(request, VlmAnswer(reply, model_sizes=sizes))
    assert prediction.error is None and prediction.reply == reply and len(prediction.boxes) == 1
    assert np.all(np.abs(prediction.boxes[0] - _true_box(case.size)) <= _tolerance(case, frame, sent))
