"""The two v2 options of the content stream: word order (text self-attention with word positions)
and position in the attention values. Each must change what the model computes in the way it
claims, train end to end, and leave the first design's config and parameters untouched when off."""

from __future__ import annotations

from pathlib import Path

import torch

from difftracker.config import DiffTrackerConfig
from difftracker.losses import GroundingTargets, grounding_loss
from difftracker.model import DiffTracker
from difftracker.text_encoder import TextFeatures
from tests.difftracker.conftest import tiny_config


def _pair():
    generator = torch.Generator().manual_seed(1)
    a = torch.randint(0, 256, (1, 3, 64, 64), dtype=torch.uint8, generator=generator)
    b = a.clone()
    b[:, :, 10:30, 20:40] = 255 - b[:, :, 10:30, 20:40]
    return a, b


def _nudge(model: DiffTracker) -> None:
    """Zero-initialised heads hide differences downstream: give them values, as training would."""
    with torch.no_grad():
        for mlp in [model.decoder.proposal_box, *model.decoder.box_delta]:
            mlp.layers[-1].weight.normal_(0, 0.1)


def _reversed_words(text: TextFeatures) -> TextFeatures:
    return TextFeatures(text.tokens.flip(1), text.mask.flip(1))


def test_word_order_reaches_the_answer_only_with_text_layers(tiny_text_encoder: Path) -> None:
    """The same word vectors in reverse order: without text layers the neck (attention over a set
    of words) answers the same up to rounding; with them, it answers differently."""
    a, b = _pair()
    for text_layers, same in ((0, True), (1, False)):
        torch.manual_seed(0)
        model = DiffTracker(tiny_config(tiny_text_encoder, text_layers=text_layers)).eval()
        _nudge(model)
        text = model.make_text_encoder()(["the red disc that turned blue"])
        with torch.no_grad():
            forward = model(a, b, text, torch.tensor([0])).referring_logits
            backward = model(a, b, _reversed_words(text), torch.tensor([0])).referring_logits
        assert torch.allclose(forward, backward, atol=1e-5) == same, f"text_layers={text_layers}"


def test_position_in_values_changes_the_content_stream(tiny_text_encoder: Path) -> None:
    a, b = _pair()
    outputs = []
    for flag in (False, True):
        torch.manual_seed(0)
        model = DiffTracker(tiny_config(tiny_text_encoder, position_in_values=flag)).eval()
        _nudge(model)
        text = model.make_text_encoder()(["the change on the left"])
        with torch.no_grad():
            outputs.append(model(a, b, text, torch.tensor([0])))
    # Same weights (same seed, no new parameters), other values: other boxes and scores.
    assert not torch.allclose(outputs[0].boxes, outputs[1].boxes)
    assert not torch.allclose(outputs[0].referring_logits, outputs[1].referring_logits)


def test_options_train_and_are_absent_from_the_first_designs_config(tiny_text_encoder: Path) -> None:
    plain = DiffTracker(tiny_config(tiny_text_encoder))
    both = DiffTracker(tiny_config(tiny_text_encoder, text_layers=1, position_in_values=True)).train()
    assert {k for k in both.state_dict() if k not in plain.state_dict()} == {
        k for k in both.state_dict() if k.startswith("neck.word_order.")
    }
    assert "text_layers" not in DiffTrackerConfig().to_dict()
    assert "position_in_values" not in DiffTrackerConfig().to_dict()
    assert DiffTrackerConfig.from_dict(both.config.to_dict()) == both.config
    a, b = _pair()
    text = both.make_text_encoder()(["the red disc that turned blue", "what appeared"])
    output = both(torch.cat((a, a)), torch.cat((b, b)), text, torch.tensor([0, 1]))
    boxes = torch.tensor([[0.47, 0.31, 0.31, 0.31], [0.2, 0.7, 0.2, 0.25]])
    total, _ = grounding_loss(output, GroundingTargets([boxes, boxes], [0, 1]))
    total.backward()
    assert both.neck.word_order.position.grad.abs().sum() > 0
    assert all(p.grad is not None for p in both.neck.word_order.layers.parameters())


def test_gated_position_starts_as_the_first_design_and_learns_its_gates(tiny_text_encoder: Path) -> None:
    """`position_in_values: gated` adds one zero-initialised gate per layer (and per referring
    score): with the first design's weights it answers bit for bit as the first design, and the
    loss reaches every gate, so training can open them."""
    a, b = _pair()
    torch.manual_seed(0)
    plain = DiffTracker(tiny_config(tiny_text_encoder)).eval()
    _nudge(plain)
    gated = DiffTracker(tiny_config(tiny_text_encoder, position_in_values="gated")).eval()
    missing, unexpected = gated.load_state_dict(plain.state_dict(), strict=False)
    assert not unexpected and missing and all(k.endswith(".gate") for k in missing)
    layers = len(plain.neck.layers) + 2 * len(plain.decoder.layers)
    assert len(missing) == layers
    text = plain.make_text_encoder()(["the change on the left", "what appeared"])
    with torch.no_grad():
        first = plain(torch.cat((a, a)), torch.cat((b, b)), text, torch.tensor([0, 1]))
        second = gated(torch.cat((a, a)), torch.cat((b, b)), text, torch.tensor([0, 1]))
    assert torch.equal(first.boxes, second.boxes)
    assert torch.equal(first.referring_logits, second.referring_logits)

    gated.train()
    output = gated(torch.cat((a, a)), torch.cat((b, b)), text, torch.tensor([0, 1]))
    boxes = torch.tensor([[0.47, 0.31, 0.31, 0.31], [0.2, 0.7, 0.2, 0.25]])
    total, _ = grounding_loss(output, GroundingTargets([boxes, boxes], [0, 1]))
    total.backward()
    gates = {k: p for k, p in gated.named_parameters() if k.endswith(".gate")}
    assert len(gates) == layers and all(p.grad is not None and p.grad.abs() > 0 for p in gates.values())
    assert DiffTrackerConfig.from_dict(gated.config.to_dict()).position_in_values == "gated"


def test_position_in_values_rejects_unknown_modes(tiny_text_encoder: Path) -> None:
    import pytest

    from difftracker.config import DiffTrackerConfigError

    with pytest.raises(DiffTrackerConfigError, match="position_in_values"):
        DiffTrackerConfig(position_in_values="always")
