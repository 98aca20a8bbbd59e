"""A fake text-answering model for the box-convention check: it finds the red object by thresholding
the last image it is sent and writes its box as `[x1, y1, x2, y2]` in the frame its `answer_in`
option names, whatever its prompt declares."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from idg_adapters.vlm_adapter import VlmAdapter, VlmAnswer, VlmRequest

FAKE_NAME = "test-fake-vlm"

PROMPT_YAML = """\
description: the fake model's prompt (tests only)
system: null
pair: |
  Box this difference in the second image: {query}. Answer [x1, y1, x2, y2] in {coordinates}.
canvas: |
  Box this difference in the whole image: {query}. Answer [x1, y1, x2, y2] in {coordinates}.
convention: plain
coordinates: {coordinates}
"""


def write_prompt(folder: Path, coordinates: str = "pixels") -> Path:
    """A prompt template declaring `coordinates` (plain `[x1, y1, x2, y2]` boxes), written in `folder`."""
    path = folder / f"fake-prompt-{coordinates}.yaml"
    path.write_text(PROMPT_YAML.replace("{coordinates}", coordinates))
    return path


class FakeBoxVlm(VlmAdapter):
    """answer_in: `pixels` (of the image as sent), `0-1000`, `resized-N` (pixels of the image resized to
    N px on its longer side) or `nothing` (a reply without a box)."""

    description = "a fake VLM that boxes the red pixels (tests only)"

    @classmethod
    def backend_options(cls) -> dict:
        return {"answer_in": "pixels"}

    def answer(self, requests: list[VlmRequest]) -> list[VlmAnswer | Exception]:
        return [self._answer(request) for request in requests]

    def _answer(self, request: VlmRequest) -> VlmAnswer:
        image = np.asarray(request.images[-1].convert("RGB")).astype(int)
        red = (image[..., 0] > 170) & (image[..., 1] < 100) & (image[..., 2] < 100)
        mode = str(self.options["answer_in"])
        if mode == "nothing" or not red.any():
            return VlmAnswer("I can see a red square, it is near the middle.")
        ys, xs = np.nonzero(red)
        box = np.array([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1], dtype=np.float64)
        w, h = request.sent_size
        if mode == "0-1000":
            box = box / np.array([w, h, w, h]) * 1000
        elif mode.startswith("resized-"):
            box = box * int(mode.split("-")[1]) / max(w, h)
        return VlmAnswer("The box is [" + ", ".join(str(round(float(v))) for v in box) + "].")
