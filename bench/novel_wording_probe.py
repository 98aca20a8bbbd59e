"""Which held-out part of test-novel's wording costs a model its accuracy: the sentence frame, the
phrase pattern, or the words?

test-novel words every query with held-out frames, held-out phrase patterns and held-out synonyms
at once (harness/data/synth/held_out.py), so its score cannot say which of the three a model fails
on. This probe generates variants of the test-novel split in which only some parts are held out,
and the rest are drawn from the seen inventory, then runs the models on each:

    variant   frame   pattern   words
    seen      seen    seen      seen      (worded like test)
    frame     novel   seen      seen
    pattern   seen    novel     seen
    words     seen    seen      novel
    novel     novel   novel     novel     (worded like test-novel)

The pairs (images, differences, targets) are the same in every variant: the generator draws the
scene before it words the queries, and the wording never moves the scene's draws. Only which
meaning is worded can differ, when a meaning has no wording in a variant's inventory.

    .venv/bin/python bench/novel_wording_probe.py --models difftracker,difftracker-nodem --queries 400
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.data.synth import realize  # noqa: E402
from harness.data.synth.config import NOVEL_SPLIT, SynthConfig  # noqa: E402
from harness.data.synth.generator import generate_dataset  # noqa: E402
from harness.data.synth.held_out import frames_for, lexicon  # noqa: E402
from harness.data.synth.lexicon import WORD_SETS  # noqa: E402

# variant -> which parts are drawn from the held-out inventory: (frame, pattern, words)
VARIANTS: dict[str, tuple[bool, bool, bool]] = {
    "seen": (False, False, False),
    "frame": (True, False, False),
    "pattern": (False, True, False),
    "words": (False, False, True),
    "novel": (True, True, True),
}


def _mixed_inventory(frame: bool, pattern: bool, words: bool) -> tuple[Callable, Callable]:
    """Replacements for realize's frames_for / usable_entries that ignore the `novel` flag they get."""

    def frames(_novel: bool) -> tuple:
        return frames_for(frame)

    def entries(set_id: str, _novel: bool) -> tuple:
        held_out = words if set_id in WORD_SETS else pattern
        return tuple(e for e in lexicon()[set_id] if e.novel == held_out)

    return frames, entries


def generate_variant(out_dir: Path, variant: str, queries: int, seed: int) -> None:
    """A test-novel split of `queries` queries worded as `variant` says (one process, so the patch holds)."""
    frames, entries = _mixed_inventory(*VARIANTS[variant])
    saved = realize.frames_for, realize.usable_entries
    realize.frames_for, realize.usable_entries = frames, entries
    try:
        config = SynthConfig(seed=seed, n_train=0, n_val=0, n_test=0, n_test_novel=queries, n_test_robust=0, workers=1)
        generate_dataset(out_dir, config, overwrite=True)
    finally:
        realize.frames_for, realize.usable_entries = saved


def accuracy(run_dir: Path, model: str) -> tuple[float, int]:
    overall = json.loads((run_dir / model / "metrics.json").read_text())["metrics"]["overall"]
    return 100 * overall["acc@0.5"]["value"], int(overall["n"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="difftracker,difftracker-nodem")
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--work-dir", default=str(REPO / "results" / "novel-wording-probe"))
    args = parser.parse_args()
    work = Path(args.work_dir)
    table: dict[str, dict[str, tuple[float, int]]] = {}
    for variant in args.variants.split(","):
        data = work / "data" / variant
        if not (data / "dataset.json").exists():
            generate_variant(data, variant, args.queries, args.seed)
        command = [
            sys.executable, "-m", "harness", "run", "--models", args.models, "--split", NOVEL_SPLIT,
            "--dataset", str(data), "--output-dir", str(work / "runs"), "--run-id", variant, "--force",
        ]  # fmt: skip
        subprocess.run(command, check=True, cwd=REPO, stdout=subprocess.DEVNULL)
        table[variant] = {m: accuracy(work / "runs" / variant, m) for m in args.models.split(",")}
    models = args.models.split(",")
    print("| variant (held out) | " + " | ".join(models) + " |")
    print("|---|" + "---|" * len(models))
    for variant, row in table.items():
        held = [part for part, on in zip(("frame", "pattern", "words"), VARIANTS[variant], strict=True) if on]
        label = f"{variant} ({', '.join(held) or 'none'})"
        print(f"| {label} | " + " | ".join(f"{row[m][0]:.1f} (n={row[m][1]})" for m in models) + " |")


if __name__ == "__main__":
    main()
