"""The adapter contract: what every IDG model implements so the runner can evaluate it.

An adapter turns a batch of `PairInput`s (image A, image B, query) into one `Prediction` per
input: a ranked list of boxes (xyxy, absolute pixels of B) with scores, best first.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from PIL import Image


class AdapterUnavailable(Exception):
    """The adapter cannot run here (missing weights, package, device).

    `reason` says what is missing; `how_to_enable` gives the exact option or command to fix it.
    """

    def __init__(self, reason: str, how_to_enable: str) -> None:
        super().__init__(f"{reason} (to enable: {how_to_enable})")
        self.reason = reason
        self.how_to_enable = how_to_enable


class AdapterInputError(ValueError):
    """A PairInput is malformed (wrong image mode/size, query not a string); names the sample."""


@dataclass
class PairInput:
    """What a model sees for one sample: never the target box or the edit type.

    `image_a` is already mapped to B's pixel grid (resized to B's size when they differ), so
    every box an adapter returns is in B's frame.
    """

    id: str
    image_a: Image.Image
    image_b: Image.Image
    query: str

    def __post_init__(self) -> None:
        for name in ("image_a", "image_b"):
            image = getattr(self, name)
            if not isinstance(image, Image.Image):
                raise AdapterInputError(f"sample {self.id}: {name} must be a PIL image, got {type(image).__name__}")
            if image.mode != "RGB":
                raise AdapterInputError(f"sample {self.id}: {name} must be RGB, got mode {image.mode}")
        if self.image_a.size != self.image_b.size:
            raise AdapterInputError(
                f"sample {self.id}: image_a {self.image_a.size} and image_b {self.image_b.size} differ in size; "
                "the loader must map A onto B's grid first"
            )
        if not isinstance(self.query, str):
            raise AdapterInputError(f"sample {self.id}: query must be a string, got {type(self.query).__name__}")

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of image B."""
        return self.image_b.size


@dataclass
class Prediction:
    """A model's answer for one sample.

    boxes: float array (N, 4), xyxy in absolute pixels of B, ranked best first (N may be 0).
    scores: float array (N,), non-increasing.
    mask: optional (H, W) float or bool change map in B's frame.
    error: set (and boxes empty) when the model failed on this sample.
    reply: the raw text answer of a model that answers in text (a multimodal LLM), kept in
        predictions.jsonl; a reply without a readable box is a prediction with no boxes (a
        "no-prediction", a miss), never an error and never a made-up box.
    usage: tokens the answer cost ({"prompt_tokens": .., "completion_tokens": ..}), when known.
    """

    boxes: np.ndarray
    scores: np.ndarray
    mask: np.ndarray | None = None
    error: str | None = None
    reply: str | None = None
    usage: dict[str, int] | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)

    @classmethod
    def failed(cls, error: str) -> Prediction:
        return cls(boxes=np.zeros((0, 4)), scores=np.zeros(0), error=error)

    @classmethod
    def ranked(cls, boxes: Any, scores: Any, mask: np.ndarray | None = None) -> Prediction:
        """Build a prediction from unordered boxes/scores, sorting by score (stable, descending)."""
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        order = np.argsort(-scores, kind="stable")
        return cls(boxes=boxes[order], scores=scores[order], mask=mask)


class AdapterOptionError(TypeError):
    """An option's value does not have the type of its default; names `MODEL.KEY`."""


_TYPE_NAMES = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "text",
    list: "a list",
    dict: "a mapping",
}


