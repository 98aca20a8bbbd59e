"""IDG adapters from single-image grounders: one `FAMILY-MODE` adapter per family and mode.

A family subclasses `GrounderAdapter` (options, weights check, how to build its grounder) and calls
`register_grounder_family`, which registers it in every mode of `adapters/grounder_modes.py`.

`weights` is a local path, or (families with `hub_weights`) a hub model id
`org/name[@revision]` fetched at load when downloads are allowed (`adapters/weights_source.py`).
Local weights are fingerprinted by their content hash; hub weights by the commit they resolved to,
which `load()` also writes into the `weights` option (`org/name@<commit>`), so run.json names it.
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from idg_adapters.base import Adapter, AdapterUnavailable, PairInput, Prediction
from idg_adapters.checkpoint_files import weights_sha256
from idg_adapters.grounder_modes import MODES, GroundingMode
from idg_adapters.grounding_text import phrase_query
from idg_adapters.registry import register_subclass
from idg_adapters.single_image_grounder import Candidates, SingleImageGrounder
from idg_adapters.weights_source import (
    ResolvedWeights,
    hub_note,
    locate_weights,
    resolve_weights_dir,
    weights_fingerprint_parts,
)


class GrounderAdapter(Adapter):
    """An IDG adapter around a single-image grounder in one mode (set by the family factory)."""

    family: ClassVar[str] = ""
    family_description: ClassVar[str] = ""
    mode: ClassVar[GroundingMode]
    weights_example: ClassVar[str] = "/path/to/hf-model-dir"
    hub_weights: ClassVar[bool] = False
    """True for families whose `weights` is a Hugging Face model directory, which may then also be
    a hub model id; the families whose weights are one checkpoint file keep it False."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        opts = self.options
        if int(opts["max_boxes"]) < 1 or int(opts["candidates"]) < 1:
            raise ValueError(f"{self.name}: max_boxes and candidates must be >= 1")
        if not 0.0 <= float(opts["box_threshold"]) <= 1.0:
            raise ValueError(f"{self.name}: box_threshold must be in [0, 1], got {opts['box_threshold']!r}")
        if int(opts["image_size"]) < 0:
            raise ValueError(f"{self.name}: image_size must be >= 0 (0: the model's own), got {opts['image_size']!r}")
        self.mode.validate(opts)
        self._grounder: SingleImageGrounder | None = None
        self._weights: ResolvedWeights | None = None  # set by load()
        self._weights_digest: str | None = None

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        return {
            "weights": "",
            "max_boxes": 10,
            "candidates": 100,
            # 0 keeps every ranked box: the harness scores the top-1 box, and AP50 wants the rest.
            "box_threshold": 0.0,
            "noun_phrases": False,
            "image_size": 0,
            **cls.family_options(),
            **cls.mode.options(),
        }

    @classmethod
    def family_options(cls) -> dict[str, Any]:
        return {}

    def how_to_enable(self, key: str = "weights", example: str | None = None) -> str:
        return f"--opt {self.name}.{key}={example or self.weights_example} (or set it in --model-config)"

    def required_path(self, key: str, what: str, example: str | None = None) -> Path:
        """The option `key` as an existing path, else AdapterUnavailable naming the option to set."""
        value = str(self.options[key]).strip()
        if not value:
            raise AdapterUnavailable(f"no {what} given", self.how_to_enable(key, example))
        path = Path(value).expanduser()
        if not path.exists():
            raise AdapterUnavailable(f"{what} {path} does not exist", self.how_to_enable(key, example))
        return path

    def located_weights(self) -> ResolvedWeights | None:
        """The weights on this machine, without downloading: as `load()` resolved them, a local path,
        or a hub id's snapshot in the HF cache; None when `load()` will fetch them from the hub.
        AdapterUnavailable when they are missing, or a hub id without `allow_download`."""
        if self._weights is not None:
            return self._weights
        if not self.hub_weights:
            return ResolvedWeights(self.required_path("weights", "weights"))
        return locate_weights(
            str(self.options["weights"]), f"{self.name}.weights", self.allow_download, self.how_to_enable()
        )

    def weights_path(self) -> Path:
        """The weights as a local path: where `load()` resolved them, else the option as given."""
        return self._weights.path if self._weights is not None else Path(self.options["weights"]).expanduser()

    def check(self) -> None:
        located = self.located_weights()
        if located is None:
            return  # a hub model load() will fetch: its files are checked then
        weights = located.path
        if weights.is_dir() and not (weights / "config.json").is_file():
            raise AdapterUnavailable(
                f"{weights} has no config.json: not a Hugging Face model directory", self.how_to_enable()
            )

    def grounder_settings(self) -> dict[str, Any]:
        """The options every grounder constructor takes, typed: input size, candidates, threshold."""
        opts = self.options
        return {
            "image_size": int(opts["image_size"]),
            "limit": int(opts["candidates"]),
            "threshold": float(opts["box_threshold"]),
        }

    @abstractmethod
    def build_grounder(self, device: str) -> SingleImageGrounder:
        """Load the weights (options already checked) into a ready, eval-mode grounder."""

    def check_note(self) -> str | None:
        if not self.hub_weights:
            return None
        try:
            return hub_note(str(self.options["weights"]), self.located_weights())
        except AdapterUnavailable:
            return None

    def weight_paths(self) -> list[Path]:
        """Files whose content determines the outputs (hashed into the fingerprint of local weights)."""
        return [self.weights_path()]

    def load(self, device: str = "cpu") -> None:
        if self.hub_weights:
            self._weights = resolve_weights_dir(
                str(self.options["weights"]), f"{self.name}.weights", self.allow_download, self.how_to_enable()
            )
        self.check()
        self._grounder = self.build_grounder(device)
        if self._weights is not None and self._weights.revision is not None:
            # The commit names the content: no need to hash a hub snapshot. Pinning the option puts
            # the commit into the fingerprint (via the options) and into run.json.
            self.options["weights"] = self._weights.pinned
        else:
            self._weights_digest = "+".join(weights_sha256(path) for path in self.weight_paths())

    def fingerprint_parts(self) -> dict[str, Any]:
        return {**super().fingerprint_parts(), **weights_fingerprint_parts(self._weights, self._weights_digest)}

    def num_parameters(self) -> int | None:
        return self._grounder.num_parameters() if self._grounder is not None else None

    def grounder_text(self, query: str) -> str:
        return phrase_query(query) if self.options["noun_phrases"] else query

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        if self._grounder is None:
            raise RuntimeError(f"{self.name}: call load() before predict()")
        prepared = [self.mode.prepare(pair, self.options) for pair in batch]
        texts = [self.grounder_text(pair.query) for pair in batch]
        try:
            found: list[Candidates | Exception] = list(self._grounder.ground([p.image for p in prepared], texts))
        except Exception:
            # Find the sample that failed: the others still get their answers.
            found = [self._ground_one(p.image, text) for p, text in zip(prepared, texts, strict=True)]
        return [self._prediction(pair, p, f) for pair, p, f in zip(batch, prepared, found, strict=True)]

    def _ground_one(self, image: Any, text: str) -> Candidates | Exception:
        assert self._grounder is not None
        try:
            return self._grounder.ground([image], [text])[0]
        except Exception as exc:
            return exc

    def _prediction(self, pair: PairInput, prepared: Any, found: Candidates | Exception) -> Prediction:
        if isinstance(found, Exception):
            return Prediction.failed(f"{self.name}: {type(found).__name__}: {found}")
        in_b = self.mode.to_b_frame(pair, prepared, found, self.options)
        prediction = Prediction.ranked(in_b.boxes, in_b.scores)
        keep = int(self.options["max_boxes"])
        prediction.boxes, prediction.scores = prediction.boxes[:keep], prediction.scores[:keep]
        return prediction


def register_grounder_family(family_cls: type[GrounderAdapter]) -> dict[str, type[GrounderAdapter]]:
    """Register `FAMILY-MODE` for every mode: a new grounder gets every IDG mode for free."""
    registered = {}
    for mode in MODES.values():
        name = f"{family_cls.family}-{mode.name}"
        qualname = f"{family_cls.__name__}_{mode.name}"
        attrs = {
            "mode": mode,
            "uses_image_a": mode.uses_image_a,
            "description": f"{family_cls.family_description}; {mode.description}",
        }
        registered[name] = register_subclass(name, family_cls, qualname, attrs)
    return registered
