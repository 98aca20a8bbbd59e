"""Query features for inference, computed once per query text in a process.

DiffTracker and its controls encode each query with the same frozen text encoder (all-MiniLM-L6-v2
unless a config names another). A run asks for the same query many times: once per model of the
family and once per control (a-blind and swap keep the queries), and one query's encoding costs
about as much as decoding it. `QueryFeatures` keeps the encoder's output per query text, so each
text is encoded once however many models and controls ask for it; the features are those of a
one-query batch, exactly what `TextEncoder([query])` returns.

A model that trains its text encoder has its own weights: it gets a cache of its own, never the
shared one.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from difftracker.text_encoder import TextEncoder, TextFeatures, text_encoder_directory

DEFAULT_CAPACITY = 4096  # query texts; a one-query feature is (1, T <= 40, 384) floats, at most 60 KB


class QueryFeatures:
    """`features(query)`: the encoder's TextFeatures for one query, from a bounded LRU cache."""

    def __init__(self, encoder: TextEncoder, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.encoder = encoder
        self.capacity = capacity
        self._cached = lru_cache(maxsize=capacity)(self._encode)

    def _encode(self, query: str) -> TextFeatures:
        with torch.no_grad():
            return self.encoder([query])

    def __len__(self) -> int:
        return self._cached.cache_info().currsize

    @property
    def encoded(self) -> int:
        """How many texts the encoder has run on (the cache's misses)."""
        return self._cached.cache_info().misses

    def __call__(self, query: str) -> TextFeatures:
        return self._cached(query)


# (encoder directory, max tokens, device) -> the process's one cache for that frozen encoder
_SHARED: dict[tuple[str, int, str], QueryFeatures] = {}


def query_features_for(model: torch.nn.Module, device: torch.device | str) -> QueryFeatures:
    """The query-feature cache to use with `model` (a DiffTracker) on `device`: the process's
    shared one for its frozen text encoder, or, when the model trains its own, a cache of its own."""
    if model.text_encoder is not None:  # trained with the model: its weights are this model's alone
        return QueryFeatures(model.text_encoder.to(device).eval())
    config = model.config
    directory = text_encoder_directory(config.text_encoder).resolve()
    key = (str(directory), int(config.max_text_tokens), str(torch.device(device)))
    if key not in _SHARED:
        _SHARED[key] = QueryFeatures(model.make_text_encoder().to(device).eval())
    return _SHARED[key]


def clear_shared() -> None:
    """Forget the shared caches (and their encoders): tests, or a process done with DiffTracker."""
    _SHARED.clear()
