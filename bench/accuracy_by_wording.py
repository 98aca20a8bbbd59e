"""Where a checkpoint's top-1 hits are lost, by how the queries are worded: per template family,
per meaning template, and per phrase pattern (the `np.*` lexicon entry each DiffGround-Synth query
records), sorted by the points of the split each loses. With a second hits file, each row also
shows the other checkpoint's accuracy on the same queries.

The hits files are those of `bench/difftracker_rerank_probe.py --save-hits` (one list per ranking):

    .venv/bin/python bench/accuracy_by_wording.py --dataset data/synth-novel2k \
        --hits results/hits/installed-novel2k.json:tokens-mean --rows 12
    .venv/bin/python bench/accuracy_by_wording.py --dataset data/synth-novel2k \
        --hits A.json:decoder*tokens-mean --against B.json:tokens-mean
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.data.manifest import read_manifest  # noqa: E402
from harness.data.synth.held_out import entries_by_id  # noqa: E402


def read_hits(spec: str) -> dict[str, bool]:
    """`FILE:RANKING` (RANKING defaults to tokens-mean) -> sample id -> top-1 hit."""
    path, _, ranking = spec.partition(":")
    saved = json.loads(Path(path).read_text(encoding="utf-8"))
    ranking = ranking or "tokens-mean"
    if ranking not in saved["hits"]:
        raise SystemExit(f"{path} has no ranking {ranking!r}; it has {sorted(saved['hits'])}")
    return dict(zip(saved["ids"], saved["hits"][ranking], strict=True))


def wording_keys(attributes: dict) -> dict[str, str]:
    """The strata a query belongs to: its family, meaning template and phrase pattern."""
    patterns = [e for e in attributes.get("lexicon", []) if e.startswith("np.")]
    return {
        "family": attributes.get("template_family", "?"),
        "template": attributes.get("template", "?"),
        "pattern": patterns[0] if patterns else "?",
    }


def table(samples: dict, hits: dict[str, bool], other: dict[str, bool] | None, stratum: str, rows: int) -> list[str]:
    groups: dict[str, list[str]] = defaultdict(list)
    for sample_id in hits:
        groups[wording_keys(samples[sample_id].attributes or {})[stratum]].append(sample_id)
    texts = {e.id: e.text for e in entries_by_id().values()} if stratum == "pattern" else {}
    total = len(hits)
    ordered = sorted(groups.items(), key=lambda kv: -sum(not hits[i] for i in kv[1]))
    head = f"| {stratum} | n | Acc@0.5 | points lost |" + (" other |" if other else "")
    lines = [head, "|---|---|---|---|" + ("---|" if other else "")]
    for key, ids in ordered[:rows]:
        acc = 100 * sum(hits[i] for i in ids) / len(ids)
        lost = 100 * sum(not hits[i] for i in ids) / total
        label = f"{key}: {texts[key]}" if key in texts else key
        line = f"| {label} | {len(ids)} | {acc:.1f} | {lost:.1f} |"
        if other:
            line += f" {100 * sum(other[i] for i in ids) / len(ids):.1f} |"
        lines.append(line)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--hits", required=True, help="FILE[:RANKING] from difftracker_rerank_probe.py --save-hits")
    parser.add_argument("--against", default="", help="a second FILE[:RANKING] on the same queries")
    parser.add_argument("--strata", default="family,template,pattern")
    parser.add_argument("--rows", type=int, default=10)
    args = parser.parse_args()
    samples = {s.id: s for s in read_manifest(Path(args.dataset)).samples}
    hits = read_hits(args.hits)
    missing = [i for i in hits if i not in samples]
    if missing:
        raise SystemExit(f"{args.hits}: {len(missing)} sample ids are not in {args.dataset} (first: {missing[0]})")
    other = read_hits(args.against) if args.against else None
    if other is not None and other.keys() != hits.keys():
        raise SystemExit(f"{args.against} holds other queries than {args.hits}")
    print(f"{args.hits}: {100 * sum(hits.values()) / len(hits):.1f} Acc@0.5 on {len(hits)} queries")
    for stratum in args.strata.split(","):
        print()
        print("\n".join(table(samples, hits, other, stratum, args.rows)))


if __name__ == "__main__":
    main()