def _typed_option(model: str, key: str, value: Any, default: Any) -> Any:
    """`value` checked against the type of `default` (None: any value). Numbers given for a text
    option become text (a YAML-parsed `--opt m.k=32` meant the string); ints pass for floats."""
    if default is None or value is None:
        return value
    kind = bool if isinstance(default, bool) else type(default)
    if kind is tuple:
        kind = list
    ok = {
        bool: isinstance(value, bool),
        int: isinstance(value, int) and not isinstance(value, bool),
        float: isinstance(value, (int, float)) and not isinstance(value, bool),
        str: isinstance(value, str),
        list: isinstance(value, (list, tuple)),
        dict: isinstance(value, dict),
    }.get(kind, True)
    if not ok and kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not ok:
        raise AdapterOptionError(
            f"option {model}.{key}={value!r}: expected {_TYPE_NAMES[kind]} (the default is {default!r})"
        )
    return value


class Adapter(ABC):
    """Base class of every IDG model adapter.

    Subclasses set `name` (the registry key) and implement `predict`; heavy set-up belongs in
    `load`. Options come in as keyword arguments (from the CLI's `--opt MODEL.KEY=VALUE` or a
    `--model-config` YAML) and are part of the fingerprint that keys the prediction cache.

    An adapter's output must be a function of what that cache key covers: its fingerprint (name,
    version, options, weights) and the sample's content (images A and B, the query), never of the
    sample id, the batch composition or the call order, or results depend on what the cache held.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    uses_query: ClassVar[bool] = True
    uses_image_a: ClassVar[bool] = True
    version: ClassVar[str] = "1"
    """Bump when a change to the adapter's code changes its outputs (invalidates the cache)."""
    allow_download: bool = False
    """Whether `load()` may fetch weights from the Hugging Face hub (`--allow-download`): set on the
    instance by the runner and `harness models` before `check()`/`load()`; off unless the user asked
    (see `adapters/weights_source.py`). Not an option: it changes where weights come from, not which."""

    def __init__(self, **options: Any) -> None:
        unknown = sorted(set(options) - set(self.default_options()))
        if unknown:
            known = ", ".join(sorted(self.default_options())) or "none"
            raise TypeError(f"adapter {self.name!r}: unknown option(s) {unknown}; known options: {known}")
        defaults = self.default_options()
        self.options: dict[str, Any] = {
            **defaults,
            **{key: _typed_option(self.name, key, value, defaults[key]) for key, value in options.items()},
        }

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        """The options this adapter accepts, with their defaults."""
        return {}

    def check(self) -> None:  # noqa: B027  (optional hook: no prerequisites means nothing to check)
        """Cheap availability check (packages, weight paths); raise AdapterUnavailable if not.

        `harness models` calls this without loading anything heavy.
        """

    def check_note(self) -> str | None:
        """After a passing `check()`: one line `harness models` shows about this model (e.g. weights
        that `load()` will download), or None."""
        return None

    def load(self, device: str = "cpu") -> None:
        """Heavy initialisation (weights onto `device`); raise AdapterUnavailable if impossible."""
        self.check()

    @abstractmethod
    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        """One Prediction per input, in order. Must not depend on batch composition."""

    def preferred_batch_size(self, requested: int) -> int:
        """The batch size the runner uses when `--batch-size` asks for `requested` (by default that).

        An adapter whose batches run concurrently (requests to a server) asks for batches at least
        as big as its concurrency. The runner writes predictions and the cache after every batch,
        so a bigger batch is also what a kill can lose.
        """
        return requested

    def num_parameters(self) -> int | None:
        """Parameter count for the leaderboard's size column; None for models without weights."""
        return None

    def training_data(self) -> dict[str, Any] | None:
        """The dataset the loaded weights were trained on ({"fingerprint": ..., ...}, from their
        provenance), so a report can say when a model is evaluated on other data; None if unknown."""
        return None

    def fingerprint(self) -> str:
        """Hash of what determines the outputs: name, code version, options (+ weights hash).

        Adapters that load weights extend `fingerprint_parts` with a hash of those files.
        """
        blob = json.dumps(self.fingerprint_parts(), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def fingerprint_parts(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "options": self.options}


__all__ = ["Adapter", "AdapterInputError", "AdapterOptionError", "AdapterUnavailable", "PairInput", "Prediction"]
