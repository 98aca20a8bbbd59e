"""Training recipe of DiffTracker and its controls (one task class per registered variant).

Items are pairs: a batch holds a few pairs and all of their queries, so the backbone runs once per
pair while every query trains the neck and decoder. With a frozen text encoder (the default) each
query's token features are computed once in `prepare`. Validation grounds every val query exactly
as the adapter does (`difftracker.inference`) and scores Acc@0.5 of the top box, overall and per
edit type; the first `reference_queries` are also scored alone, a quick reproduction check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn
from torchvision.ops import box_iou

from difftracker.change_heads import build_vocabulary, encode_labels
from difftracker.config import VARIANTS, DiffTrackerConfig, DiffTrackerConfigError, variant_config
from difftracker.feature_cache import CACHE_MODES, FrozenFeatureCache, cache_pays
from difftracker.inference import ground_queries
from difftracker.losses import GroundingTargets, LossWeights, grounding_loss
from difftracker.matcher import MatchCosts
from difftracker.model import DiffTracker
from difftracker.text_encoder import TextEncoder, TextFeatures
from harness.training.config import TrainConfigError
from harness.training.grounding_pairs import GroundingPair, GroundingQuery, grounding_pairs, load_pair_images
from harness.training.task import Shard, TrainingTask
from harness.training.task_names import task_class_name

IOU_THRESHOLD = 0.5


@dataclass(frozen=True)
class DiffTrackerOptions:
    model: dict[str, Any] = field(default_factory=dict)
    """DiffTrackerConfig fields shared by every variant; the variant sets fusion / dem on top."""
    loss: dict[str, Any] = field(default_factory=dict)
    """LossWeights fields; `matching` holds MatchCosts fields."""
    max_train_pairs: int | None = None
    max_val_pairs: int | None = None
    reference_queries: int = 48
    loader_threads: int = 2
    change_heads: bool = False
    """Dense change heads on the image tokens (difftracker/change_heads.py): their labels and classes
    are read from the training pairs and stored in the model config."""
    feature_cache: str | bool = "auto"
    """Keep the frozen backbone stages' outputs per training pair (difftracker/feature_cache.py):
    auto (when every stage the neck reads is frozen), on (whenever a stage is frozen), off."""
    text_cache: str | None = None
    """A .safetensors file of the frozen text encoder's features per query: read when present,
    written (with any query it lacks) otherwise, so repeated runs skip the encoder."""
    text_noise: float = 0.0
    """Training-only augmentation of the frozen text encoder's token features: Gaussian noise with
    this standard deviation, in units of each feature dimension's standard deviation over the
    training queries' tokens, drawn anew for every training query at every step (0: none). A word
    the encoder places near, but not on, a trained synonym should then read like that synonym.
    Validation and inference never add noise."""
    paraphrases: bool = False
    """Train each query on one wording a step, drawn from the query and the paraphrases the train
    split records for it (DiffGround-Synth `--train-paraphrases`): a function of seed, epoch and
    sample id, so a resumed run draws what the uninterrupted run would have. Validation reads the
    queries as written."""


@dataclass
class DiffTrackerBatch:
    images_a: torch.Tensor
    images_b: torch.Tensor
    text: TextFeatures | list[str]
    pair_index: torch.Tensor
    targets: GroundingTargets
    pairs: list[int] = field(default_factory=list)
    """The batch's training pair numbers (the feature cache's keys)."""


class DiffTrackerTask(TrainingTask):
    name: ClassVar[str] = "difftracker"
    score_name = "acc50"

    def __init__(self, options: dict[str, Any], dataset, seed: int) -> None:
        super().__init__(options, dataset, seed)
        try:
            self.opts = DiffTrackerOptions(**options)
            self.config: DiffTrackerConfig = variant_config(self.name, self.opts.model)
            loss = dict(self.opts.loss)
            matching = MatchCosts(**loss.pop("matching", {}))
            self.loss_weights = LossWeights(**loss, matching=matching)
            mode = {True: "on", False: "off"}.get(self.opts.feature_cache, self.opts.feature_cache)  # YAML on/off
            if mode not in CACHE_MODES:
                raise DiffTrackerConfigError(f"feature_cache must be one of {CACHE_MODES}, got {mode!r}")
            self.feature_cache_mode = mode
            if not self.opts.text_noise >= 0:
                raise DiffTrackerConfigError(f"text_noise must be >= 0, got {self.opts.text_noise!r}")
            if self.opts.text_noise and self.config.train_text_encoder:
                raise DiffTrackerConfigError("text_noise perturbs frozen text features; train_text_encoder is on")
        except (TypeError, DiffTrackerConfigError) as exc:
            raise TrainConfigError(f"{self.name} task_options: {exc}") from exc
        self.feature_cache: FrozenFeatureCache | None = None

    def prepare(self) -> None:
        self.train_pairs = grounding_pairs(self.dataset, "train")[: self.opts.max_train_pairs]
        self.val_pairs = grounding_pairs(self.dataset, "val")[: self.opts.max_val_pairs]
        if self.opts.paraphrases and not any(q.paraphrases for pair in self.train_pairs for q in pair.queries):
            raise TrainConfigError(
                f"{self.name}: task_options.paraphrases needs train queries with recorded paraphrases; the train "
                f"split of {self.dataset} has none (generate it with `harness data synth --train-paraphrases K`)"
            )
        if self.opts.change_heads:
            vocabulary = build_vocabulary(labels for pair in self.train_pairs for labels in pair.labels)
            if not vocabulary:
                raise TrainConfigError(
                    f"{self.name}: change_heads needs differences labelled with an edit type or attributes "
                    f"(target_before / target_after); the train split of {self.dataset} has none"
                )
            self.config = replace(self.config, change_heads=vocabulary)
        size = self.config.image_size
        self.train_images = load_pair_images(self.dataset, self.train_pairs, size, self.opts.loader_threads)
        self._val_images: dict[int, np.ndarray] = {}
        self.text_cache: dict[str, TextFeatures] = {}
        if not self.config.train_text_encoder:
            queries = {q.query for pairs in (self.train_pairs, self.val_pairs) for pair in pairs for q in pair.queries}
            if self.opts.paraphrases:
                queries |= {t for pair in self.train_pairs for q in pair.queries for t in q.paraphrases}
            self.text_cache = self._encode_queries(sorted(queries))
            if self.opts.text_noise:  # the scale reads every training token: only when noise is asked for
                train_queries = {q.query for pair in self.train_pairs for q in pair.queries}
                self.text_scale = token_feature_scale([self.text_cache[q] for q in sorted(train_queries)])

    def _encode_queries(self, queries: list[str]) -> dict[str, TextFeatures]:
        identity = {"text_encoder": str(self.config.text_encoder), "max_text_tokens": str(self.config.max_text_tokens)}
        path = Path(self.opts.text_cache) if self.opts.text_cache else None
        cached = read_text_cache(path, identity) if path and path.is_file() else {}
        missing = [q for q in queries if q not in cached]
        if missing:
            encoder = TextEncoder(self.config.text_encoder, False, self.config.max_text_tokens)
            encoder.to("cuda" if torch.cuda.is_available() else "cpu")
            with torch.no_grad():
                for query in missing:
                    cached[query] = encoder([query]).to("cpu")
            if path:
                write_text_cache(path, cached, identity)
        return {q: cached[q] for q in queries}

    def build_model(self) -> nn.Module:
        return DiffTracker(self.config)

    def model_spec(self) -> dict[str, Any]:
        return {"variant": self.name, "config": self.config.to_dict()}

    def checkpoint_state(self, model: nn.Module) -> dict[str, torch.Tensor]:
        return model.trained_state_dict()

    def load_checkpoint_state(self, model: nn.Module, state: dict[str, torch.Tensor]) -> None:
        model.load_trained_state_dict(state)

    def num_train_items(self) -> int:
        return len(self.train_pairs)

    def _text(self, queries: list[str]) -> TextFeatures | list[str]:
        if self.config.train_text_encoder:
            return queries
        return TextFeatures.concat([self.text_cache[q] for q in queries])

    def train_batch(self, indices: Sequence[int], epoch: int, device: torch.device) -> DiffTrackerBatch:
        indices = [int(i) for i in indices]
        images = torch.from_numpy(self.train_images[indices]).to(device)
        queries, pair_index, boxes, referred, boxes_per_pair, labels_per_pair = [], [], [], [], [], []
        for position, index in enumerate(indices):
            pair = self.train_pairs[index]
            pair_boxes = torch.tensor(pair.boxes, dtype=torch.float32)
            cxcywh = torch.stack(
                (
                    (pair_boxes[:, 0] + pair_boxes[:, 2]) / 2,
                    (pair_boxes[:, 1] + pair_boxes[:, 3]) / 2,
                    pair_boxes[:, 2] - pair_boxes[:, 0],
                    pair_boxes[:, 3] - pair_boxes[:, 1],
                ),
                dim=-1,
            ).to(device)
            boxes_per_pair.append(cxcywh)
            if self.config.change_heads:
                codes = [encode_labels(labels, self.config.change_heads) for labels in pair.labels]
                labels_per_pair.append(torch.tensor(codes, dtype=torch.long, device=device))
            for query in pair.queries:
                queries.append(self._wording(query, epoch))
                pair_index.append(position)
                boxes.append(cxcywh)
                referred.append(query.referred)
        text = self._text(queries)
        if isinstance(text, TextFeatures):
            if self.opts.text_noise:
                text = add_text_noise(text, self.text_scale * self.opts.text_noise, (self.seed, epoch, *indices))
            text = text.to(device)
        targets = GroundingTargets(
            boxes, referred, boxes_per_pair, labels_per_pair if self.config.change_heads else None
        )
        return DiffTrackerBatch(
            images[:, 0], images[:, 1], text, torch.tensor(pair_index, device=device), targets, indices
        )

    def _wording(self, query: GroundingQuery, epoch: int) -> str:
        """The text a training query is read as this epoch: itself, or one of its paraphrases."""
        if not self.opts.paraphrases or not query.paraphrases:
            return query.query
        wordings = (query.query, *query.paraphrases)
        return wordings[_keyed_index((self.seed, epoch, query.sample_id), len(wordings))]

    def loss(self, model: nn.Module, batch: DiffTrackerBatch) -> torch.Tensor:
        text = batch.text
        if isinstance(text, list):
            encoder = model.module.text_encoder if hasattr(model, "module") else model.text_encoder
            text = encoder(text)
        output = model(batch.images_a, batch.images_b, text, batch.pair_index, frozen=self._frozen(model, batch))
        total, self.last_loss_parts = grounding_loss(output, batch.targets, self.loss_weights)
        if self.feature_cache is not None:  # logged beside the loss parts: how much the cache holds
            self.last_loss_parts["feature_cache_megabytes"] = self.feature_cache.nbytes / 2**20
        return total

    def _frozen(self, model: nn.Module, batch: DiffTrackerBatch) -> dict[int, torch.Tensor] | None:
        """The batch's cached frozen features, or None to compute them in the forward."""
        inner = model.module if hasattr(model, "module") else model
        visual = inner.visual
        if self.feature_cache_mode == "off" or visual.frozen_stages == 0:
            return None
        if self.feature_cache_mode == "auto" and not cache_pays(visual.frozen_stages, visual.levels):
            return None
        if self.feature_cache is None:
            self.feature_cache = FrozenFeatureCache(visual.rows_per_pair)
        return self.feature_cache.features(inner, batch.pairs, batch.images_a, batch.images_b)

    def _val_pair_images(self, index: int) -> np.ndarray:
        if index not in self._val_images:
            pair = self.val_pairs[index]
            self._val_images[index] = load_pair_images(self.dataset, [pair], self.config.image_size, 1)[0]
        return self._val_images[index]

    def validation_counts(self, model: nn.Module, shard: Shard, device: torch.device) -> dict[str, float]:
        counts: dict[str, float] = {"hits": 0.0, "queries": 0.0, "iou_sum": 0.0, "ref_hits": 0.0, "ref_queries": 0.0}
        query_number = _query_numbers(self.val_pairs)
        for index in shard(list(range(len(self.val_pairs)))):
            pair = self.val_pairs[index]
            texts = [self.text_cache.get(q.query, q.query) for q in pair.queries]
            results = ground_queries(model, self._val_pair_images(index), texts, device)
            for query, result, number in zip(pair.queries, results, query_number[index], strict=True):
                target = torch.tensor([pair.boxes[query.referred]], dtype=torch.float32)
                iou = float(box_iou(result.boxes[:1], target)[0, 0]) if len(result.boxes) else 0.0
                hit = float(iou >= IOU_THRESHOLD)
                counts["hits"] += hit
                counts["queries"] += 1
                counts["iou_sum"] += iou
                counts[f"hits/{query.edit_type}"] = counts.get(f"hits/{query.edit_type}", 0.0) + hit
                counts[f"queries/{query.edit_type}"] = counts.get(f"queries/{query.edit_type}", 0.0) + 1
                if number < self.opts.reference_queries:
                    counts["ref_hits"] += hit
                    counts["ref_queries"] += 1
                    counts["ref_iou_sum"] = counts.get("ref_iou_sum", 0.0) + iou
        return counts

    def validation_scores(self, counts: dict[str, float]) -> dict[str, float]:
        queries = max(counts["queries"], 1.0)
        scores = {
            "acc50": counts["hits"] / queries,
            "miou": counts["iou_sum"] / queries,
            "queries": counts["queries"],
            "reference_acc50": counts["ref_hits"] / max(counts["ref_queries"], 1.0),
            "reference_miou": counts.get("ref_iou_sum", 0.0) / max(counts["ref_queries"], 1.0),
        }
        for key in sorted(counts):
            if key.startswith("hits/"):
                edit_type = key.split("/", 1)[1]
                scores[f"acc50/{edit_type}"] = counts[key] / counts[f"queries/{edit_type}"]
        return scores

    def provenance_extras(self) -> dict[str, Any]:
        reference = [q.sample_id for pair in self.val_pairs for q in pair.queries][: self.opts.reference_queries]
        return {"val_pairs": len(self.val_pairs), "reference_queries": reference}


