"""Probe without training: does re-ranking a trained DiffTracker's final boxes by the dense
(token-level) referring score beat its own ranking by the decoder's referring score?

The decoder's referring target has one positive per query (the Hungarian-matched slot), while the
dense token head is trained with every token inside the referred box as a positive. This script
scores each of the final boxes by the token head inside it and compares top-1 Acc@0.5 of several
rankings on a split, paired per query (McNemar exact test on the discordant queries). It also
reports how often the top box lies on *some* difference and how often on the right one.

    .venv/bin/python bench/difftracker_rerank_probe.py --split val --limit-pairs 700
    .venv/bin/python bench/difftracker_rerank_probe.py --dataset data/synth-val2k --baseline decoder*tokens-mean
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from scipy.stats import binomtest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from torchvision.ops import box_iou  # noqa: E402

from difftracker.box_ops import cxcywh_to_xyxy  # noqa: E402
from difftracker.inference import encode_pair  # noqa: E402
from difftracker.ranking import token_means_in_boxes  # noqa: E402
from harness.training.grounding_pairs import grounding_pairs, load_pair_images  # noqa: E402
from idg_adapters.registry import create_adapter  # noqa: E402

RANKINGS = ("decoder", "tokens-mean", "tokens-max", "decoder*tokens-mean", "decoder+difference")


def token_scores_in_boxes(boxes: torch.Tensor, centres: torch.Tensor, token_probs: torch.Tensor) -> torch.Tensor:
    """(K, 2) mean and max token referring probability over the tokens whose centre is inside each box."""
    mean = token_means_in_boxes(boxes[None], centres, token_probs[None])[0]
    inside = (
        (centres[None, :, 0] >= boxes[:, None, 0])
        & (centres[None, :, 0] <= boxes[:, None, 2])
        & (centres[None, :, 1] >= boxes[:, None, 1])
        & (centres[None, :, 1] <= boxes[:, None, 3])
    )
    best = torch.where(inside, token_probs[None].expand(inside.shape), torch.zeros_like(token_probs[None])).amax(1)
    return torch.stack([mean, best], dim=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default=str(REPO / "data" / "diffground-synth"))
    parser.add_argument("--split", default="val")
    parser.add_argument("--model", default="difftracker")
    parser.add_argument("--weights", default="", help="a checkpoint other than the committed one")
    parser.add_argument("--limit-pairs", type=int, default=0)
    parser.add_argument("--save-hits", default="", help="write per-query top-1 hits (JSON) for a paired comparison")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--baseline", default="decoder", choices=RANKINGS, help="the ranking the others are compared with"
    )
    parser.add_argument(
        "--against", default="", help="hits JSON of another checkpoint (--save-hits): paired test of the two"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    adapter = create_adapter(args.model, **({"weights": args.weights} if args.weights else {}))
    adapter.load("cpu")
    model, text_encoder = adapter.model, adapter.text_encoder
    pairs = grounding_pairs(Path(args.dataset), args.split)
    if args.limit_pairs:
        pairs = pairs[: args.limit_pairs]
    images = load_pair_images(Path(args.dataset), pairs, adapter.image_size)
    hits: dict[str, list[bool]] = {name: [] for name in RANKINGS}
    sample_ids: list[str] = []
    on_some, on_right_any = [], []
    started = time.perf_counter()
    with torch.no_grad():
        for index, pair in enumerate(pairs):
            visual = encode_pair(model, images[index], "cpu")
            differences = torch.tensor(pair.boxes, dtype=torch.float32)
            for query in pair.queries:
                sample_ids.append(query.sample_id)
                output = model.decode(visual, torch.zeros(1, dtype=torch.long), text_encoder([query.query]))
                boxes = cxcywh_to_xyxy(output.boxes[-1, 0]).clamp(0, 1)
                decoder = torch.sigmoid(output.referring_logits[-1, 0])
                difference = torch.sigmoid(output.difference_logits[-1, 0])
                tokens = token_scores_in_boxes(
                    boxes, output.token_centres.float(), torch.sigmoid(output.token_referring_logits[0])
                )
                scores = {
                    "decoder": decoder,
                    "tokens-mean": tokens[:, 0],
                    "tokens-max": tokens[:, 1],
                    "decoder*tokens-mean": decoder * tokens[:, 0],
                    "decoder+difference": decoder + difference,
                }
                iou = box_iou(boxes, differences)  # (K, G)
                right = iou[:, query.referred] >= 0.5
                for name, score in scores.items():
                    hits[name].append(bool(right[int(score.argmax())]))
                top = int(scores[args.baseline].argmax())
                on_some.append(bool((iou[top] >= 0.5).any()))
                on_right_any.append(bool(right.any()))
    if args.save_hits:
        Path(args.save_hits).write_text(json.dumps({"ids": sample_ids, "hits": hits}), encoding="utf-8")
    n = len(hits["decoder"])
    seconds = time.perf_counter() - started
    print(f"{args.model} on {args.split}: {n} queries, {len(pairs)} pairs, {seconds:.0f} s")
    base = np.array(hits[args.baseline])
    print(
        f"top box on some difference: {100 * np.mean(on_some):.1f}%; right box among the final boxes: "
        f"{100 * np.mean(on_right_any):.1f}%; right choice when on some difference: "
        f"{100 * base[np.array(on_some)].mean():.1f}%"
    )
    print(f"| ranking | Acc@0.5 | vs {args.baseline} | McNemar p |")
    print("|---|---|---|---|")
    for name in RANKINGS:
        other = np.array(hits[name])
        gained, lost = int((other & ~base).sum()), int((base & ~other).sum())
        p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
        print(
            f"| {name} | {100 * other.mean():.1f} | {100 * (other.mean() - base.mean()):+.1f} (+{gained}/-{lost}) | {p:.3g} |"
        )

    if args.against:
        paired_against(base, args.baseline, sample_ids, Path(args.against))


def paired_against(hits: np.ndarray, ranking: str, sample_ids: list[str], other_file: Path) -> None:
    """This checkpoint's top-1 hits under `ranking` against another's (same ranking, same queries):
    difference and McNemar p."""
    other = json.loads(other_file.read_text(encoding="utf-8"))
    if other["ids"] != sample_ids:
        raise SystemExit(f"{other_file} holds other queries than this run")
    theirs = np.array(other["hits"][ranking])
    gained, lost = int((hits & ~theirs).sum()), int((theirs & ~hits).sum())
    p = binomtest(gained, gained + lost).pvalue if gained + lost else 1.0
    print(
        f"vs {other_file.name}: {100 * hits.mean():.1f} vs {100 * theirs.mean():.1f} Acc@0.5, "
        f"{100 * (hits.mean() - theirs.mean()):+.1f} points (+{gained}/-{lost}), McNemar p = {p:.3g}"
    )


if __name__ == "__main__":
    main()
