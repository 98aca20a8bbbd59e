"""The frozen-feature cache: which stages each variant may cache, a forward from cached features
equal to the bit to the forward from the images (the cache filled from other batches), and a
training run with the cache giving the same weights as one without it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from difftracker.config import VARIANTS
from difftracker.feature_cache import FrozenFeatureCache, cache_pays
from difftracker.model import DiffTracker
from tests.difftracker.conftest import tiny_config

FROZEN_STAGES = {  # efficientnet_lite0 has 5 stages; the neck reads stages 2, 3 and 4
    ("difftracker", "all"): 1,
    ("difftracker", "last"): 5,
    ("difftracker-nodem", "all"): 5,
    ("late-fusion", "all"): 5,
    ("early-fusion", "all"): 0,  # its widened first convolution trains
    ("concat-canvas", "all"): 5,
    ("mdetr-style", "all"): 5,
}


@pytest.mark.parametrize(("variant", "dem_stages"), sorted(FROZEN_STAGES))
def test_frozen_stages_per_variant(variant: str, dem_stages: str, tiny_text_encoder: Path) -> None:
    model = DiffTracker(tiny_config(tiny_text_encoder, variant, dem_stages=dem_stages))
    frozen = model.visual.frozen_stages
    assert frozen == FROZEN_STAGES[(variant, dem_stages)]
    assert cache_pays(frozen, model.visual.levels) == (frozen == 5)
    assert DiffTracker(tiny_config(tiny_text_encoder, variant, train_backbone=True)).visual.frozen_stages == 0


def _batch(pairs: int, seed: int):
    generator = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 256, (pairs, 3, 64, 64), dtype=torch.uint8, generator=generator)
    b = a.clone()
    b[:, :, 8:40, 16:48] = torch.randint(0, 256, (pairs, 3, 32, 32), dtype=torch.uint8, generator=generator)
    return a, b


def _model_and_text(variant: str, text_encoder: Path):
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(text_encoder, variant)).train()
    with torch.no_grad():  # non-zero DEM scales, so a DEM changes what follows it
        for name, parameter in model.named_parameters():
            if name.endswith(("alpha", "beta", "gamma")):
                parameter.normal_(0, 0.5)
    text = model.make_text_encoder()(["the red square that was removed", "what appeared", "the blue one"])
    return model, text


FIELDS = ("boxes", "referring_logits", "difference_logits", "token_boxes", "token_referring_logits")


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_cached_forward_equals_the_uncached_forward_to_the_bit(variant: str, tiny_text_encoder: Path) -> None:
    model, text = _model_and_text(variant, tiny_text_encoder)
    a, b = _batch(3, seed=1)
    cache = FrozenFeatureCache(model.visual.rows_per_pair)
    keys = [7, 4, 5]
    frozen = cache.features(model, keys, a, b) if model.visual.frozen_stages else None
    assert frozen is None or (len(cache) == 3 and cache.nbytes > 0)
    pair_index = torch.tensor([0, 1, 2])
    direct = model(a, b, text, pair_index)
    cached = model(a, b, text, pair_index, frozen=frozen)
    for field in FIELDS:
        assert torch.equal(getattr(direct, field), getattr(cached, field)), field
    # The cached features carry no graph: gradients still reach every trained parameter after them.
    cached.referring_logits.sum().backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if p.requires_grad and ".dems." in n)


@pytest.mark.parametrize("variant", ["difftracker-nodem", "concat-canvas"])
def test_features_cached_in_other_batches_agree_as_closely_as_the_backbone_does(
    variant: str, tiny_text_encoder: Path
) -> None:
    """A pair's cached features may come from a batch with other neighbours. The backbone's
    convolutions (oneDNN on CPU) may round a pair differently with other neighbours too, so the
    cache is held to the same closeness as the uncached forward of one pair in two batches."""
    model, text = _model_and_text(variant, tiny_text_encoder)
    a, b = _batch(4, seed=1)
    cache = FrozenFeatureCache(model.visual.rows_per_pair)
    cache.features(model, [0, 1], a[[0, 1]], b[[0, 1]])
    cache.features(model, [3], a[[3]], b[[3]])
    keys = [3, 2, 0]
    pair_index = torch.tensor([0, 1, 2])
    with torch.no_grad():
        direct = model(a[keys], b[keys], text, pair_index)
        cached = model(a[keys], b[keys], text, pair_index, frozen=cache.features(model, keys, a[keys], b[keys]))
        alone = model(a[[3]], b[[3]], text.select(0), torch.tensor([0]))
    for field in FIELDS:
        assert torch.allclose(getattr(direct, field), getattr(cached, field), atol=1e-4, rtol=0), field
    assert torch.allclose(alone.referring_logits[:, 0], direct.referring_logits[:, 0], atol=1e-4, rtol=0)
