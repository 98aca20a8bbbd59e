"""Benchmark: DiffGround-Synth generation speed (queries/s, end to end incl. file writes) on one core.

Generates train queries only (clean unless --robust), as version 2 (default) or --version 1.
File creation speed varies a lot between disks; `--out-parent /dev/shm` measures the generator itself.
Wall-clock rates drop when other jobs share the cores; the CPU-time rate printed beside them does not.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from harness.data.synth import SynthConfig, generate_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=3000, help="train queries to generate (val/test: none)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--robust", action="store_true", help="measure robust mode (warp + JPEG) instead")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--version", type=int, default=2, choices=(1, 2), help="generator version")
    parser.add_argument(
        "--out-parent", type=Path, default=None, help="folder for the temporary output (default: the system temp dir)"
    )
    args = parser.parse_args()
    only_train = dict(n_val=0, n_test=0, n_test_novel=0, n_test_robust=0, robust=args.robust, version=args.version)
    # Warm the caches (sprites, photo textures) outside the timed run, as a long run would.
    with tempfile.TemporaryDirectory(dir=args.out_parent) as warm:
        generate_dataset(Path(warm), SynthConfig(seed=args.seed + 1, n_train=200, **only_train))
    with tempfile.TemporaryDirectory(dir=args.out_parent) as out:
        config = SynthConfig(seed=args.seed, n_train=args.queries, workers=args.workers, **only_train)
        cpu_started = time.process_time()
        report = generate_dataset(Path(out), config)
        cpu_s = time.process_time() - cpu_started
    mode = "robust" if args.robust else "clean"
    print(
        f"DiffGround-Synth {config.version_string} ({mode}, workers={args.workers}): {report.total_queries} queries, "
        f"{report.total_pairs} pairs in {report.elapsed_s:.2f} s -> {report.queries_per_second:.1f} queries/s "
        f"[CPU time of this process {cpu_s:.2f} s -> {report.total_queries / cpu_s:.1f} queries per CPU-second; "
        "with --workers 1 this is the one-core rate even when other jobs share the machine] "
        f"(rewritten {report.rewritten}, dropped {report.dropped}, trimmed {report.trimmed})"
    )


if __name__ == "__main__":
    main()
