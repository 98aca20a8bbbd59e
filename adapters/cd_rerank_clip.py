"""`cd-rerank-clip`: two stages, change detection then grounding. A change detector proposes the
pair's differences; open_clip scores each proposal's crops (from B and from A) against the query.

The max over the two views is the score because the changed object shows in B for additions,
replacements and appearance changes, and only in A for removals. Weights come from a local file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from idg_adapters.base import Adapter, AdapterUnavailable, PairInput, Prediction
from idg_adapters.checkpoint_files import (
    CheckpointError,
    load_matching_state_dict,
    load_state_dict,
    weights_path_problem,
    weights_sha256,
)
from idg_adapters.registry import create_adapter, register

PROPOSAL_ADAPTERS = ("pixel-diff", "cd-siamese")
# CLIP's own preprocessing statistics (open_clip's OPENAI_DATASET_MEAN/STD).
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def context_crop_box(box: np.ndarray, width: int, height: int, margin: float) -> tuple[int, int, int, int]:
    """A square around `box`, `margin` of its longer side added on each side, kept inside the image.

    Square so resizing to CLIP's square input does not distort the object; the margin gives CLIP
    the context that relational queries ("left of the disc") talk about.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1, 1.0) * (1.0 + 2.0 * margin)
    side = max(min(round(side), width, height), 1)
    left = min(max(round((x1 + x2 - side) / 2.0), 0), width - side)
    top = min(max(round((y1 + y2 - side) / 2.0), 0), height - side)
    return left, top, left + side, top + side


