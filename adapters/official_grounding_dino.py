"""`gdino-official-*`: the official Grounding DINO (groundingdino-py) from a local `.pth` + python config.

The model's BERT comes from `text_encoder`, a local directory (groundingdino-py would otherwise ask
the hub for bert-base-uncased); the checkpoint then overwrites its weights.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from idg_adapters.base import AdapterUnavailable
from idg_adapters.checkpoint_files import load_state_dict
from idg_adapters.grounder_adapter import GrounderAdapter, register_grounder_family
from idg_adapters.grounding_text import grounding_caption
from idg_adapters.single_image_grounder import Candidates, candidates_from_normalized

PACKAGED_CONFIG = "GroundingDINO_SwinT_OGC.py"
INSTALL_HINT = "pip install 'idg-harness[grounding]'"
# The official inference transform: short side 800, long side at most 1333, ImageNet statistics.
DEFAULT_SHORT_SIDE, DEFAULT_LONG_SIDE = 800, 1333
IMAGENET_MEAN, IMAGENET_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def packaged_config() -> Path:
    """groundingdino-py's own SwinT-OGC config (the released `groundingdino_swint_ogc.pth`'s)."""
    spec = importlib.util.find_spec("groundingdino")
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).parent / "config" / PACKAGED_CONFIG


def checkpoint_model_state(path: Path) -> dict[str, Any]:
    """The model's tensors from an official checkpoint ({"model": state_dict}, maybe `module.`-prefixed)."""
    state = load_state_dict(path)
    if isinstance(state.get("model"), dict):
        state = state["model"]
    return {key.removeprefix("module."): value for key, value in state.items()}


class OfficialGroundingDinoGrounder:
    """groundingdino-py's model and its inference transform; one image per call."""

    def __init__(
        self,
        config: Path,
        checkpoint: Path,
        text_encoder: Path,
        device: str,
        image_size: int = 0,
        limit: int = 100,
        threshold: float = 0.0,
    ) -> None:
        import groundingdino.datasets.transforms as T
        from groundingdino.models import build_model
        from groundingdino.util.slconfig import SLConfig

        self.device = device
        self.limit, self.threshold = limit, threshold
        args = SLConfig.fromfile(str(config))  # a python file: groundingdino-py executes it
        args.text_encoder_type = str(text_encoder)
        args.device = device
        model = build_model(args)
        result = model.load_state_dict(checkpoint_model_state(checkpoint), strict=False)
        if result.missing_keys:
            # Unlike groundingdino-py's load_model, refuse a checkpoint that leaves weights random.
            shown = ", ".join(result.missing_keys[:5])
            raise ValueError(
                f"{checkpoint} does not fit {config}: {len(result.missing_keys)} weights missing ({shown}, ...)"
            )
        self.model = model.to(device).eval()
        short = image_size or DEFAULT_SHORT_SIDE
        long = round(short * DEFAULT_LONG_SIDE / DEFAULT_SHORT_SIDE)
        self.transform = T.Compose(
            [T.RandomResize([short], max_size=long), T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)]
        )

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @torch.inference_mode()
    def ground(self, images: list[Image.Image], texts: list[str]) -> list[Candidates]:
        return [self._ground_one(image, text) for image, text in zip(images, texts, strict=True)]

    def _ground_one(self, image: Image.Image, text: str) -> Candidates:
        # RandomResize with a single size is deterministic.
        pixels, _ = self.transform(image, None)
        outputs = self.model(pixels[None].to(self.device), captions=[grounding_caption(text)])
        scores = outputs["pred_logits"][0].sigmoid().max(dim=-1).values
        return candidates_from_normalized(
            outputs["pred_boxes"][0], scores, image.size, image.size, self.limit, self.threshold
        )


class OfficialGroundingDinoAdapter(GrounderAdapter):
    family = "gdino-official"
    family_description = "Grounding DINO, official implementation (groundingdino-py), local .pth"
    weights_example = "/path/to/groundingdino_swint_ogc.pth"

    @classmethod
    def family_options(cls) -> dict[str, Any]:
        # config "" means groundingdino-py's packaged SwinT-OGC config.
        return {"config": "", "text_encoder": ""}

    def check(self) -> None:
        if importlib.util.find_spec("groundingdino") is None:
            raise AdapterUnavailable("groundingdino-py is not installed", INSTALL_HINT)
        weights = self.required_path("weights", "weights")
        if not weights.is_file():
            raise AdapterUnavailable(f"{weights} is not a checkpoint file", self.how_to_enable())
        self.required_path("text_encoder", "text encoder directory", "/path/to/bert-base-uncased")
        if self.options["config"]:
            self.required_path("config", "model config", f"/path/to/{PACKAGED_CONFIG}")

    def config_path(self) -> Path:
        return Path(self.options["config"]).expanduser() if self.options["config"] else packaged_config()

    def weight_paths(self) -> list[Path]:
        return [Path(self.options["weights"]).expanduser(), self.config_path()]

    def build_grounder(self, device: str) -> OfficialGroundingDinoGrounder:
        opts = self.options
        return OfficialGroundingDinoGrounder(
            self.config_path(),
            Path(opts["weights"]).expanduser(),
            Path(opts["text_encoder"]).expanduser(),
            device,
            **self.grounder_settings(),
        )


register_grounder_family(OfficialGroundingDinoAdapter)
