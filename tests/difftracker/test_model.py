"""DiffTracker and its controls: shapes and dtypes, gradients reaching every trainable parameter,
the DEM flags changing the graph, checkpoints holding exactly what training changed."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from difftracker.config import VARIANTS, DiffTrackerConfigError, variant_config
from difftracker.losses import GroundingTargets, grounding_loss
from difftracker.model import DiffTracker
from tests.difftracker.conftest import tiny_config

QUERIES = ["the red square that was removed", "what appeared on the left", "the disc that changed colour"]


def _inputs(pairs: int = 2, size: int = 64, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    a = torch.randint(0, 256, (pairs, 3, size, size), dtype=torch.uint8, generator=generator)
    b = a.clone()
    b[:, :, 10:30, 20:40] = 255 - b[:, :, 10:30, 20:40]
    return a, b


def _targets(n: int) -> GroundingTargets:
    boxes = torch.tensor([[0.47, 0.31, 0.31, 0.31], [0.2, 0.7, 0.2, 0.25]])
    return GroundingTargets([boxes] * n, [i % 2 for i in range(n)])


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_variant_gives_ranked_boxes_in_b_frame(variant: str, tiny_text_encoder: Path) -> None:
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(tiny_text_encoder, variant)).eval()
    a, b = _inputs()
    text = model.make_text_encoder()(QUERIES)
    with torch.no_grad():
        output = model(a, b, text, torch.tensor([0, 1, 1]))
    layers, queries, k = 2, 3, 8
    assert output.boxes.shape == (layers, queries, k, 4) and output.boxes.dtype == torch.float32
    assert output.referring_logits.shape == output.difference_logits.shape == (layers, queries, k)
    tokens = (8 * 8 + 4 * 4 + 2 * 2) * (2 if variant == "concat-canvas" else 1)  # the canvas is 2 images wide
    assert output.token_boxes.shape == (queries, tokens, 4) and output.token_centres.shape == (tokens, 2)
    result = model.ground(output)
    assert result.boxes.shape == (queries, k, 4) and result.scores.shape == (queries, k)
    assert bool((result.boxes >= 0).all() and (result.boxes <= 1).all())
    assert bool((result.scores[:, :-1] >= result.scores[:, 1:]).all())
    if variant != "concat-canvas":
        assert bool((output.boxes >= 0).all() and (output.boxes <= 1).all())


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_gradients_reach_every_trainable_parameter(variant: str, tiny_text_encoder: Path) -> None:
    torch.manual_seed(0)
    model = DiffTracker(tiny_config(tiny_text_encoder, variant)).train()
    with torch.no_grad():
        # Zero-initialised tensors (DEM scales, last layers of the box heads) block the gradient of
        # what sits before them on the very first step: nudge them as one optimiser step would.
        for p in model.parameters():
            if p.requires_grad and not p.any():
                p.add_(torch.randn_like(p) * 0.01)
    a, b = _inputs()
    text = model.make_text_encoder()(QUERIES)
    loss, _ = grounding_loss(model(a, b, text, torch.tensor([0, 1, 1])), _targets(3))
    loss.backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trainable
    silent = [
        n for n, p in trainable.items() if p.grad is None or not torch.isfinite(p.grad).all() or p.grad.abs().sum() == 0
    ]
    assert silent == []
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    if variant == "early-fusion":  # the widened 6-channel stem is new, so it trains
        assert "visual.backbone.stages.0.0.weight" in trainable
    assert all(n.startswith("visual.backbone.") for n in frozen)


def test_dem_flags_change_the_graph(tiny_text_encoder: Path) -> None:
    def dems(**overrides) -> dict[str, str]:
        model = DiffTracker(tiny_config(tiny_text_encoder, **overrides))
        return {name: m.mode for name, m in model.visual.dems.items()}

    assert dems() == {str(i): "full" for i in range(5)}
    assert dems(dem="diff-only") == {str(i): "diff-only" for i in range(5)}
    assert dems(dem_stages="last") == {"4": "full"}
    assert dems(dem="none") == {}
    assert DiffTracker(tiny_config(tiny_text_encoder, "difftracker-nodem")).visual.dems.keys() == set()
    # With trained (non-zero) scales the DEMs change what the neck sees.
    torch.manual_seed(0)
    full = DiffTracker(tiny_config(tiny_text_encoder)).eval()
    with torch.no_grad():
        for module in full.visual.dems.values():
            module.alpha.fill_(0.5)
            module.gamma.fill_(0.5)
    torch.manual_seed(0)
    none = DiffTracker(tiny_config(tiny_text_encoder, dem="none")).eval()
    a, b = _inputs()
    with torch.no_grad():
        assert not torch.allclose(full.encode_pairs(a, b).features, none.encode_pairs(a, b).features)


def test_siamese_neck_input_carries_b_and_the_signed_difference(tiny_text_encoder: Path) -> None:
    """[F_B' ; D ; |D|] with D = F_B' - F_A': A's own features are recoverable (F_B' - D), which
    queries about what A held need; without the difference map the neck sees B alone."""
    model = DiffTracker(tiny_config(tiny_text_encoder, "difftracker-nodem")).eval()
    seen: list[torch.Tensor] = []
    model.visual.project[0].register_forward_hook(lambda module, inputs, output: seen.append(inputs[0]))
    a, b = _inputs(pairs=1)
    with torch.no_grad():
        model.encode_pairs(a, b)
        stage = model.visual.levels[0]
        both = torch.cat((model.normalise(a), model.normalise(b))).contiguous(memory_format=torch.channels_last)
        features_a, features_b = model.visual.backbone(both)[stage].chunk(2)  # no DEM: the plain backbone
    f_b, difference, magnitude = seen[0].chunk(3, dim=1)
    torch.testing.assert_close(f_b, features_b)
    torch.testing.assert_close(f_b - difference, features_a)
    torch.testing.assert_close(magnitude, difference.abs())
    b_only = DiffTracker(tiny_config(tiny_text_encoder, "difftracker-nodem", difference_map=False))
    assert b_only.visual.project[0][0].in_channels == features_b.shape[1]


def test_bad_flags_are_refused(tiny_text_encoder: Path) -> None:
    for bad in ({"dem": "half"}, {"fusion": "mid"}, {"image_size": 100}, {"d_model": 30, "heads": 4}):
        with pytest.raises(DiffTrackerConfigError):
            tiny_config(tiny_text_encoder, **bad)
    with pytest.raises(DiffTrackerConfigError, match="unknown"):
        variant_config("difftracker", {"dme": "full"})


@pytest.mark.parametrize("variant", ["difftracker", "early-fusion"])
def test_checkpoint_round_trip_is_exact_and_skips_the_frozen_backbone(
    variant: str, tiny_text_encoder: Path, tmp_path: Path
) -> None:
    torch.manual_seed(1)
    model = DiffTracker(tiny_config(tiny_text_encoder, variant)).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(torch.randn_like(p) * 0.01)
    state = model.trained_state_dict()
    assert not any(k.startswith("visual.backbone.") for k in state if variant == "difftracker")
    assert set(state) == {n for n, p in model.named_parameters() if p.requires_grad} | {
        n for n, _ in model.named_buffers() if n in state
    }
    save_file(state, str(tmp_path / "m.safetensors"))
    torch.manual_seed(2)
    restored = DiffTracker(tiny_config(tiny_text_encoder, variant)).eval()
    restored.load_trained_state_dict(load_file(str(tmp_path / "m.safetensors")))
    a, b = _inputs()
    text = model.make_text_encoder()(QUERIES[:1])
    with torch.no_grad():
        expected = model(a[:1], b[:1], text, torch.tensor([0]))
        got = restored(a[:1], b[:1], text, torch.tensor([0]))
    assert torch.equal(expected.boxes, got.boxes) and torch.equal(expected.referring_logits, got.referring_logits)
    with pytest.raises(RuntimeError, match="does not fit"):
        restored.load_trained_state_dict({k: v for k, v in state.items() if "decoder" not in k})


def test_canvas_boxes_come_back_in_b_frame(tiny_text_encoder: Path) -> None:
    from difftracker.box_ops import canvas_to_b_frame

    on_canvas = torch.tensor([[0.75, 0.5, 0.1, 0.2]])  # centred in the right (B) half
    torch.testing.assert_close(canvas_to_b_frame(on_canvas), torch.tensor([[0.5, 0.5, 0.2, 0.2]]))
