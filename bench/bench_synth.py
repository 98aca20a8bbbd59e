"""Benchmark: DiffGround-Synth generation speed (queries/s, end to end incl. file writes) on one core.

File creation speed varies a lot between disks; `--out-parent /dev/shm` measures the generator itself.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from harness.data.synth import SynthConfig, generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=3000, help="train queries to generate (val/test: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--robust", action="store_true", help="measure robust mode (warp + JPEG) instead")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--out-parent", type=Path, default=None, help="folder for the temporary output (default: the system temp dir)"
    )
    args = parser.parse_args()
    # Warm the caches (sprites, photo textures) outside the timed run, as a long run would.
    with tempfile.TemporaryDirectory(dir=args.out_parent) as warm:
        generate_dataset(
            Path(warm), SynthConfig(seed=args.seed + 1, n_train=200, n_val=0, n_test=0, robust=args.robust)
        )
    with tempfile.TemporaryDirectory(dir=args.out_parent) as out:
        config = SynthConfig(
            seed=args.seed, n_train=args.queries, n_val=0, n_test=0, robust=args.robust, workers=args.workers
        )
        report = generate_dataset(Path(out), config)
    mode = "robust" if args.robust else "clean"
    print(
        f"DiffGround-Synth ({mode}, workers={args.workers}): {report.total_queries} queries, "
        f"{report.total_pairs} pairs in {report.elapsed_s:.2f} s -> {report.queries_per_second:.1f} queries/s "
        f"(rewritten {report.rewritten}, dropped {report.dropped}, trimmed {report.trimmed})"
    )


if __name__ == "__main__":
    main()
