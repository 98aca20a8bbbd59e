"""cd-rerank-clip with a tiny random open_clip model saved to a temp dir (tests/adapters/tiny_weights.py)
and loaded through the adapter's real path (safetensors via adapters.checkpoint_files); the contract checks run on it too."""

from __future__ import annotations

import numpy as np
import pytest

from idg_adapters.base import AdapterUnavailable, PairInput
from idg_adapters.cd_rerank_clip import ChangeRerankClipAdapter, context_crop_box
from tests.adapters.conftest import BLUE, RED, YELLOW, draw_scene, varied_pairs
from tests.adapters.test_contract import assert_same, assert_valid, degenerate_pairs

pytest.importorskip("open_clip")
torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def adapter(tiny_clip_options: dict[str, str]) -> ChangeRerankClipAdapter:
    instance = ChangeRerankClipAdapter(**tiny_clip_options)
    instance.load("cpu")
    return instance


def test_unavailable_without_weights() -> None:
    with pytest.raises(AdapterUnavailable, match="no open_clip weights") as info:
        ChangeRerankClipAdapter().load("cpu")
    assert "cd-rerank-clip.weights" in info.value.how_to_enable


def test_bad_options_are_refused() -> None:
    with pytest.raises(ValueError, match="proposals"):
        ChangeRerankClipAdapter(proposals="owlv2")
    with pytest.raises(ValueError, match="max_proposals"):
        ChangeRerankClipAdapter(max_proposals=0)


def test_weights_load_exactly(adapter: ChangeRerankClipAdapter, tiny_clip_options: dict[str, str]) -> None:
    from safetensors.torch import load_file

    saved = load_file(tiny_clip_options["weights"])
    for name, tensor in adapter.model.state_dict().items():
        assert torch.equal(tensor, saved[name]), name


def test_reranks_the_proposals_of_the_change_detector(adapter: ChangeRerankClipAdapter) -> None:
    pair = PairInput("p", draw_scene((80, 80), [RED]), draw_scene((80, 80), [RED, YELLOW, BLUE]), "the new one")
    (proposals,) = adapter.proposer.predict([pair])
    (prediction,) = adapter.predict([pair])
    assert len(proposals.boxes) == 2
    # Same boxes as the change detector proposed, in the order of their text-crop similarity.
    assert sorted(map(tuple, prediction.boxes)) == sorted(map(tuple, proposals.boxes))
    similarity = adapter.crop_similarity(pair, proposals.boxes)
    order = np.argsort(-similarity, kind="stable")
    np.testing.assert_array_equal(prediction.boxes, proposals.boxes[order])
    assert ((0 <= prediction.scores) & (prediction.scores <= 1)).all()


def test_query_changes_the_scores(adapter: ChangeRerankClipAdapter) -> None:
    a, b = draw_scene((80, 80), [RED]), draw_scene((80, 80), [RED, YELLOW, BLUE])
    (one,) = adapter.predict([PairInput("p", a, b, "the new yellow one")])
    (two,) = adapter.predict([PairInput("p", a, b, "something blue appeared at the right")])
    assert not np.array_equal(one.scores, two.scores)


def test_cd_siamese_proposals(tiny_clip_options: dict[str, str]) -> None:
    instance = ChangeRerankClipAdapter(**tiny_clip_options, proposals="cd-siamese", max_proposals=3)
    instance.load("cpu")
    for prediction, pair in zip(instance.predict(varied_pairs()), varied_pairs(), strict=True):
        assert_valid(prediction, pair)
        assert len(prediction.boxes) <= 3


def test_contract_checks_on_the_tiny_model(adapter: ChangeRerankClipAdapter) -> None:
    pairs = varied_pairs()
    batched = adapter.predict(pairs)
    reversed_batch = adapter.predict(pairs[::-1])[::-1]
    for pair, together, backwards in zip(pairs, batched, reversed_batch, strict=True):
        assert_valid(together, pair)
        (alone,) = adapter.predict([pair])
        assert_same(together, alone, f"{pair.id}: batch vs alone")
        assert_same(backwards, alone, f"{pair.id}: reversed batch vs alone")
    for pair in degenerate_pairs(draw_scene):
        (prediction,) = adapter.predict([pair])
        assert_valid(prediction, pair)
    assert adapter.predict([]) == []
    assert adapter.fingerprint() == adapter.fingerprint()
    assert (
        ChangeRerankClipAdapter(**{**adapter.options, "proposals": "cd-siamese"}).fingerprint() != adapter.fingerprint()
    )


@pytest.mark.parametrize(
    ("box", "want"),
    [
        ((10, 10, 20, 20), (8, 8, 23, 23)),  # 10 px box + 25 % of it on each side: a 15 px square
        ((0, 0, 8, 4), (0, 0, 12, 12)),  # pushed inside at the corner
        ((0, 0, 100, 10), (25, 0, 75, 50)),  # never larger than the image, still centred
    ],
)
def test_context_crop_box(box, want) -> None:
    x1, y1, x2, y2 = context_crop_box(np.array(box, float), 100, 50, 0.25)
    assert 0 <= x1 < x2 <= 100 and 0 <= y1 < y2 <= 50
    assert x2 - x1 == y2 - y1
    assert (x1, y1, x2, y2) == want