def token_feature_scale(features: list[TextFeatures]) -> torch.Tensor:
    """(D,) standard deviation of each feature dimension over every real token of `features`."""
    tokens = torch.cat([f.tokens[f.mask] for f in features])
    return tokens.std(dim=0)


def _key_seed(key: tuple) -> int:
    """A 64-bit seed that is a function of `key` alone (the same in a resumed run)."""
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:8], "little")


def _keyed_index(key: tuple, n: int) -> int:
    """A uniform draw from range(n) that is a function of `key` alone."""
    return _key_seed(key) % n


def add_text_noise(text: TextFeatures, scale: torch.Tensor, key: tuple[int, ...]) -> TextFeatures:
    """`text` plus Gaussian noise of per-dimension standard deviation `scale` on its real tokens.

    The noise is a function of `key` (seed, epoch, batch items), so a resumed run draws what the
    uninterrupted run would have drawn."""
    generator = torch.Generator().manual_seed(_key_seed(key))
    noise = torch.randn(text.tokens.shape, generator=generator, dtype=text.tokens.dtype) * scale.to(text.tokens.dtype)
    return TextFeatures(text.tokens + noise * text.mask[..., None], text.mask)


def read_text_cache(path: Path, identity: dict[str, str]) -> dict[str, TextFeatures]:
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata() or {}
        if any(metadata.get(k) != v for k, v in identity.items()):
            raise TrainConfigError(f"text cache {path} was made with {metadata}, this config needs {identity}")
        features = {}
        for key in handle.keys():
            tokens = handle.get_tensor(key).unsqueeze(0)
            features[key] = TextFeatures(tokens, torch.ones(tokens.shape[:2], dtype=torch.bool))
    return features


def write_text_cache(path: Path, features: dict[str, TextFeatures], identity: dict[str, str]) -> None:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({q: f.tokens[0].contiguous() for q, f in features.items()}, str(path), metadata=identity)


def _query_numbers(pairs: list[GroundingPair]) -> list[list[int]]:
    """Each query's position in the split's query order (the reference subset is the first N)."""
    numbers, n = [], 0
    for pair in pairs:
        numbers.append(list(range(n, n + len(pair.queries))))
        n += len(pair.queries)
    return numbers


def _variant_task(variant: str) -> type[DiffTrackerTask]:
    name = task_class_name(variant)
    return type(name, (DiffTrackerTask,), {"name": variant, "__module__": __name__, "__qualname__": name})


for _variant in VARIANTS:
    globals()[task_class_name(_variant)] = _variant_task(_variant)