@register("cd-rerank-clip")
class ChangeRerankClipAdapter(Adapter):
    description = (
        "Change proposals (pixel-diff or cd-siamese) re-ranked by open_clip similarity of their A/B crops to the query."
    )
    uses_query = True

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        if self.options["proposals"] not in PROPOSAL_ADAPTERS:
            raise ValueError(
                f"cd-rerank-clip: proposals must be one of {PROPOSAL_ADAPTERS}, got {self.options['proposals']!r}"
            )
        if int(self.options["max_proposals"]) < 1:
            raise ValueError(f"cd-rerank-clip: max_proposals must be >= 1, got {self.options['max_proposals']!r}")
        if float(self.options["context_margin"]) < 0:
            raise ValueError(f"cd-rerank-clip: context_margin must be >= 0, got {self.options['context_margin']!r}")
        self.model = None

    @classmethod
    def default_options(cls) -> dict[str, Any]:
        return {
            "model": "ViT-B-32",
            "weights": "",
            "model_config": "",
            "proposals": "pixel-diff",
            "max_proposals": 10,
            "context_margin": 0.25,
        }

    def check(self) -> None:
        try:
            import open_clip  # noqa: F401
        except ImportError as exc:
            raise AdapterUnavailable("open-clip-torch is not installed", "pip install open-clip-torch") from exc
        weights = str(self.options["weights"])
        if not weights:
            raise AdapterUnavailable(
                "no open_clip weights given (the harness never downloads them)",
                "--opt cd-rerank-clip.weights=/path/to/open_clip_model.safetensors --opt cd-rerank-clip.model=ViT-B-32",
            )
        problem = weights_path_problem(Path(weights), "cd-rerank-clip.weights")
        if problem:
            raise AdapterUnavailable(problem, "pass an existing --opt cd-rerank-clip.weights")
        config = str(self.options["model_config"])
        if config and not Path(config).is_file():
            raise AdapterUnavailable(f"model config {config} not found", "pass an open_clip model JSON config")

    def load(self, device: str = "cpu") -> None:
        self.check()
        import open_clip
        import torch

        if self.options["model_config"]:
            # A custom architecture: its JSON (open_clip's model-config format) registers under its file stem.
            open_clip.add_model_config(self.options["model_config"])
        name = str(self.options["model"])
        try:
            model = open_clip.create_model(name, pretrained=None)
            state = load_state_dict(Path(self.options["weights"]))
            state = {k.removeprefix("module."): v for k, v in state.items()}
            load_matching_state_dict(model, state, Path(self.options["weights"]), f"open_clip model {name!r}")
        except (CheckpointError, RuntimeError) as exc:
            raise AdapterUnavailable(
                f"cannot build open_clip model {name!r} from {self.options['weights']}: {exc}",
                "pass weights that match --opt cd-rerank-clip.model",
            ) from exc
        self.device = ("cuda" if torch.cuda.is_available() else "cpu") if device == "auto" else device
        self.model = model.to(self.device).eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        size = model.visual.image_size
        self.input_size = int(size[0] if isinstance(size, (tuple, list)) else size)
        self.proposer = create_adapter(str(self.options["proposals"]))
        self.proposer.load(device)

    def num_parameters(self) -> int | None:
        return None if self.model is None else sum(p.numel() for p in self.model.parameters())

    def fingerprint_parts(self) -> dict[str, Any]:
        parts = super().fingerprint_parts()
        for key in ("weights", "model_config"):
            path = Path(str(self.options[key]))
            if self.options[key] and path.is_file():
                parts[f"{key}_sha256"] = weights_sha256(path)
        parts["proposals_fingerprint"] = create_adapter(str(self.options["proposals"])).fingerprint()
        return parts

    def predict(self, batch: list[PairInput]) -> list[Prediction]:
        if batch and self.model is None:
            self.load("cpu")
        # Per pair: the proposals and the crops of one pair never meet another pair's.
        return [
            self.predict_one(pair, proposal) for pair, proposal in zip(batch, self.proposer.predict(batch), strict=True)
        ]

    def predict_one(self, pair: PairInput, proposal: Prediction) -> Prediction:
        if proposal.error is not None:
            return Prediction.failed(f"proposals ({self.options['proposals']}): {proposal.error}")
        boxes = proposal.boxes[: int(self.options["max_proposals"])]
        if len(boxes) == 0:
            return Prediction(boxes=np.zeros((0, 4)), scores=np.zeros(0))
        similarity = self.crop_similarity(pair, boxes)
        # Stable sort: equal similarities keep the change detector's order.
        order = np.argsort(-similarity, kind="stable")
        return Prediction(boxes=boxes[order], scores=similarity[order])

    def crop_similarity(self, pair: PairInput, boxes: np.ndarray) -> np.ndarray:
        """Per box: max over the B and A crops of the cosine similarity to the query, mapped to [0, 1]."""
        import torch

        width, height = pair.size
        margin = float(self.options["context_margin"])
        crops = []
        for image in (pair.image_b, pair.image_a):
            for box in boxes:
                crops.append(self._crop_tensor(image, context_crop_box(box, width, height, margin)))
        with torch.no_grad():
            image_features = self.model.encode_image(torch.stack(crops).to(self.device)).float()
            text_features = self.model.encode_text(self.tokenizer([pair.query]).to(self.device)).float()
        image_features = torch.nn.functional.normalize(image_features, dim=-1)
        text_features = torch.nn.functional.normalize(text_features, dim=-1)
        cosine = (image_features @ text_features[0]).cpu().numpy().astype(np.float64)
        best = np.maximum(cosine[: len(boxes)], cosine[len(boxes) :])
        return np.clip((best + 1.0) / 2.0, 0.0, 1.0)

    def _crop_tensor(self, image: Image.Image, region: tuple[int, int, int, int]):
        import torch

        crop = image.crop(region).resize((self.input_size, self.input_size), Image.Resampling.BICUBIC)
        pixels = torch.from_numpy(np.asarray(crop, dtype=np.float32) / 255.0).permute(2, 0, 1)
        mean = torch.tensor(CLIP_MEAN).view(3, 1, 1)
        std = torch.tensor(CLIP_STD).view(3, 1, 1)
        return (pixels - mean) / std
