"""Times the metrics on 1,000,000 synthetic samples: bootstrap CIs alone, then the full summary.

Run on one core: OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/bench_metrics.py [--n 1000000] [--n-boot 1000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from harness.metrics import OutcomeTable, SampleOutcome, bootstrap_ci, paired_box_iou, summarize_table


def synthetic_boxes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Targets and noisy top-1 predictions, with 5% of predictions missing (NaN rows)."""
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 400, (n, 2))
    targets = np.hstack([corner, corner + rng.uniform(4, 200, (n, 2))])
    pred = targets + rng.normal(0, 15, (n, 4))
    pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 1)
    pred[rng.random(n) < 0.05] = np.nan
    return targets, pred


def time_it(label: str, fn) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<60s} {elapsed:7.3f} s")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--n-boot", type=int, default=1000)
    args = parser.parse_args()

    targets, pred = synthetic_boxes(args.n, seed=0)
    iou, inter, union = paired_box_iou(pred, targets)

    def cis() -> None:
        for tau in (0.25, 0.5, 0.75):
            bootstrap_ci((iou >= tau).astype(np.float64), n_boot=args.n_boot, stream=f"acc@{tau}")
        bootstrap_ci(iou, n_boot=args.n_boot, stream="miou")
        bootstrap_ci(inter, union, n_boot=args.n_boot, stream="ciou")

    time_it(f"paired_box_iou, n={args.n}", lambda: paired_box_iou(pred, targets))
    time_it(f"bootstrap CIs acc@3 + miou + ciou, n={args.n}, n_boot={args.n_boot}", cis)

    rng = np.random.default_rng(1)
    edit_types = rng.choice(["add", "remove", "replace", "move"], args.n)
    sizes = rng.choice(["small", "medium", "large"], args.n)
    scores = rng.random(args.n)
    outcomes: list[SampleOutcome] = []

    def build() -> None:
        for i in range(args.n):
            has_box = not np.isnan(pred[i, 0])
            outcomes.append(
                SampleOutcome(
                    id=f"{i:08d}",
                    target=tuple(targets[i]),
                    boxes=pred[i : i + 1] if has_box else np.zeros((0, 4)),
                    scores=scores[i : i + 1] if has_box else np.zeros(0),
                    strata={"edit_type": edit_types[i], "size": sizes[i]},
                )
            )

    time_it(f"build {args.n} SampleOutcome objects (caller side)", build)
    table: list[OutcomeTable] = []
    time_it(
        "OutcomeTable.from_outcomes (sort by id, validate)", lambda: table.append(OutcomeTable.from_outcomes(outcomes))
    )
    time_it(
        "summarize_table, overall + 7 strata groups, no AP50",
        lambda: summarize_table(table[0], n_boot=args.n_boot, with_ap50=False),
    )
    small = min(args.n, 20_000)
    small_table = OutcomeTable.from_outcomes(outcomes[:small])
    time_it(
        f"summarize_table with AP50 (pycocotools), n={small}", lambda: summarize_table(small_table, n_boot=args.n_boot)
    )


if __name__ == "__main__":
    main()
