"""The Hungarian matcher against brute force over every assignment on small random cases."""

from __future__ import annotations

import itertools

import pytest
import torch

from difftracker.matcher import MatchCosts, hungarian_match, match_cost


def _random_boxes(generator: torch.Generator, n: int) -> torch.Tensor:
    centre = torch.rand(n, 2, generator=generator) * 0.6 + 0.2
    size = torch.rand(n, 2, generator=generator) * 0.3 + 0.05
    return torch.cat((centre, size), dim=1)


@pytest.mark.parametrize("seed", range(12))
def test_matcher_finds_the_cheapest_assignment(seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    queries, targets = 5, 1 + seed % 4
    boxes = _random_boxes(generator, queries).unsqueeze(0)
    difference = torch.randn(1, queries, generator=generator)
    referring = torch.randn(1, queries, generator=generator)
    target = _random_boxes(generator, targets)
    referred = seed % targets
    costs = MatchCosts()
    ((rows, cols),) = hungarian_match(boxes, difference, referring, [target], [referred], costs)
    cost = match_cost(boxes[0], difference[0], referring[0], target, referred, costs)
    found = float(cost[rows, cols].sum())
    best = min(
        float(sum(cost[q, t] for t, q in enumerate(choice)))
        for choice in itertools.permutations(range(queries), targets)
    )
    assert len(set(rows.tolist())) == targets == len(cols)
    assert found == pytest.approx(best, abs=1e-5)


def test_referring_cost_pulls_the_referred_box_to_the_confident_query() -> None:
    boxes = torch.tensor([[[0.5, 0.5, 0.2, 0.2], [0.5, 0.5, 0.2, 0.2]]])
    difference = torch.zeros(1, 2)
    referring = torch.tensor([[-6.0, 6.0]])
    target = torch.tensor([[0.5, 0.5, 0.2, 0.2]])
    ((rows, cols),) = hungarian_match(boxes, difference, referring, [target], [0], MatchCosts())
    assert rows.tolist() == [1] and cols.tolist() == [0]
