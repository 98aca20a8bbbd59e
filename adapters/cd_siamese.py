"""`cd-siamese`: a learned change detector (FC-Siam-diff) whose change mask becomes ranked boxes.

It ignores the query. Default weights: the small checkpoint trained on DiffGround-Synth with
`harness train cd-siamese` and committed under adapters/checkpoints/ (provenance JSON beside it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from idg_adapters.base import Adapter, AdapterUnavailable, PairInput, Prediction
from idg_adapters.checkpoint_files import (
    CheckpointError,
    load_matching_state_dict,
    load_state_dict,
    provenance_model_spec,
    provenance_path,
    provenance_training_data,
    resolve_weights,
    weights_path_problem,
    weights_sha256,
)
from idg_adapters.mask_boxes import mask_to_boxes
from idg_adapters.recent_pairs import RecentPairs
from idg_adapters.registry import register

DEFAULT_WEIGHTS = "cd-siamese-synth.safetensors"
"""Resolved against adapters/checkpoints/ when it is a bare name, so it works from any directory."""


@register("cd-siamese")
class SiameseChangeDetectorAdapter(Adapter):
    description = "Learned change detector (FC-Siam-diff, trained on DiffGround-Synth masks); components ranked by mean change probability."
    uses_query = False

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if not 0.0 < float(self.options["threshold"]) < 1.0:
            raise ValueError(f"cd-siamese: threshold must be in (0, 1), got {self.options['threshold']!r}")
        for key in ("min_area", "max_boxes"):
            if int(self.options[key]) < 0:
                raise ValueError(f"cd-siamese: {key} must be >= 0, got {self.options[key]!r}")
        self.model = None
        # A pair has one query per difference and this model ignores the query: remember the last
        # few pairs' maps so the 2-4 queries of a pair cost one forward pass.
        self._recent: RecentPairs[np.ndarray] = RecentPairs()  # a pair's queries share its change map

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        return {"weights": DEFAULT_WEIGHTS, "threshold": 0.5, "min_area": 9, "max_boxes": 10}

    @property
    def weights_path(self) -> Path:
        return resolve_weights(str(self.options["weights"]))

    def check(self) -> None:
        weights = self.weights_path
        problem = weights_path_problem(weights, "cd-siamese.weights")
        if problem:
            raise AdapterUnavailable(
                problem,
                "train one with `harness train cd-siamese` and pass "
                "--opt cd-siamese.weights=results/train/cd-siamese/export/model.safetensors",
            )
        if not provenance_path(weights).is_file():
            raise AdapterUnavailable(
                f"no provenance JSON beside {weights} (it records the network and input size)",
                "keep the provenance.json written by `harness train` next to the weights",
            )

    def load(self, device: str = "cpu") -> None:
        self.check()
        from idg_adapters.cd_siamese_network import NetworkConfig, SiameseDiffNet

        weights = self.weights_path
        spec = provenance_model_spec(weights, ("image_size", "network"), "cd-siamese")
        self.image_size = int(spec["image_size"])
        model = SiameseDiffNet(NetworkConfig.from_dict(spec["network"]))
        try:
            state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(weights).items()}
            load_matching_state_dict(model, state, weights, "the cd-siamese network its provenance JSON describes")
        except CheckpointError as exc:
            raise AdapterUnavailable(f"cannot load cd-siamese weights: {exc}", "pass a cd-siamese checkpoint") from exc
        except RuntimeError as exc:
            raise AdapterUnavailable(f"cannot load {weights}: {exc}", "pass a cd-siamese checkpoint") from exc
        self.device = "cuda" if device == "auto" and _cuda_available() else ("cpu" if device == "auto" else device)
        self.model = model.to(self.device).eval()
        self._training_data = provenance_training_data(weights)

    def training_data(self) -> dict[str, Any] | None:
        return getattr(self, "_training_data", None)

    def num_parameters(self) -> int | None:
        return None if self.model is None else sum(p.numel() for p in self.model.parameters())

    def fingerprint_parts(self) -> dict[str, Any]:
        parts = super().fingerprint_parts()
        if self.weights_path.is_file():
            parts["weights_sha256"] = weights_sha256(self.weights_path)
        return parts

    def change_probability(self, pair: PairInput) -> np.ndarray:
        """(H, W) change probability in B's frame."""
        from idg_adapters.cd_siamese_network import change_probability

        if self.model is None:
            self.load("cpu")
        return self._recent.get(
            pair, lambda p: change_probability(self.model, p.image_a, p.image_b, self.image_size, self.device)
        )

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        # One pair at a time: outputs cannot depend on the batch, and images differ in size.
        return [self.predict_one(pair) for pair in batch]

    def predict_one(self, pair: PairInput) -> Prediction:
        probability = self.change_probability(pair)
        threshold = float(self.options["threshold"])
        boxes, scores = mask_to_boxes(probability, threshold, int(self.options["min_area"]))
        max_boxes = int(self.options["max_boxes"])
        return Prediction(boxes=boxes[:max_boxes], scores=scores[:max_boxes], mask=probability > threshold)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
