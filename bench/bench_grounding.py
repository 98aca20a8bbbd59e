"""Per-mode latency of the grounding adapters on CPU: tiny test models, and full-size random weights.

Run `python bench/bench_grounding.py [--full]`; `bench/run_all.py` calls `grounding_rows()` for the
tiny models only (full-size models take minutes to build and save). Weights are random: this
measures speed, never accuracy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from adapters import registry  # noqa: E402
from adapters.base import PairInput  # noqa: E402
from adapters.grounder_modes import MODES  # noqa: E402
from tests.adapters.grounding.conftest import FAMILY_BUILDERS  # noqa: E402


def synthetic_pair(size: int) -> PairInput:
    """A size x size pair with one object removed and one added, from the test scene drawer."""
    from tests.adapters.conftest import make_pair

    s = size / 80
    red = ((int(10 * s), int(8 * s), int(26 * s), int(24 * s)), (210, 40, 40))
    yellow = ((int(30 * s), int(50 * s), int(60 * s), int(70 * s)), (230, 220, 40))
    return make_pair(f"bench-{size}", (size, size), [red], [yellow], "the new yellow object on the right")


def time_modes(family: str, options: dict[str, Any], pair: PairInput, repeats: int) -> dict[str, float]:
    """Median seconds per sample of each mode, after one warm-up call."""
    seconds = {}
    for mode in MODES:
        adapter = registry.create_adapter(f"{family}-{mode}", **options)
        adapter.load("cpu")
        (warm,) = adapter.predict([pair])
        if warm.error is not None:
            raise RuntimeError(f"{family}-{mode} failed, nothing to time: {warm.error}")
        runs = []
        for _ in range(repeats):
            start = time.perf_counter()
            adapter.predict([pair])
            runs.append(time.perf_counter() - start)
        seconds[mode] = statistics.median(runs)
    return seconds


def tiny_latencies(repeats: int = 5) -> dict[str, dict[str, float]]:
    pair = synthetic_pair(160)
    with tempfile.TemporaryDirectory() as tmp:
        return {
            family: time_modes(family, build(Path(tmp) / family), pair, repeats)
            for family, build in FAMILY_BUILDERS.items()
        }


def save_full_size(family: str, directory: Path) -> dict[str, Any]:
    """Released-size architectures with random weights (no download): Swin-T + BERT-base, ViT-B/16."""
    import torch
    from transformers import (
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        Owlv2Config,
        Owlv2ForObjectDetection,
    )

    torch.manual_seed(0)
    if family == "gdino":
        GroundingDinoForObjectDetection(GroundingDinoConfig()).eval().save_pretrained(directory)
        return {"weights": str(directory), "image_size": 800}
    if family == "owlv2":
        from tests.adapters.grounding.tiny_grounders import _clip_byte_vocab

        directory.mkdir(parents=True)
        vocab_size, bos, eos = _clip_byte_vocab(directory)
        text = {"vocab_size": 49408, "bos_token_id": bos, "eos_token_id": eos}
        # owlv2-base-patch16-ensemble's input size (the config's default is 768).
        config = Owlv2Config(text_config=text, vision_config={"image_size": 960})
        Owlv2ForObjectDetection(config).eval().save_pretrained(directory)
        from transformers import CLIPTokenizer, Owlv2ImageProcessor, Owlv2Processor

        tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"), pad_token="!")
        Owlv2Processor(image_processor=Owlv2ImageProcessor(), tokenizer=tokenizer).save_pretrained(directory)
        return {"weights": str(directory)}
    raise ValueError(family)


def full_latencies(families: tuple[str, ...] = ("gdino", "owlv2")) -> dict[str, dict[str, float]]:
    pair = synthetic_pair(800)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in families:
            options = save_full_size(family, Path(tmp) / family)
            results[family] = time_modes(family, options, pair, repeats=1)
    return results


def format_table(title: str, latencies: dict[str, dict[str, float]]) -> list[str]:
    lines = [f"### {title}", "", "| Family | " + " | ".join(MODES) + " |", "|---" * (len(MODES) + 1) + "|"]
    for family, seconds in latencies.items():
        lines.append(f"| {family} | " + " | ".join(f"{1000 * seconds[m]:.0f} ms" for m in MODES) + " |")
    return lines


def grounding_rows() -> tuple[str, str]:
    """(measured, note) for bench/run_all.py: the tiny models' per-mode latency, one line."""
    latencies = tiny_latencies(repeats=3)
    measured = "; ".join(
        f"{family} " + "/".join(f"{1000 * latencies[family][m]:.0f}" for m in MODES) for family in latencies
    )
    return f"{measured} ms", "tiny random models, 160x160 pair, modes " + "/".join(MODES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--full", action="store_true", help="also full-size random-weight models at 800 px")
    args = parser.parse_args()
    lines = format_table("Tiny random models, 160x160 pair (median of 5)", tiny_latencies())
    if args.full:
        lines += [""] + format_table("Full-size random weights, 800x800 pair (one run)", full_latencies())
    print("\n".join(lines))


if __name__ == "__main__":
    main()
