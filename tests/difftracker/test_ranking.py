"""The rankings of DiffTracker's final boxes: the token mean inside a box by hand, the model's
ground() under each ranking, and the adapter option that picks one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from difftracker.decoder import DecoderOutput
from difftracker.model import DiffTracker
from difftracker.ranking import RANKINGS, ranking_scores, suppress_duplicates, token_means_in_boxes
from tests.difftracker.conftest import tiny_config


def test_token_mean_inside_each_box() -> None:
    centres = torch.tensor([[0.1, 0.1], [0.2, 0.2], [0.8, 0.8]])
    probs = torch.tensor([[0.2, 0.6, 0.9]])
    boxes = torch.tensor([[[0.0, 0.0, 0.3, 0.3], [0.7, 0.7, 0.9, 0.9], [0.4, 0.4, 0.5, 0.5]]])  # xyxy
    means = token_means_in_boxes(boxes, centres, probs)
    assert torch.allclose(means, torch.tensor([[0.4, 0.9, 0.0]]))  # the empty box scores 0


def _output() -> DecoderOutput:
    """One query, three final boxes: the decoder prefers box 0, the token head box 1."""
    boxes = torch.tensor([[0.15, 0.15, 0.3, 0.3], [0.8, 0.8, 0.2, 0.2], [0.5, 0.5, 0.1, 0.1]])  # cxcywh
    centres = torch.tensor([[0.1, 0.1], [0.2, 0.2], [0.8, 0.8]])
    return DecoderOutput(
        boxes=boxes[None, None],
        difference_logits=torch.zeros(1, 1, 3),
        referring_logits=torch.tensor([[[2.0, 0.0, -1.0]]]),
        token_boxes=torch.zeros(1, 3, 4),
        token_difference_logits=torch.zeros(1, 3),
        token_referring_logits=torch.logit(torch.tensor([[0.2, 0.3, 0.95]])),
        token_centres=centres,
    )


def test_ground_orders_boxes_by_the_chosen_ranking(tiny_text_encoder: Path) -> None:
    model = DiffTracker(tiny_config(tiny_text_encoder))
    assert model.config.ranking == "decoder"
    by_decoder = model.ground(_output())
    by_tokens = model.ground(_output(), "tokens")
    assert torch.allclose(by_decoder.boxes[0, 0], torch.tensor([0.0, 0.0, 0.3, 0.3]))
    assert torch.allclose(by_tokens.boxes[0, 0], torch.tensor([0.7, 0.7, 0.9, 0.9]))
    assert torch.allclose(by_tokens.scores[0], torch.tensor([0.95, 0.25, 0.0]))
    product = model.ground(_output(), "decoder*tokens")  # 0.881 * 0.25 = 0.22 vs 0.5 * 0.95 = 0.475
    assert torch.allclose(product.boxes[0, 0], torch.tensor([0.7, 0.7, 0.9, 0.9]))
    configured = DiffTracker(tiny_config(tiny_text_encoder, ranking="tokens"))
    assert torch.equal(configured.ground(_output()).boxes, by_tokens.boxes)
    with pytest.raises(ValueError, match="ranking must be one of"):
        ranking_scores("best", torch.zeros(1, 1, 4), torch.zeros(1, 1), torch.zeros(1, 2), torch.zeros(1, 1))
    assert set(RANKINGS) == {"decoder", "tokens", "decoder*tokens"}


def test_soft_suppression_by_hand() -> None:
    """Box 1 overlaps box 0 at IoU 0.81; box 2 overlaps box 0 at 0.25 and box 1 at 0.25 / 0.81 (hand
    computed): each score decays by exp(-IoU^2 / 0.5) per box taken above it."""
    boxes = torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.9, 0.9], [0.0, 0.0, 0.5, 0.5]])
    scores = torch.tensor([0.9, 0.85, 0.8])
    one = 0.85 * torch.exp(torch.tensor(-(0.81**2) / 0.5))  # 0.2292: below box 2 now
    two = 0.8 * torch.exp(torch.tensor(-(0.25**2) / 0.5))  # 0.7060, taken second
    one = one * torch.exp(torch.tensor(-((0.25 / 0.81) ** 2) / 0.5))  # then decays by box 2 (IoU 0.309)
    assert torch.allclose(suppress_duplicates(boxes, scores), torch.stack([torch.tensor(0.9), one, two]), atol=1e-6)


def _duplicates_output() -> DecoderOutput:
    """One query, four final boxes (cxcywh): three near-copies of the referred box around (0.3, 0.3)
    and one box on another difference at (0.75, 0.75). Without suppression both token rankings put
    all three copies first."""
    boxes = torch.tensor([[0.3, 0.3, 0.2, 0.2], [0.31, 0.3, 0.2, 0.2], [0.3, 0.31, 0.21, 0.2], [0.75, 0.75, 0.2, 0.2]])
    centres = torch.tensor([[0.3, 0.3], [0.75, 0.75]])
    return DecoderOutput(
        boxes=boxes[None, None],
        difference_logits=torch.zeros(1, 1, 4),
        referring_logits=torch.tensor([[[3.0, 2.0, 1.5, 0.0]]]),
        token_boxes=torch.zeros(1, 2, 4),
        token_difference_logits=torch.zeros(1, 2),
        token_referring_logits=torch.logit(torch.tensor([[0.9, 0.6]])),
        token_centres=centres,
    )


@pytest.mark.parametrize("ranking", ["tokens", "decoder*tokens"])
def test_token_rankings_put_near_duplicates_below_other_differences(tiny_text_encoder: Path, ranking: str) -> None:
    model = DiffTracker(tiny_config(tiny_text_encoder))
    output = _duplicates_output()
    scores = ranking_scores(ranking, cxcywh_boxes(output)[None], output.referring_logits[-1], output.token_centres,
                            output.token_referring_logits)  # fmt: skip
    assert scores[0, 3] < scores[0, :3].min()  # unsuppressed, the other difference comes last
    grounded = model.ground(output, ranking)
    first = cxcywh_boxes(output)[0]
    assert torch.allclose(grounded.boxes[0, 0], first)  # the best box and its score stay first
    assert torch.allclose(grounded.boxes[0, 1], torch.tensor([0.65, 0.65, 0.85, 0.85]))  # the other difference next
    assert (grounded.scores[0][:-1] >= grounded.scores[0][1:]).all()
    assert len(grounded.boxes[0]) == 4  # nothing is dropped


def test_the_decoder_ranking_is_not_suppressed(tiny_text_encoder: Path) -> None:
    model = DiffTracker(tiny_config(tiny_text_encoder))
    grounded = model.ground(_duplicates_output(), "decoder")
    assert torch.allclose(grounded.scores[0], torch.sigmoid(torch.tensor([3.0, 2.0, 1.5, 0.0])))
    assert torch.allclose(grounded.boxes[0], cxcywh_boxes(_duplicates_output()))


def cxcywh_boxes(output: DecoderOutput) -> torch.Tensor:
    from difftracker.box_ops import cxcywh_to_xyxy

    return cxcywh_to_xyxy(output.boxes[-1, 0]).clamp(0, 1)


def test_the_adapter_option_picks_a_ranking() -> None:
    from idg_adapters.registry import create_adapter

    with pytest.raises(ValueError, match="ranking must be checkpoint or one of"):
        create_adapter("difftracker", ranking="best")
    adapter = create_adapter("difftracker", ranking="tokens")
    adapter.load("cpu")
    assert adapter._ranking == "tokens"
