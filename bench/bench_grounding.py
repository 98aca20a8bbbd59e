"""Per-mode latency of the grounding adapters on CPU: tiny test models, and full-size random weights.

Run `python bench/bench_grounding.py [--full] [--families gdino,owlv2,mmdet-gdino] [--threads N]`;
`bench/run_all.py` calls `grounding_rows()` for the tiny models only (full-size models take minutes to
build and save). Weights are random: this measures speed, never accuracy. mmdet-gdino is measured
only where mmdet runs (`make mmdet`).
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

from idg_adapters import registry  # noqa: E402
from idg_adapters.base import PairInput  # noqa: E402
from idg_adapters.grounder_modes import MODES  # noqa: E402
from idg_adapters.mmdet_availability import missing_mmdet_parts  # noqa: E402
from tests.adapters.tiny_weights import FAMILY_BUILDERS  # noqa: E402


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


def runnable_families(families: tuple[str, ...]) -> tuple[str, ...]:
    """The families whose packages are installed: mmdet-gdino needs `make mmdet`."""
    return tuple(f for f in families if f != "mmdet-gdino" or missing_mmdet_parts() is None)


def tiny_latencies(repeats: int = 5) -> dict[str, dict[str, float]]:
    pair = synthetic_pair(160)
    with tempfile.TemporaryDirectory() as tmp:
        return {
            family: time_modes(family, FAMILY_BUILDERS[family](Path(tmp) / family), pair, repeats)
            for family in runnable_families(tuple(FAMILY_BUILDERS))
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
    if family == "mmdet-gdino":
        return save_full_size_mmdet(directory)
    raise ValueError(family)


def save_full_size_mmdet(directory: Path) -> dict[str, Any]:
    """mmdet's MM-Grounding-DINO Swin-T config as released (800 px), random weights, BERT-base text encoder."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.registry import init_default_scope
    from transformers import BertConfig, BertModel

    from idg_adapters.grounding_text import bert_tokenizer
    from idg_adapters.mmdet_grounding_dino import DEFAULT_CONFIG, grounding_config, resolve_config

    text_dir = directory / "bert-base-uncased-random"
    torch.manual_seed(0)
    BertModel(BertConfig(), add_pooling_layer=False).save_pretrained(text_dir)  # bert-base-uncased's shape
    bert_tokenizer(text_dir).save_pretrained(text_dir)
    config = resolve_config(DEFAULT_CONFIG)
    assert config is not None
    cfg = grounding_config(config, text_dir, limit=100)
    init_default_scope("mmdet")
    checkpoint = directory / "mm_grounding_dino_swin-t_random.pth"
    torch.save({"state_dict": MODELS.build(cfg.model).state_dict()}, checkpoint)
    return {"weights": str(checkpoint), "config": DEFAULT_CONFIG, "text_encoder": str(text_dir)}


def full_latencies(families: tuple[str, ...] = ("gdino", "owlv2", "mmdet-gdino")) -> dict[str, dict[str, float]]:
    pair = synthetic_pair(800)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for family in runnable_families(families):
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
    parser.add_argument("--full-only", action="store_true", help="only the full-size models")
    parser.add_argument("--families", default="gdino,owlv2,mmdet-gdino", help="full-size families to time")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    lines = [] if args.full_only else format_table("Tiny random models, 160x160 pair (median of 5)", tiny_latencies())
    if args.full or args.full_only:
        import torch

        title = f"Full-size random weights, 800x800 pair (one run, {torch.get_num_threads()} threads)"
        lines += [""] + format_table(title, full_latencies(tuple(args.families.split(","))))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
