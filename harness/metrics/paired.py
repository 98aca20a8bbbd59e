"""Paired comparison of two sets of hits on the same samples (two models, or a model and its
control): accuracy difference with a paired bootstrap CI, and McNemar's exact test.

- Paired bootstrap: the per-sample difference d_i = hit_A - hit_B (in {-1, 0, 1}) is resampled
  over samples, so both sides always see the same resample; the CI is the seeded percentile
  interval of mean(d) (one stream per stratum).
- McNemar: only discordant samples carry information. With b = A hit / B miss and c = A miss /
  B hit, under H0 b ~ Binomial(b + c, 1/2); the p-value is scipy's exact two-sided binomial test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from harness.metrics.bootstrap import bootstrap_ci


@dataclass
class PairedResult:
    """One stratum of a comparison: accuracies, their difference with CI, McNemar counts and p."""

    stratum: str
    n: int
    acc_a: float
    acc_b: float
    diff: float
    ci: tuple[float, float]
    a_only: int  # A hit, B missed
    b_only: int  # B hit, A missed
    p_value: float


def paired_test(
    hits_a: np.ndarray, hits_b: np.ndarray, stratum: str, *, n_boot: int = 1000, seed: int = 0, stream: str = ""
) -> PairedResult:
    hits_a = np.asarray(hits_a, dtype=bool)
    hits_b = np.asarray(hits_b, dtype=bool)
    n = len(hits_a)
    diff = hits_a.astype(np.float64) - hits_b.astype(np.float64)
    a_only = int(np.count_nonzero(hits_a & ~hits_b))
    b_only = int(np.count_nonzero(~hits_a & hits_b))
    low, high = bootstrap_ci(diff, n_boot=n_boot, seed=seed, stream=f"{stream}/{stratum}")
    p_value = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
    return PairedResult(
        stratum=stratum,
        n=n,
        acc_a=float(hits_a.mean()) if n else float("nan"),
        acc_b=float(hits_b.mean()) if n else float("nan"),
        diff=float(diff.mean()) if n else float("nan"),
        ci=(low, high),
        a_only=a_only,
        b_only=b_only,
        p_value=float(p_value),
    )
