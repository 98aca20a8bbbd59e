"""Fuzzing of the box-reply parser and of `VlmAdapter.prediction_for`: whatever a model writes, the
parser returns a list of 4-tuples of finite floats and never raises, and an answer becomes either
the boxes it holds or an empty prediction that keeps the reply, never an error and never a made-up
box. Example counts are modest: the suite runs on two cores."""

from __future__ import annotations

import json
import math
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from idg_adapters.base import PairInput
from idg_adapters.box_text import CONVENTIONS, parse_box_reply
from idg_adapters.vlm_adapter import VlmAdapter, VlmAnswer, VlmRequest

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TOKENS = [
    "<|box_start|>", "<|box_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<box>", "</box>", "<ref>",
    "</ref>", "(", ")", "[", "]", "[[", "]]", "{", "}", ",", ", ", " ", "\n", ":", '"bbox_2d"', "'bbox_2d'",
    '"label"', "```json", "```", "e", "E", "-", "+", ".", "1e999", "-1e999", "nan", "inf", "0", "1000", "\x00", "é",
]  # fmt: skip
NUMBERS = st.one_of(
    st.integers(-(10**400), 10**400).map(str),
    st.floats(1e300, 1.7e308).map(repr),  # finite as written, beyond any pixel once scaled
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(0, 1000, allow_nan=False).map(lambda v: f"{v:.3f}"),
)
MIXED = st.lists(st.one_of(st.sampled_from(TOKENS), NUMBERS, st.text(max_size=4)), max_size=40).map("".join)
PROSE = st.text(alphabet=string.ascii_letters + string.digits + " .,;:!?'-\n", max_size=60)


def _well_formed(result: object) -> None:
    assert isinstance(result, list)
    for box in result:
        assert isinstance(box, tuple) and len(box) == 4
        assert all(isinstance(v, float) and math.isfinite(v) for v in box)


@FUZZ
@given(reply=st.text(max_size=200), convention=st.sampled_from(sorted(CONVENTIONS)))
def test_any_text_gives_finite_four_tuples(reply: str, convention: str) -> None:
    _well_formed(parse_box_reply(reply, convention))


@FUZZ
@given(reply=MIXED, convention=st.sampled_from(sorted(CONVENTIONS)))
def test_conventions_tokens_mixed_give_finite_four_tuples(reply: str, convention: str) -> None:
    _well_formed(parse_box_reply(reply, convention))


def _form(convention: str, box: tuple[float, ...]) -> str:
    a, b, c, d = (repr(v) for v in box)
    return {
        "qwen2-vl": f"<|box_start|>({a},{b}),({c},{d})<|box_end|>",
        "internvl2": f"<box>[[{a}, {b}, {c}, {d}]]</box>",
        "minicpm": f"<box>{a} {b} {c} {d}</box>",
        "mantis": f"<box>[{a}, {b}, {c}, {d}]</box>",
        "bbox-json": json.dumps({"bbox_2d": list(box), "label": "x"}),
        "plain": f"[{a}, {b}, {c}, {d}]",
    }[convention]


@FEW
@given(
    convention=st.sampled_from(sorted(CONVENTIONS)),
    box=st.tuples(*[st.floats(-1e6, 1e6, allow_nan=False)] * 4),
    before=PROSE,
    after=PROSE,
)
def test_a_box_in_its_form_amid_prose_is_read_exactly(
    convention: str, box: tuple[float, ...], before: str, after: str
) -> None:
    parsed = parse_box_reply(f"{before} {_form(convention, box)} {after}", convention)
    assert parsed[0] == box


class _Replays(VlmAdapter):
    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:  # pragma: no cover - unused
        raise AssertionError


@pytest.fixture(scope="module")
def adapters(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str, str], tuple[VlmAdapter, VlmRequest]]:
    """An adapter and its request for a 640x480 pair per (convention, scale, mode) fuzzed."""
    folder = tmp_path_factory.mktemp("prompts")
    image = Image.new("RGB", (640, 480), (90, 90, 90))
    pair = PairInput("s", image, image.copy(), "the cup")
    out = {}
    for convention in CONVENTIONS:
        for scale in ("0-1", "0-1000", "pixels"):
            path = folder / f"{convention}-{scale}.yaml"
            text = {"pair": "{query}", "canvas": "{query}", "convention": convention, "coordinates": scale}
            path.write_text(json.dumps(text))
            for mode in ("pair", "canvas"):
                adapter = _Replays(prompt=str(path), mode=mode, max_boxes=3)
                out[(convention, scale, mode)] = (adapter, adapter.request_for(pair))
    return out


@FUZZ
@example(reply="[1e308, 1, 1e308, 2]", convention="plain", scale="0-1", mode="pair")  # overflowed to inf once
@given(
    reply=st.one_of(MIXED, st.text(max_size=120)),
    convention=st.sampled_from(sorted(CONVENTIONS)),
    scale=st.sampled_from(["0-1", "0-1000", "pixels"]),
    mode=st.sampled_from(["pair", "canvas"]),
)
def test_prediction_for_keeps_the_reply_and_never_makes_up_a_box(
    adapters: dict, reply: str, convention: str, scale: str, mode: str
) -> None:
    adapter, request = adapters[(convention, scale, mode)]
    prediction = adapter.prediction_for(request, VlmAnswer(reply))
    assert prediction.error is None and prediction.reply == reply
    readable = [b for b in parse_box_reply(reply, convention) if b[2] >= b[0] and b[3] >= b[1]]
    assert np.isfinite(prediction.boxes).all() and np.isfinite(prediction.scores).all()
    assert len(prediction.boxes) == len(prediction.scores) <= min(3, len(readable))
    if all(abs(v) < 1e200 for box in readable for v in box):  # none overflows once scaled to pixels
        assert len(prediction.boxes) == min(3, len(readable))
