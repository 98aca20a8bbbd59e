"""The dense change heads: labels from a difference, the vocabulary, which tokens get which label,
the cross-entropy against a hand computation, gradients, and the heads inside DiffTracker."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from difftracker.change_heads import (
    ABSENT,
    IGNORE,
    ChangeHeads,
    build_vocabulary,
    change_loss,
    difference_labels,
    encode_labels,
    token_owners,
)
from difftracker.config import DiffTrackerConfig, DiffTrackerConfigError
from difftracker.losses import GroundingTargets, grounding_loss
from difftracker.model import DiffTracker
from tests.difftracker.conftest import tiny_config

RED_STAR = {"shape": "star", "colour": "red", "texture": "flat", "size": "small"}
BLUE_STAR = {**RED_STAR, "colour": "blue"}


def test_labels_say_absent_on_the_side_without_an_object() -> None:
    added = difference_labels("add", None, RED_STAR)
    assert added["edit_type"] == "add"
    assert added["before_colour"] == ABSENT and added["after_colour"] == "red"
    removed = difference_labels("remove", RED_STAR, None)
    assert removed["before_shape"] == "star" and removed["after_shape"] == ABSENT
    recoloured = difference_labels("appearance", RED_STAR, BLUE_STAR)
    assert (recoloured["before_colour"], recoloured["after_colour"]) == ("red", "blue")
    assert difference_labels("add", "not a mapping", None) == {"edit_type": "add"}  # type: ignore[arg-type]


def test_vocabulary_is_sorted_and_drops_labels_with_one_class() -> None:
    labels = [difference_labels("add", None, RED_STAR), difference_labels("remove", BLUE_STAR, None)]
    vocabulary = dict(build_vocabulary(labels))
    assert vocabulary["edit_type"] == ("add", "remove")
    assert vocabulary["before_colour"] == (ABSENT, "blue")
    assert "after_texture" in vocabulary and "before_size" in vocabulary
    assert "before_texture" in vocabulary  # absent vs flat
    assert build_vocabulary([{"edit_type": "add"}, {"edit_type": "add"}]) == ()
    assert encode_labels({"edit_type": "remove", "before_colour": "green"}, build_vocabulary(labels))[:1] == [
        IGNORE
    ]  # after_colour is first and missing


def test_each_token_belongs_to_the_smallest_box_holding_its_centre() -> None:
    centres = torch.tensor([[0.15, 0.15], [0.25, 0.25], [0.8, 0.8], [0.5, 0.05]])
    boxes = torch.tensor([[0.2, 0.2, 0.4, 0.4], [0.15, 0.15, 0.1, 0.1], [0.75, 0.75, 0.3, 0.3]])  # cxcywh
    # (0.15, 0.15) lies in box 0 and in the smaller box 1; (0.25, 0.25) only in box 0.
    assert token_owners(centres, boxes).tolist() == [1, 0, 2, -1]
    assert token_owners(centres, torch.zeros(0, 4)).tolist() == [-1, -1, -1, -1]


def test_loss_is_the_cross_entropy_of_the_labelled_tokens_inside_boxes() -> None:
    torch.manual_seed(0)
    centres = torch.tensor([[0.1, 0.1], [0.3, 0.3], [0.8, 0.8]])
    names = ["colour", "edit_type"]
    logits = {"colour": torch.randn(1, 3, 4, requires_grad=True), "edit_type": torch.randn(1, 3, 2, requires_grad=True)}
    boxes = [torch.tensor([[0.2, 0.2, 0.4, 0.4], [0.8, 0.8, 0.2, 0.2]])]
    labels = [torch.tensor([[3, IGNORE], [1, 0]])]  # box 0: colour 3, edit type unknown; box 1: colour 1, type 0
    loss, parts = change_loss(logits, centres, boxes, labels, names)
    log_softmax = torch.nn.functional.log_softmax
    colour = (
        -(
            log_softmax(logits["colour"][0, 0], -1)[3]
            + log_softmax(logits["colour"][0, 1], -1)[3]
            + log_softmax(logits["colour"][0, 2], -1)[1]
        )
        / 3
    )
    edit_type = -log_softmax(logits["edit_type"][0, 2], -1)[0]
    assert torch.allclose(loss, (colour + edit_type) / 2, atol=1e-6)
    assert parts["change_colour"] == pytest.approx(float(colour.detach()), abs=1e-6)
    loss.backward()
    assert logits["colour"].grad is not None and bool(logits["colour"].grad.abs().sum() > 0)
    assert float(logits["edit_type"].grad[0, :2].abs().sum()) == 0.0, "unknown or outside labels must not train"


def test_config_round_trips_the_vocabulary_and_omits_it_when_unused(tiny_text_encoder: Path) -> None:
    vocabulary = {"edit_type": ["add", "remove"], "after_colour": [ABSENT, "red"]}
    config = DiffTrackerConfig.from_dict({"change_heads": vocabulary})
    assert config.change_heads == (("after_colour", (ABSENT, "red")), ("edit_type", ("add", "remove")))
    assert DiffTrackerConfig.from_dict(config.to_dict()) == config
    assert "change_heads" not in DiffTrackerConfig().to_dict()
    with pytest.raises(DiffTrackerConfigError, match="two or more distinct classes"):
        DiffTrackerConfig.from_dict({"change_heads": {"edit_type": ["add"]}})


def test_heads_train_with_difftracker_and_reach_its_tokens(tiny_text_encoder: Path) -> None:
    vocabulary = {"edit_type": ["add", "remove", "replace"], "after_colour": [ABSENT, "blue", "red"]}
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(tiny_text_encoder, change_heads=vocabulary)).train()
    assert isinstance(model.change_heads, ChangeHeads)
    a = torch.randint(0, 256, (2, 3, 64, 64), dtype=torch.uint8)
    b = a.clone()
    b[:, :, 10:30, 20:40] = 0
    text = model.make_text_encoder()(["the red thing that appeared", "what went away", "the blue one"])
    output = model(a, b, text, torch.tensor([0, 1, 1]))
    tokens = 8 * 8 + 4 * 4 + 2 * 2
    assert output.change_logits["edit_type"].shape == (2, tokens, 3)
    assert output.change_logits["after_colour"].shape == (2, tokens, 3)
    boxes = torch.tensor([[0.47, 0.31, 0.31, 0.31], [0.2, 0.7, 0.2, 0.25]])
    labels = torch.tensor([[2, 0], [1, 1]])  # columns in vocabulary order: after_colour, edit_type
    targets = GroundingTargets([boxes] * 3, [0, 1, 0], [boxes, boxes], [labels, labels])
    total, parts = grounding_loss(output, targets)
    assert parts["change"] > 0 and "change_acc_edit_type" in parts
    total.backward()
    assert model.change_heads.heads["edit_type"].weight.grad.abs().sum() > 0
    assert model.visual.project[0][0].weight.grad.abs().sum() > 0, "the heads must train the image tokens"
    with pytest.raises(ValueError, match="no per-pair change labels"):
        grounding_loss(model(a, b, text, torch.tensor([0, 1, 1])), GroundingTargets([boxes] * 3, [0, 1, 0]))
