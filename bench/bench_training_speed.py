"""Training steps per second of DiffTracker's variants, with and without the frozen-feature cache
(difftracker/feature_cache.py), on the bundled DiffGround-Synth recipe (synth-cpu.yaml).

    python bench/bench_training_speed.py                       # every variant, 1 thread, JSON lines
    python bench/bench_training_speed.py --variants difftracker-nodem --pairs 48 --threads 2

Each measurement builds the variant's training task on the first `--pairs` training pairs and times
optimiser steps (forward, backward, AdamW) over them twice: the first pass fills the cache (with the
cache on), the second is what every later epoch costs. The cache off times the same two passes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RECIPE = REPO / "difftracker" / "configs" / "synth-cpu.yaml"
VARIANTS = ("difftracker", "difftracker-nodem", "late-fusion", "early-fusion", "concat-canvas", "mdetr-style")


def steps_per_second(variant: str, cache: str, dataset: Path, pairs: int, passes: int = 2) -> list[float]:
    """Steps/s of each pass over the first `pairs` training pairs (batch size from the recipe)."""
    import torch

    from harness.training.config import load_train_config
    from harness.training.task import get_task_class

    config = load_train_config(RECIPE)
    options = {**config.task_options, "max_train_pairs": pairs, "max_val_pairs": 1, "feature_cache": cache}
    task = get_task_class(variant)(options, dataset, config.seed)
    task.prepare()
    torch.manual_seed(config.seed)
    model = task.build_model().train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.lr)
    batches = [list(range(i, min(i + config.batch_size, pairs))) for i in range(0, pairs, config.batch_size)]
    rates = []
    for _ in range(passes):
        started = time.perf_counter()
        for indices in batches:
            loss = task.loss(model, task.train_batch(indices, 0, torch.device("cpu")))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        rates.append(len(batches) / (time.perf_counter() - started))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS))
    parser.add_argument("--dataset", type=Path, default=REPO / "data" / "diffground-synth")
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    for variant in args.variants:
        off = steps_per_second(variant, "off", args.dataset, args.pairs)
        on = steps_per_second(variant, "on", args.dataset, args.pairs)
        row = {
            "variant": variant,
            "threads": args.threads,
            "pairs": args.pairs,
            "off_steps_per_s": [round(r, 3) for r in off],
            "on_steps_per_s": [round(r, 3) for r in on],
            "speedup_later_epochs": round(on[-1] / off[-1], 2),
        }
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
