"""The FC-Siam-diff network: output shape, gradients to every parameter, symmetry, and that it
can overfit one tiny batch (the network and loss can learn at all)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.training.cd_siamese_task import dice_loss
from idg_adapters.cd_siamese_network import NetworkConfig, SiameseDiffNet, change_probability
from tests.adapters.conftest import BLUE, RED, YELLOW, draw_scene

TINY = NetworkConfig(channels=(8, 16, 32))


@pytest.fixture(autouse=True)
def one_thread():
    # Two torch threads on a shared 2-core machine stall each other; one is several times faster.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_logits_have_the_input_resolution() -> None:
    model = SiameseDiffNet(TINY)
    a, b = torch.randn(2, 3, 64, 48), torch.randn(2, 3, 64, 48)
    assert model(a, b).shape == (2, 1, 64, 48)


def test_gradients_reach_every_parameter() -> None:
    torch.manual_seed(0)
    model = SiameseDiffNet(TINY)
    a, b = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    model(a, b).square().mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, f"no gradient reaches {missing}"


def test_swapping_a_and_b_gives_the_same_change() -> None:
    # |F_A - F_B| and |A - B| are symmetric: "added" and "removed" look alike to the detector.
    model = SiameseDiffNet(TINY).eval()
    a, b = torch.randn(1, 3, 32, 32), torch.randn(1, 3, 32, 32)
    torch.testing.assert_close(model(a, b), model(b, a))


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown network option"):
        NetworkConfig.from_dict({"channels": [8], "depth": 3})
    with pytest.raises(ValueError, match="positive"):
        NetworkConfig(channels=())


def _tiny_batch() -> tuple[list, np.ndarray]:
    """Four 64x64 pairs with added, removed, recoloured and moved rectangles, and their change masks."""
    edits = [
        ([RED], [RED, YELLOW]),
        ([RED, BLUE], [BLUE]),
        ([YELLOW], [((30, 50, 60, 70), (40, 200, 200))]),
        ([BLUE], [((8, 28, 24, 44), BLUE[1])]),
    ]
    pairs, masks = [], []
    for rects_a, rects_b in edits:
        a, b = draw_scene((64, 64), rects_a), draw_scene((64, 64), rects_b)
        pairs.append((a, b))
        masks.append(np.abs(np.asarray(a, float) - np.asarray(b, float)).max(axis=-1) > 0)
    return pairs, np.stack(masks)


def test_overfits_a_tiny_batch() -> None:
    from idg_adapters.cd_siamese_network import image_tensor

    torch.manual_seed(0)
    pairs, masks = _tiny_batch()
    model = SiameseDiffNet(TINY)
    a = torch.stack([image_tensor(p[0], 64) for p in pairs])
    b = torch.stack([image_tensor(p[1], 64) for p in pairs])
    target = torch.from_numpy(masks).float().unsqueeze(1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(150):
        logits = model(a, b)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, target) + dice_loss(logits, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()  # scored like the adapter: eval mode, per pair, through change_probability
    predicted = np.stack([change_probability(model, pa, pb, 64) > 0.5 for pa, pb in pairs])
    iou = (predicted & masks).sum() / (predicted | masks).sum()
    assert iou > 0.9, f"change IoU after overfitting {iou:.3f}"
