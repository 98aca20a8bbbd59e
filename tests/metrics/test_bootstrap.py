"""Bootstrap CIs: coverage of the estimate, width, seeding, and agreement with a plain bootstrap."""

import math

import numpy as np
import pytest

from harness.metrics import bootstrap_ci
from harness.metrics.bootstrap import bootstrap_replicates


def skewed_iou(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.3, 0.0, rng.beta(5, 2, n))  # a point mass of misses at 0


def plain_bootstrap(num: np.ndarray, den: np.ndarray | None, n_boot: int, seed: int) -> np.ndarray:
    """The textbook version: resample indices with replacement."""
    rng = np.random.default_rng(seed)
    replicates = np.empty(n_boot)
    for b in range(n_boot):
        index = rng.integers(0, len(num), len(num))
        replicates[b] = num[index].mean() if den is None else num[index].sum() / den[index].sum()
    return replicates


@pytest.mark.parametrize("kind", ["accuracy", "mean", "ratio"])
def test_ci_contains_estimate_and_narrows_with_n(kind):
    widths = []
    for n in (200, 5000, 100_000):
        iou = skewed_iou(n, seed=n)
        union = np.random.default_rng(1).lognormal(6, 1, n)
        values, den = {"accuracy": (iou >= 0.5) * 1.0, "mean": iou, "ratio": iou * union}[kind], None
        if kind == "ratio":
            den = union
        estimate = values.mean() if den is None else values.sum() / den.sum()
        low, high = bootstrap_ci(values, den, seed=3)
        assert low < estimate < high
        widths.append(high - low)
    assert widths[0] > widths[1] > widths[2]
    assert widths[1] / widths[2] == pytest.approx(math.sqrt(100_000 / 5000), rel=0.25)  # ~1/sqrt(n)


def test_deterministic_for_a_seed_and_different_across_seeds_and_streams():
    iou = skewed_iou(3000, 0)
    assert bootstrap_ci(iou, seed=5) == bootstrap_ci(iou, seed=5)
    assert bootstrap_ci(iou, seed=5) != bootstrap_ci(iou, seed=6)
    assert bootstrap_ci(iou, seed=5, stream="a") != bootstrap_ci(iou, seed=5, stream="b")


def test_accuracy_uses_the_exact_binomial_spread():
    hits = np.zeros(10_000)
    hits[:3000] = 1
    replicates = bootstrap_replicates(hits, None, n_boot=20_000, rng=np.random.default_rng(0))
    assert replicates.std() == pytest.approx(math.sqrt(0.3 * 0.7 / 10_000), rel=0.03)


@pytest.mark.parametrize("ratio", [False, True])
def test_binned_bootstrap_agrees_with_plain_bootstrap(ratio):
    n, n_boot = 10_000, 2000
    num = skewed_iou(n, 11)
    den = np.random.default_rng(12).lognormal(7, 1.5, n) if ratio else None
    if ratio:
        num = num * den
    binned = bootstrap_replicates(num, den, n_boot=n_boot, rng=np.random.default_rng(1))
    plain = plain_bootstrap(num, den, n_boot, seed=2)
    width = np.subtract(*np.quantile(plain, [0.975, 0.025]))
    np.testing.assert_allclose(
        np.quantile(binned, [0.025, 0.5, 0.975]), np.quantile(plain, [0.025, 0.5, 0.975]), atol=0.1 * width
    )
    assert binned.std() == pytest.approx(plain.std(), rel=0.1)


def test_small_input_is_the_exact_multinomial_bootstrap():
    values = np.array([0.0, 0.2, 0.9, 0.4, 0.7])
    replicates = bootstrap_replicates(values, None, n_boot=50_000, rng=np.random.default_rng(0))
    # every replicate is a mean of 5 of the values, so 5 * replicate is a sum of them (tenths)
    tenths = replicates * 50
    np.testing.assert_allclose(tenths, np.round(tenths), atol=1e-9)
    assert replicates.std() == pytest.approx(values.std() / math.sqrt(5), rel=0.03)


def test_degenerate_inputs():
    assert all(math.isnan(v) for v in bootstrap_ci(np.zeros(0)))
    assert all(math.isnan(v) for v in bootstrap_ci(np.zeros(4), np.zeros(4)))
    assert bootstrap_ci(np.full(50, 0.4)) == pytest.approx((0.4, 0.4))
    assert bootstrap_ci(np.ones(10)) == (1.0, 1.0)
    with pytest.raises(ValueError):
        bootstrap_ci(np.ones(3), confidence=1.5)
    with pytest.raises(ValueError):
        bootstrap_ci(np.ones(3), np.ones(2))
