"""Seeded percentile bootstrap CIs for means and ratios of sums, vectorised to scale to 1e6 samples.

Resampling n samples with replacement is drawing multinomial counts over the samples. Doing that
literally costs n_boot * n random numbers, so large inputs are grouped first:

- 0/1 values (accuracy): the hit count of a resample is exactly Binomial(n, k/n).
- n <= max_exact (1024, the default test split): one bin per sample, so the multinomial counts
  are the exact bootstrap.
- larger n: samples are sorted by their influence on the statistic (the value for a mean,
  num - ratio * den for a ratio) and cut into max_bins (512) equal-size bins. Counts per bin are drawn
  exactly (multinomial); the m draws that land in a bin sum to m * bin mean plus a normal term
  with m times the bin's within-bin (co)variance. Between-bin spread, skew and point masses (e.g.
  all the misses at IoU 0) are kept exactly; only the small spread of neighbouring values inside
  a bin is approximated, with its variance matched.
"""

from __future__ import annotations

import zlib

import numpy as np

MAX_EXACT = 1024  # exact bootstrap up to this many samples (the default test split)
MAX_BINS = 512  # bins beyond that; past ~256 the CIs no longer move (checked against the exact bootstrap)


def bootstrap_rng(seed: int, stream: str = "") -> np.random.Generator:
    """Generator for one named CI, so each CI depends on (seed, stream) only, not on call order."""
    return np.random.default_rng([seed, zlib.crc32(stream.encode())])


def bootstrap_ci(
    values: np.ndarray,
    denominators: np.ndarray | None = None,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    stream: str = "",
    max_bins: int = MAX_BINS,
) -> tuple[float, float]:
    """Percentile CI of mean(values), or of sum(values) / sum(denominators) when given.

    `stream` names the quantity (e.g. "edit_type=remove/miou") so that every CI has its own
    reproducible random stream. Returns (nan, nan) for empty input or a zero denominator.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    replicates = bootstrap_replicates(
        values, denominators, n_boot=n_boot, rng=bootstrap_rng(seed, stream), max_bins=max_bins
    )
    if replicates.size == 0 or np.isnan(replicates).all():
        return float("nan"), float("nan")
    alpha = (1.0 - confidence) / 2.0
    low, high = np.nanquantile(replicates, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bootstrap_replicates(
    values: np.ndarray,
    denominators: np.ndarray | None,
    *,
    n_boot: int,
    rng: np.random.Generator,
    max_bins: int = MAX_BINS,
) -> np.ndarray:
    """(n_boot,) bootstrap replicates of the mean or ratio-of-sums statistic; empty for no samples."""
    num = np.asarray(values, dtype=np.float64).ravel()
    den = None if denominators is None else np.asarray(denominators, dtype=np.float64).ravel()
    n = len(num)
    if den is not None and len(den) != n:
        raise ValueError(f"values ({n}) and denominators ({len(den)}) must have the same length")
    if n == 0:
        return np.zeros(0)
    if den is None and np.all((num == 0) | (num == 1)):
        return rng.binomial(n, np.count_nonzero(num) / n, size=n_boot) / n

    if den is None:
        influence = num
    else:
        total_den = den.sum()
        influence = num - (num.sum() / total_den if total_den > 0 else 0.0) * den
    n_bins = n if n <= max(MAX_EXACT, max_bins) else max_bins
    if n_bins < n:
        order = np.argsort(influence)  # compute_metrics passes samples in id order, so ties are reproducible
        num = num[order]
        den = None if den is None else den[order]
    edges = (np.arange(n_bins + 1) * n) // n_bins
    sizes = np.diff(edges)
    counts = rng.multinomial(n, sizes / n, size=n_boot).astype(np.float64)  # (n_boot, n_bins)

    columns = [num] if den is None else [num, den]
    stats = [_bin_moments(column, edges) for column in columns]
    sums = [counts @ mean for mean, _ in stats]
    if n_bins < n:
        _add_within_bin_noise(sums, counts, [centred for _, centred in stats], edges, rng)
    if den is None:
        return sums[0] / n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sums[1] > 0, sums[0] / sums[1], np.nan)


def _bin_moments(column: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and the column centred on its bin mean."""
    sizes = np.diff(edges)
    mean = np.add.reduceat(column, edges[:-1]) / sizes
    return mean, column - np.repeat(mean, sizes)


def _add_within_bin_noise(
    sums: list[np.ndarray],
    counts: np.ndarray,
    centred: list[np.ndarray],
    edges: np.ndarray,
    rng: np.random.Generator,
) -> None:
    """Add the within-bin part of each resampled sum.

    Bins are independent, so the within-bin parts of all bins add up to one normal per replicate
    with (co)variance sum_k count_k * cov_k: a few mat-vecs instead of n_boot * n_bins normals.
    """
    starts, sizes = edges[:-1], np.diff(edges)
    var_num = counts @ (np.add.reduceat(centred[0] ** 2, starts) / sizes)
    sd_num = np.sqrt(np.clip(var_num, 0.0, None))
    first = rng.standard_normal(len(counts))
    sums[0] += sd_num * first
    if len(centred) == 2:
        # Cholesky of each replicate's 2x2 covariance: den noise = b * first + d * second.
        var_den = counts @ (np.add.reduceat(centred[1] ** 2, starts) / sizes)
        cov = counts @ (np.add.reduceat(centred[0] * centred[1], starts) / sizes)
        b = np.divide(cov, sd_num, out=np.zeros_like(cov), where=sd_num > 0)
        d = np.sqrt(np.clip(var_den - b**2, 0.0, None))
        sums[1] += b * first + d * rng.standard_normal(len(counts))
