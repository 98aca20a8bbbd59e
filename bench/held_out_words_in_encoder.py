"""Does the frozen text encoder place each held-out word of test-novel with its seen synonyms?

For every word set of the DiffGround-Synth 2 lexicon with a held-out entry (colours, textures,
sizes, shapes, nouns, edit verbs), each entry is put into a short carrier phrase and encoded; its
feature is the mean of the encoder's last-layer vectors over the word's own tokens. A held-out word
counts as placed right when the nearest (cosine) centroid of the seen entries, among all sets of
its kind, is its own set's. A model that reads the frozen features cannot do better on a held-out
word than the encoder places it, whatever it learns on top.

    .venv/bin/python bench/held_out_words_in_encoder.py [--text-encoder DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from difftracker.text_encoder import TextEncoder  # noqa: E402
from harness.data.synth.held_out import lexicon  # noqa: E402
from harness.data.synth.lexicon import WORD_SETS  # noqa: E402

# kind of word set -> carrier phrase ({w}: the word)
CARRIERS: dict[str, str] = {
    "colour": "find the {w} thing that was added",
    "texture": "find the {w} thing that was added",
    "size": "find the {w} thing that was added",
    "shape": "find the small {w} that was added",
    "noun": "the {w} on the left",
    "vp": "the object that {w}",
}


def word_feature(encoder: TextEncoder, word: str, carrier: str) -> torch.Tensor:
    """Mean last-layer vector over the tokens of `word` inside `carrier`."""
    sentence = carrier.format(w=word)
    batch = encoder.tokenizer(sentence, return_tensors="pt", return_offsets_mapping=True)
    offsets = batch.pop("offset_mapping")[0].tolist()
    with torch.no_grad():
        hidden = encoder.model(**batch).last_hidden_state[0]
    start = sentence.index(word)
    inside = [i for i, (a, b) in enumerate(offsets) if b > a and a >= start and b <= start + len(word)]
    return hidden[inside].mean(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text-encoder", default=None, help="a local BERT/RoBERTa directory (default MiniLM)")
    args = parser.parse_args()
    encoder = TextEncoder(args.text_encoder).eval()
    entries = lexicon()
    print("| kind | held-out words placed with their seen synonyms | misplaced (-> nearest set) |")
    print("|---|---|---|")
    for kind, carrier in CARRIERS.items():
        sets = [s for s in WORD_SETS if s.startswith(kind + ".")]
        centroids = {
            s: torch.stack([word_feature(encoder, e.text, carrier) for e in entries[s] if not e.novel]).mean(0)
            for s in sets
        }
        right, total, misses = 0, 0, []
        for s in sets:
            for entry in (e for e in entries[s] if e.novel):
                feature = word_feature(encoder, entry.text, carrier)
                nearest = max(centroids, key=lambda c: float(torch.cosine_similarity(feature, centroids[c], 0)))
                total += 1
                right += nearest == s
                if nearest != s:
                    misses.append(f"{entry.text} -> {nearest}")
        print(f"| {kind} | {right} of {total} | {', '.join(misses) or '-'} |")


if __name__ == "__main__":
    main()
