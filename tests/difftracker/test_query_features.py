"""The inference cache of query features: the same tensors as encoding the query alone, each text
encoded once per process for every model that shares the frozen encoder, bounded, and never
shared with a model that trains its own encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from difftracker.inference import encode_pair, ground_text
from difftracker.model import DiffTracker
from difftracker.query_features import QueryFeatures, clear_shared, query_features_for
from difftracker.text_encoder import TextEncoder
from tests.difftracker.conftest import tiny_config

QUERIES = ["the red disc that turned blue", "what appeared", "the red disc that turned blue", "a small green cube"]


@pytest.fixture(autouse=True)
def fresh_shared_caches():
    clear_shared()
    yield
    clear_shared()


def test_cached_features_equal_encoding_each_query_alone(tiny_text_encoder: Path) -> None:
    encoder = TextEncoder(str(tiny_text_encoder)).eval()
    cache = QueryFeatures(encoder)
    for query in QUERIES + QUERIES[::-1]:
        got = cache(query)
        with torch.no_grad():
            alone = encoder([query])
        assert torch.equal(got.tokens, alone.tokens) and torch.equal(got.mask, alone.mask), query
    assert cache.encoded == len(set(QUERIES)) and len(cache) == len(set(QUERIES))


def test_the_cache_is_bounded_and_forgets_the_least_recently_used(tiny_text_encoder: Path) -> None:
    cache = QueryFeatures(TextEncoder(str(tiny_text_encoder)).eval(), capacity=2)
    cache("a")
    cache("b")
    cache("a")  # "a" is now the most recent
    cache("c")  # evicts "b"
    assert len(cache) == 2 and cache.encoded == 3
    cache("a")
    assert cache.encoded == 3  # still cached
    cache("b")
    assert cache.encoded == 4  # forgotten, encoded again
    with pytest.raises(ValueError, match="capacity"):
        QueryFeatures(cache.encoder, capacity=0)


def test_models_with_the_same_frozen_encoder_share_one_cache(tiny_text_encoder: Path) -> None:
    torch.manual_seed(0)
    first = DiffTracker(tiny_config(tiny_text_encoder, "difftracker")).eval()
    second = DiffTracker(tiny_config(tiny_text_encoder, "late-fusion")).eval()
    shared = query_features_for(first, "cpu")
    assert query_features_for(second, "cpu") is shared
    shared("what appeared")
    query_features_for(second, "cpu")("what appeared")
    assert shared.encoded == 1
    other_length = DiffTracker(tiny_config(tiny_text_encoder, "difftracker", max_text_tokens=8)).eval()
    assert query_features_for(other_length, "cpu") is not shared  # truncation changes the features


def test_a_model_that_trains_its_text_encoder_gets_its_own_cache(tiny_text_encoder: Path) -> None:
    torch.manual_seed(0)
    frozen = DiffTracker(tiny_config(tiny_text_encoder)).eval()
    trained = DiffTracker(tiny_config(tiny_text_encoder, train_text_encoder=True)).eval()
    with torch.no_grad():  # its encoder's weights have moved away from the directory's
        for p in trained.text_encoder.parameters():
            p.add_(0.5)
    own = query_features_for(trained, "cpu")
    assert own is not query_features_for(frozen, "cpu") and own.encoder is trained.text_encoder
    with torch.no_grad():
        expected = trained.text_encoder(["what appeared"])
    assert torch.equal(own("what appeared").tokens, expected.tokens)
    assert not torch.equal(query_features_for(frozen, "cpu")("what appeared").tokens, expected.tokens)


def test_grounding_from_cached_features_is_bit_identical(tiny_text_encoder: Path) -> None:
    """Decoding must not write into the features it is given: a second use of the cached tensors
    grounds exactly like freshly encoded ones."""
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(tiny_text_encoder)).eval()
    pair = np.random.default_rng(0).integers(0, 256, (2, 3, 64, 64), dtype=np.uint8)
    visual = encode_pair(model, pair, "cpu")
    fresh = model.make_text_encoder().eval()
    cache = query_features_for(model, "cpu")
    for query in QUERIES * 2:
        with torch.no_grad():
            expected = ground_text(model, visual, fresh([query]))
        got = ground_text(model, visual, cache(query))
        assert torch.equal(got.boxes, expected.boxes) and torch.equal(got.scores, expected.scores), query
