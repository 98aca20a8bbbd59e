"""The referring score (which candidate the query means) and its listwise loss."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from difftracker.config import DiffTrackerConfigError
from difftracker.decoder import ReferringScore
from difftracker.losses import GroundingTargets, LossWeights, _referring_rank_loss, grounding_loss
from difftracker.model import DiffTracker
from tests.difftracker.conftest import tiny_config


def _score_pair(seed: int = 0) -> tuple[ReferringScore, ReferringScore]:
    torch.manual_seed(seed)
    attention = ReferringScore(16, "attention")
    mean = ReferringScore(16, "mean")
    mean.load_state_dict({k: v for k, v in attention.state_dict().items() if not k.startswith("attend.")})
    return attention, mean


def test_attention_pooling_ignores_padding_and_reduces_to_the_mean_for_one_word() -> None:
    attention, mean = _score_pair()
    queries, words = torch.randn(2, 5, 16), torch.randn(2, 4, 16)
    one_word = torch.tensor([[True, False, False, False], [True, False, False, False]])
    with torch.no_grad():
        scores = attention(queries, words, one_word)
        # with a single real word both poolings read exactly that word
        torch.testing.assert_close(scores, mean(queries, words, one_word))
        padded = words.clone()
        padded[:, 1:] = torch.randn(2, 3, 16) * 100
        torch.testing.assert_close(attention(queries, padded, one_word), scores)


def test_attention_pooling_follows_its_equation() -> None:
    attention, mean = _score_pair(1)
    queries, words = torch.randn(1, 3, 16), torch.randn(1, 4, 16)
    mask = torch.tensor([[True, True, True, False]])
    with torch.no_grad():
        got = attention(queries, words, mask)
        candidates = attention.query(queries[0])
        weights = (candidates @ attention.attend(words[0, :3]).T / math.sqrt(16)).softmax(-1)
        pooled = weights @ attention.text(words[0, :3])
        wanted = (candidates * pooled).sum(-1) / math.sqrt(16) + attention.bias
        torch.testing.assert_close(got[0], wanted)
        assert not torch.allclose(got, mean(queries, words, mask))  # each candidate reads other words


def test_unknown_pooling_is_refused(tiny_text_encoder: Path) -> None:
    with pytest.raises(DiffTrackerConfigError, match="referring_pooling"):
        tiny_config(tiny_text_encoder, referring_pooling="max")


def test_rank_loss_is_the_cross_entropy_of_the_positives() -> None:
    boxes = torch.tensor([[[0.3, 0.3, 0.2, 0.2], [0.31, 0.3, 0.2, 0.2], [0.7, 0.7, 0.2, 0.2], [0.5, 0.1, 0.1, 0.1]]])
    logits = torch.tensor([[0.5, 2.0, 3.0, -1.0]], requires_grad=True)
    targets = GroundingTargets([torch.tensor([[0.3, 0.3, 0.2, 0.2], [0.7, 0.7, 0.2, 0.2]])], [0])
    matched = torch.tensor([[1.0, 0.0, 0.0, 0.0]])  # slot 0 matched; slot 1 is a duplicate on the same box
    loss = _referring_rank_loss(boxes, logits, matched, targets)
    probability = logits.detach().softmax(-1)
    torch.testing.assert_close(loss, -(probability[0, 0] + probability[0, 1]).log())
    loss.backward()
    assert logits.grad[0, 2] > 0 and logits.grad[0, 0] < 0 and logits.grad[0, 1] < 0  # the wrong box goes down


def test_rank_loss_trains_every_referring_parameter(tiny_text_encoder: Path) -> None:
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(tiny_text_encoder, referring_pooling="attention")).train()
    a = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8)
    b = a.clone()
    b[:, :, 10:30, 20:40] = 0
    text = model.make_text_encoder()(["the thing that went dark", "the leftmost change"])
    output = model(a, b, text, torch.tensor([0, 0]))
    targets = GroundingTargets([torch.tensor([[0.47, 0.31, 0.31, 0.31], [0.2, 0.7, 0.2, 0.25]])] * 2, [0, 1])
    loss, parts = grounding_loss(output, targets, LossWeights(referring_rank=1.0))
    assert parts["referring_rank"] > 0
    without, parts_without = grounding_loss(output, targets, LossWeights())
    assert "referring_rank" not in parts_without and float(loss.detach()) > float(without.detach())
    loss.backward()
    silent = [n for n, p in model.decoder.named_parameters() if "referring" in n and p.grad is None]
    assert silent == [] and model.decoder.referring_score[0].attend.weight.grad.abs().sum() > 0
