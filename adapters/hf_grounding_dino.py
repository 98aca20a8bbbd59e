"""`gdino-*`: Grounding DINO from transformers (`GroundingDinoForObjectDetection`), from a local model
directory or a hub model id (`--allow-download`, see `adapters/weights_source.py`).

`HFGroundingDinoGrounder` also serves MM-Grounding-DINO (`adapters/mm_grounding_dino.py`): the two
share the processor, the caption convention and the output format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from idg_adapters.grounder_adapter import GrounderAdapter, register_grounder_family
from idg_adapters.grounding_text import bert_tokenizer, grounding_caption
from idg_adapters.single_image_grounder import Candidates, candidates_from_normalized

# The released checkpoints resize the short side to 800 and cap the long side at 1333.
LONGEST_PER_SHORTEST = 1333 / 800


def resize_rule(image_size: int) -> dict[str, int]:
    """Processor `size` for a short side of `image_size` px, keeping the released long-side ratio."""
    return {"shortest_edge": image_size, "longest_edge": round(image_size * LONGEST_PER_SHORTEST)}


class HFGroundingDinoGrounder:
    """A transformers Grounding DINO model, its image processor and a bert-base-uncased tokenizer.

    Runs one image at a time: Swin's windows see a padded image differently from an unpadded
    one, so batching images of different sizes would make outputs depend on the batch.
    """

    def __init__(
        self,
        model_class: Any,
        weights_dir: Path,
        device: str,
        image_size: int = 0,
        limit: int = 100,
        threshold: float = 0.0,
    ) -> None:
        from transformers import GroundingDinoImageProcessor

        self.device = device
        self.limit, self.threshold = limit, threshold
        if (weights_dir / "preprocessor_config.json").is_file():
            self.image_processor = GroundingDinoImageProcessor.from_pretrained(str(weights_dir))
        else:
            self.image_processor = GroundingDinoImageProcessor()
        if image_size:
            self.image_processor.size = resize_rule(image_size)
        self.tokenizer = bert_tokenizer(weights_dir)
        self.model = model_class.from_pretrained(str(weights_dir)).to(device).eval()
        self.max_text_len = int(self.model.config.max_text_len)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @torch.inference_mode()
    def ground(self, images: list[Image.Image], texts: list[str]) -> list[Candidates]:
        return [self._ground_one(image, text) for image, text in zip(images, texts, strict=True)]

    def _ground_one(self, image: Image.Image, text: str) -> Candidates:
        tokens = self.tokenizer(
            grounding_caption(text), return_tensors="pt", truncation=True, max_length=self.max_text_len
        )
        pixels = self.image_processor(images=image, return_tensors="pt")
        outputs = self.model(
            pixel_values=pixels["pixel_values"].to(self.device),
            pixel_mask=pixels["pixel_mask"].to(self.device),
            input_ids=tokens["input_ids"].to(self.device),
            attention_mask=tokens["attention_mask"].to(self.device),
            token_type_ids=tokens["token_type_ids"].to(self.device),
        )
        # As the processor's post_process_grounded_object_detection: a box's score is its best
        # token's probability (positions outside the caption are -inf, so probability 0).
        scores = outputs.logits[0].sigmoid().max(dim=-1).values
        # One unpadded image per call, so the normalised boxes are relative to the image itself.
        return candidates_from_normalized(
            outputs.pred_boxes[0], scores, image.size, image.size, self.limit, self.threshold
        )


class HFGroundingDinoAdapter(GrounderAdapter):
    family = "gdino"
    family_description = "Grounding DINO (transformers), local or hub weights"
    weights_example = "/path/to/grounding-dino-tiny"
    hub_weights = True

    def model_class(self) -> Any:
        from transformers import GroundingDinoForObjectDetection

        return GroundingDinoForObjectDetection

    def build_grounder(self, device: str) -> HFGroundingDinoGrounder:
        return HFGroundingDinoGrounder(
            self.model_class(),
            self.weights_path(),
            device,
            **self.grounder_settings(),
        )


register_grounder_family(HFGroundingDinoAdapter)
