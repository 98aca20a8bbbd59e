"""Training-only noise on the frozen text features (DiffTracker task option `text_noise`): where
it goes, what it depends on, and that validation never sees it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from difftracker.text_encoder import TextFeatures
from harness.training.config import TrainConfigError
from harness.training.difftracker_task import DiffTrackerTask, add_text_noise, token_feature_scale
from tests.difftracker.conftest import tiny_model_options


def _features() -> TextFeatures:
    tokens = torch.arange(2 * 5 * 3, dtype=torch.float32).view(2, 5, 3)
    mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    return TextFeatures(tokens, mask)


def test_noise_has_the_asked_scale_per_dimension_and_spares_padding() -> None:
    text = _features()
    scale = torch.tensor([0.0, 1.0, 10.0])
    noisy = add_text_noise(text, scale, (0, 1, 7))
    delta = noisy.tokens - text.tokens
    assert torch.equal(noisy.mask, text.mask)
    assert torch.equal(delta[1, 3:], torch.zeros(2, 3))  # padding untouched
    assert torch.equal(delta[..., 0], torch.zeros(2, 5))  # a dimension with scale 0 untouched
    assert delta[..., 2].abs().mean() > 3 * delta[..., 1].abs().mean()
    many = add_text_noise(TextFeatures(torch.zeros(1, 4000, 3), torch.ones(1, 4000, dtype=torch.bool)), scale, (3,))
    assert many.tokens[0, :, 1].std().item() == pytest.approx(1.0, rel=0.1)
    assert many.tokens[0, :, 2].std().item() == pytest.approx(10.0, rel=0.1)


def test_noise_is_a_function_of_seed_epoch_and_items() -> None:
    text, scale = _features(), torch.ones(3)
    first = add_text_noise(text, scale, (0, 1, 4, 9)).tokens
    assert torch.equal(first, add_text_noise(text, scale, (0, 1, 4, 9)).tokens)  # a resume draws the same
    for other in ((1, 1, 4, 9), (0, 2, 4, 9), (0, 1, 4, 8)):
        assert not torch.equal(first, add_text_noise(text, scale, other).tokens)


def test_token_feature_scale_ignores_padding() -> None:
    text = _features()
    expected = text.tokens[text.mask].std(dim=0)
    assert torch.equal(token_feature_scale([text]), expected)


def _task(tiny_synth: Path, tiny_text_encoder: Path, **options) -> DiffTrackerTask:
    opts = {"model": tiny_model_options(tiny_text_encoder), "loader_threads": 1, "max_val_pairs": 2, **options}
    return DiffTrackerTask(opts, tiny_synth, seed=0)


def test_train_batches_are_noisy_and_validation_text_is_not(tiny_synth: Path, tiny_text_encoder: Path) -> None:
    clean = _task(tiny_synth, tiny_text_encoder)
    noisy = _task(tiny_synth, tiny_text_encoder, text_noise=0.5)
    clean.prepare()
    noisy.prepare()
    a = clean.train_batch([0, 1], epoch=0, device=torch.device("cpu")).text
    b = noisy.train_batch([0, 1], epoch=0, device=torch.device("cpu")).text
    assert torch.equal(a.mask, b.mask)
    delta = (b.tokens - a.tokens)[a.mask]
    assert delta.abs().min() > 0
    assert delta.std(dim=0).mean().item() == pytest.approx(0.5 * noisy.text_scale.mean().item(), rel=0.35)
    assert torch.equal(b.tokens, noisy.train_batch([0, 1], epoch=0, device=torch.device("cpu")).text.tokens)
    assert not torch.equal(b.tokens, noisy.train_batch([0, 1], epoch=1, device=torch.device("cpu")).text.tokens)
    assert clean.text_cache.keys() == noisy.text_cache.keys()  # validation reads these, untouched
    assert all(torch.equal(clean.text_cache[q].tokens, noisy.text_cache[q].tokens) for q in clean.text_cache)


@pytest.mark.parametrize("value", [-0.1, float("nan")])
def test_a_bad_noise_level_is_refused(tiny_synth: Path, tiny_text_encoder: Path, value: float) -> None:
    with pytest.raises(TrainConfigError, match="text_noise"):
        _task(tiny_synth, tiny_text_encoder, text_noise=value)
