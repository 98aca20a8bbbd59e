"""`owlv2-*`: OWLv2 from transformers (`Owlv2ForObjectDetection`), from a local model directory or a
hub model id (`--allow-download`, see `adapters/weights_source.py`).

OWLv2 pads each image to a square at the bottom and right before resizing, so its normalised
boxes are fractions of that square's side, not of the image's width and height.
"""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image

from idg_adapters.base import AdapterUnavailable
from idg_adapters.grounder_adapter import GrounderAdapter, register_grounder_family
from idg_adapters.grounding_text import has_tokenizer
from idg_adapters.single_image_grounder import Candidates, candidates_from_normalized

PHRASE_SEPARATOR = " . "


def padded_square(size: tuple[int, int]) -> tuple[int, int]:
    """The (width, height) of the square OWLv2 pads an image of `size` into (top-left aligned)."""
    side = max(size)
    return side, side


class Owlv2Grounder:
    """An OWLv2 model with its processor; one image per call (each text phrase is one query)."""

    def __init__(self, weights_dir: Path, device: str, image_size: int = 0, limit: int = 100, threshold: float = 0.0):
        from transformers import Owlv2ForObjectDetection, Owlv2Processor

        self.device = device
        self.limit, self.threshold = limit, threshold
        self.processor = Owlv2Processor.from_pretrained(str(weights_dir))
        if image_size:
            self.processor.image_processor.size = {"height": image_size, "width": image_size}
        self.model = Owlv2ForObjectDetection.from_pretrained(str(weights_dir)).to(device).eval()
        self.max_tokens = int(self.model.config.text_config.max_position_embeddings)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.model.parameters())

    @torch.inference_mode()
    def ground(self, images: list[Image.Image], texts: list[str]) -> list[Candidates]:
        return [self._ground_one(image, text) for image, text in zip(images, texts, strict=True)]

    def _ground_one(self, image: Image.Image, text: str) -> Candidates:
        # A noun-phrase prompt ("red mug . table") becomes one OWLv2 query per phrase.
        queries = [q.strip() for q in text.split(PHRASE_SEPARATOR) if q.strip()] or [text]
        tokens = self.processor.tokenizer(
            queries, padding="max_length", truncation=True, max_length=self.max_tokens, return_tensors="pt"
        )
        pixels = self.processor.image_processor(images=image, return_tensors="pt")["pixel_values"]
        outputs = self.model(
            input_ids=tokens["input_ids"].to(self.device),
            attention_mask=tokens["attention_mask"].to(self.device),
            pixel_values=pixels.to(self.device),
        )
        scores = outputs.logits[0].sigmoid().max(dim=-1).values
        return candidates_from_normalized(
            outputs.pred_boxes[0], scores, padded_square(image.size), image.size, self.limit, self.threshold
        )


class Owlv2Adapter(GrounderAdapter):
    family = "owlv2"
    family_description = "OWLv2 open-vocabulary detector (transformers), local or hub weights"
    weights_example = "/path/to/owlv2-base-patch16-ensemble"
    hub_weights = True

    def check(self) -> None:
        super().check()
        located = self.located_weights()
        if located is None:
            return  # fetched from the hub at load, and checked then
        weights = located.path
        # OWLv2's CLIP tokenizer ships with the model; unlike BERT's, no package has it offline.
        if not has_tokenizer(weights) and not (weights / "vocab.json").is_file():
            raise AdapterUnavailable(
                f"{weights} has no tokenizer files (vocab.json + merges.txt or tokenizer.json)",
                "copy the whole model directory, including its tokenizer and preprocessor files, "
                f"and pass {self.how_to_enable()}",
            )

    def build_grounder(self, device: str) -> Owlv2Grounder:
        return Owlv2Grounder(
            self.weights_path(),
            device,
            **self.grounder_settings(),
        )


register_grounder_family(Owlv2Adapter)
