"""IDG adapters over multimodal LLMs: one request per sample, a text answer, boxes read from it.

A `VlmAdapter` turns a pair into a `VlmRequest` (the images and the user text of its prompt
template), asks its backend for answers (`answer`: local transformers in `vlm_hf.py`, an
OpenAI-compatible server in `vlm_api.py`), and reads each answer's boxes by the convention and
coordinate scale the prompt declared (`box_text.py`, `box_scales.py`).

Two input modes, as for the single-image grounders:
- `pair`: A and B as two images in one message, A first; the prompt names which is which and asks
  for the box in the second image;
- `canvas`: A|B side by side on one image (for single-image models); boxes on the canvas are mapped
  back into B's frame (`canvas_mapping.py`).

An answer without a readable box is a prediction with no boxes and the raw text kept: a miss,
counted as `no_prediction` in run.json and shown in the failure gallery. A backend failure
(timeout, refused request) is an error for that sample only; errors are not cached, so a resumed
run asks again.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from PIL import Image

from idg_adapters.base import Adapter, PairInput, Prediction
from idg_adapters.box_scales import Size, boxes_to_pixels, check_scale
from idg_adapters.box_text import parse_box_reply
from idg_adapters.canvas_mapping import A_HALF_POLICIES, CanvasLayout, canvas_boxes_to_b, compose_canvas
from idg_adapters.vlm_prompts import MODES, PromptTemplate, load_prompt, resolve_prompt_path


@dataclass
class VlmRequest:
    """What is sent for one sample: images in order, the user text, the system text."""

    images: list[Image.Image]
    text: str
    system: str | None
    frame_size: Size  # (w, h) of the image the boxes refer to, at the harness's resolution
    layout: CanvasLayout | None = None  # set in canvas mode

    @property
    def sent_size(self) -> Size:
        """(w, h) of the image the boxes refer to, as sent (the last image)."""
        return self.images[-1].size


@dataclass
class VlmAnswer:
    """A backend's answer: the text, the tokens it cost, and the size the model resized each image
    to (when the backend knows it; needed for the `model-pixels` scale)."""

    text: str
    usage: dict[str, int] | None = None
    model_sizes: list[Size] = field(default_factory=list)


def downscaled(image: Image.Image, max_side: int) -> Image.Image:
    """`image` with its longer side at most `max_side` (0: unchanged), aspect kept."""
    if max_side <= 0 or max(image.size) <= max_side:
        return image
    ratio = max_side / max(image.size)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    return image.resize(size, Image.Resampling.BICUBIC)


class VlmAdapter(Adapter):
    """Base of the multimodal-LLM adapters; subclasses implement `answer` (and `load`)."""

    answers_in_text: ClassVar[bool] = True
    default_prompt: ClassVar[str] = "generic"
    """The shipped template (`adapters/prompts/<name>.yaml`) used when the `prompt` option is empty."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        opts = self.options
        if opts["mode"] not in MODES:
            raise ValueError(f"{self.name}: mode must be one of {MODES}, got {opts['mode']!r}")
        if opts["a_half"] not in A_HALF_POLICIES:
            raise ValueError(f"{self.name}: a_half must be one of {A_HALF_POLICIES}, got {opts['a_half']!r}")
        for key in ("max_new_tokens", "max_boxes"):
            if int(opts[key]) < 1:
                raise ValueError(f"{self.name}: {key} must be >= 1, got {opts[key]!r}")
        for key in ("max_image_side", "canvas_gap"):
            if int(opts[key]) < 0:
                raise ValueError(f"{self.name}: {key} must be >= 0, got {opts[key]!r}")
        self.prompt: PromptTemplate = load_prompt(resolve_prompt_path(str(opts["prompt"]), self.default_prompt))
        if opts["coordinates"]:
            check_scale(str(opts["coordinates"]))

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        return {
            "mode": "pair",
            "prompt": "",  # a YAML file, or the name of a shipped template; empty: the family's default
            "coordinates": "",  # overrides the prompt's declared scale (for a prompt you cannot edit)
            "max_new_tokens": 256,
            "max_image_side": 0,  # downscale each image so its longer side is at most this (0: as is)
            "max_boxes": 10,
            "canvas_gap": 8,
            "a_half": "map",  # canvas mode: a box on A's half is mapped across to B ("map") or dropped
            **cls.backend_options(),
        }

    @classmethod
    def backend_options(cls) -> dict[str, Any]:
        return {}

    @property
    def coordinates(self) -> str:
        return str(self.options["coordinates"] or self.prompt.coordinates)

    def fingerprint_parts(self) -> dict[str, Any]:
        parts = super().fingerprint_parts()
        parts["prompt"] = self.prompt.fingerprint_parts()
        return parts

    def request_for(self, pair: PairInput) -> VlmRequest:
        side = int(self.options["max_image_side"])
        mode = str(self.options["mode"])
        text = self.prompt.user_text(mode, pair.query)
        if mode == "pair":
            images = [downscaled(pair.image_a, side), downscaled(pair.image_b, side)]
            return VlmRequest(images, text, self.prompt.system, frame_size=pair.size)
        canvas, layout = compose_canvas(pair.image_a, pair.image_b, gap=int(self.options["canvas_gap"]))
        return VlmRequest([downscaled(canvas, side)], text, self.prompt.system, canvas.size, layout)

    @abstractmethod
    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:
        """One answer (or the exception that prevented it) per request, in order."""

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        requests = [self.request_for(pair) for pair in batch]
        answers = self.answer(requests)
        if len(answers) != len(requests):
            raise RuntimeError(f"{self.name}: backend gave {len(answers)} answers for {len(requests)} requests")
        return [self.prediction_for(request, answer) for request, answer in zip(requests, answers, strict=True)]

    def prediction_for(self, request: VlmRequest, answer: VlmAnswer | Exception) -> Prediction:
        """The boxes of one answer in B's pixels, ranked in the order the answer gives them."""
        if isinstance(answer, Exception):
            return Prediction.failed(f"{self.name}: {type(answer).__name__}: {answer}")
        raw = parse_box_reply(answer.text, self.prompt.convention)
        # A flipped box is not read as any box: reordering its corners would be a guess.
        raw = [box for box in raw if box[2] >= box[0] and box[3] >= box[1]]
        model_size = answer.model_sizes[-1] if answer.model_sizes else None
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                boxes = boxes_to_pixels(raw, self.coordinates, request.frame_size, request.sent_size, model_size)
        except ValueError as exc:  # model-pixels without a known resized size: a setup error per sample
            return Prediction(np.zeros((0, 4)), np.zeros(0), error=f"{self.name}: {exc}", reply=answer.text)
        # A number finite as written but beyond any pixel once scaled (1e308 on a 0-1 grid) is no box.
        boxes = boxes[np.isfinite(boxes).all(axis=1)]
        scores = 1.0 / np.arange(1, len(boxes) + 1, dtype=np.float64)
        if request.layout is not None:
            boxes, scores = canvas_boxes_to_b(boxes, scores, request.layout, str(self.options["a_half"]))
        keep = int(self.options["max_boxes"])
        return Prediction(boxes[:keep], scores[:keep], reply=answer.text, usage=answer.usage)
