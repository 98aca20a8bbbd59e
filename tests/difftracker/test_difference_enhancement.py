"""The DEM: identity when untrained, its equations, and the ablation flags."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from difftracker.difference_enhancement import DifferenceEnhancement


def test_untrained_module_is_the_identity() -> None:
    a, b = torch.randn(2, 8, 5, 5), torch.randn(2, 8, 5, 5)
    out_a, out_b = DifferenceEnhancement(8)(a, b)
    assert torch.equal(out_a, a) and torch.equal(out_b, b)


def test_enhancement_follows_its_equations() -> None:
    torch.manual_seed(0)
    dem = DifferenceEnhancement(6)
    with torch.no_grad():
        dem.alpha.fill_(0.7)
        dem.beta.fill_(0.4)
        dem.gamma.fill_(0.3)
    x, y = torch.randn(1, 6, 4, 4), torch.randn(1, 6, 4, 4)
    d = x - y
    gate = torch.sigmoid(dem.difference_gate(torch.cat((d.abs(), d), 1)))
    similarity = F.cosine_similarity(x, y, dim=1, eps=1e-6).unsqueeze(1)
    common = torch.sigmoid(dem.common_gate(torch.cat((x * y, similarity), 1)))
    expected = x * (1 + 0.7 * gate - 0.4 * common) + 0.3 * dem.difference_inject(d.abs())
    out_x, out_y = dem(x, y)
    torch.testing.assert_close(out_x, expected)
    # The same weights serve B against A.
    torch.testing.assert_close(out_y, dem.enhance(y, x))


def test_identical_inputs_get_no_difference_injection() -> None:
    dem = DifferenceEnhancement(4, mode="diff-only")
    with torch.no_grad():
        dem.alpha.fill_(1.0)
        dem.gamma.fill_(1.0)
    x = torch.randn(1, 4, 3, 3)
    out, _ = dem(x, x.clone())
    gate = torch.sigmoid(dem.difference_gate(torch.zeros(1, 8, 3, 3)))
    inject = dem.difference_inject(torch.zeros(1, 4, 3, 3))
    torch.testing.assert_close(out, x * (1 + gate) + inject)
    assert not hasattr(dem, "common_gate")
