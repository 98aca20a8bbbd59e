"""compute_metrics: hand-computed values, misses, strata, order invariance and JSON output."""

import json
import math
import random

import numpy as np
import pytest

from harness.metrics import InvalidOutcome, SampleOutcome, compute_metrics

SQUARE = (0.0, 0.0, 10.0, 10.0)


def outcome(id, target, boxes=(), scores=None, error=None, **strata) -> SampleOutcome:
    boxes = np.array(boxes, float).reshape(-1, 4)
    scores = np.linspace(1, 0.5, len(boxes)) if scores is None else np.array(scores, float)
    return SampleOutcome(id=id, target=target, boxes=boxes, scores=scores, error=error, strata=strata)


def hand_example() -> list[SampleOutcome]:
    return [
        outcome("a", SQUARE, [[0, 0, 10, 10], [50, 50, 60, 60]], edit_type="add", size="small"),  # IoU 1
        outcome("b", SQUARE, [[0, 0, 10, 5]], edit_type="add", size="small"),  # 50 / 100
        outcome("c", SQUARE, [[5, 0, 15, 10]], edit_type="remove", size="small"),  # 50 / 150
        outcome("d", (0.0, 0.0, 20.0, 20.0), [[0, 0, 20, 20]], error="timeout", edit_type="remove"),  # miss, 0 / 400
        outcome("e", SQUARE, [], edit_type="remove", size="large"),  # no prediction, 0 / 100
    ]


def test_hand_computed_values():
    metrics = compute_metrics(hand_example(), n_boot=200)
    assert (metrics["n"], metrics["errors"], metrics["no_prediction"]) == (5, 1, 1)
    overall = metrics["overall"]
    assert overall["n"] == 5
    assert overall["acc@0.25"]["value"] == pytest.approx(3 / 5)
    assert overall["acc@0.5"]["value"] == pytest.approx(2 / 5)
    assert overall["acc@0.75"]["value"] == pytest.approx(1 / 5)
    assert overall["miou"]["value"] == pytest.approx((1 + 0.5 + 1 / 3) / 5)
    assert overall["ciou"]["value"] == pytest.approx((100 + 50 + 50) / (100 + 100 + 150 + 400 + 100))
    # the error's correct-looking box is ignored: it is a miss
    assert metrics["by"]["edit_type"]["remove"]["miou"]["value"] == pytest.approx((1 / 3) / 3)


def test_strata_groups_sorted_with_unknown_for_missing_keys():
    metrics = compute_metrics(hand_example(), n_boot=100)
    assert list(metrics["by"]) == ["edit_type", "size"]
    assert list(metrics["by"]["edit_type"]) == ["add", "remove"]
    assert list(metrics["by"]["size"]) == ["large", "small", "unknown"]
    assert metrics["by"]["size"]["unknown"]["n"] == 1
    assert metrics["by"]["edit_type"]["add"]["acc@0.5"]["value"] == 1.0
    custom = compute_metrics(hand_example(), strata=("lighting",), n_boot=100)
    assert list(custom["by"]) == ["lighting"] and list(custom["by"]["lighting"]) == ["unknown"]


def test_ap50_is_null_only_for_groups_without_boxes():
    metrics = compute_metrics(hand_example(), n_boot=100)
    assert metrics["by"]["size"]["large"]["ap50"] is None  # only the no-prediction sample
    assert metrics["by"]["size"]["unknown"]["ap50"] is None  # only the error sample
    assert metrics["by"]["edit_type"]["add"]["ap50"] == 1.0
    assert 0 < metrics["overall"]["ap50"] < 1
    assert "ap50" not in compute_metrics(hand_example(), n_boot=100, with_ap50=False)["overall"]


def random_outcomes(n: int, seed: int) -> list[SampleOutcome]:
    rng = np.random.default_rng(seed)
    outcomes = []
    for i in range(n):
        corner = rng.uniform(0, 100, 2)
        target = tuple(np.concatenate([corner, corner + rng.uniform(5, 50, 2)]).tolist())
        k = int(rng.integers(0, 4))
        boxes = np.array(target) + rng.normal(0, 6, (k, 4))
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2] + 1)
        strata = {"edit_type": str(rng.choice(["add", "remove", "replace"]))}
        if rng.random() < 0.8:
            strata["size"] = str(rng.choice(["small", "medium", "large"]))
        error = "crashed" if rng.random() < 0.03 else None
        outcomes.append(SampleOutcome(f"s{i:04d}", target, boxes, rng.random(k), error, strata))
    return outcomes


def test_identical_for_any_order_or_chunking():
    outcomes = random_outcomes(400, 0)
    reference = compute_metrics(outcomes, n_boot=300, seed=4)
    shuffled = outcomes[:]
    random.Random(1).shuffle(shuffled)
    assert compute_metrics(shuffled, n_boot=300, seed=4) == reference
    # as if collected from batches of 7, and batches of 64 in reverse order
    chunks = [outcomes[i : i + 64] for i in range(0, 400, 64)][::-1]
    assert compute_metrics([o for chunk in chunks for o in chunk], n_boot=300, seed=4) == reference
    assert compute_metrics(outcomes, n_boot=300, seed=5) != reference


def test_cis_contain_values_and_json_is_strict():
    metrics = compute_metrics(random_outcomes(300, 1), n_boot=200)
    text = json.dumps(metrics, allow_nan=False)
    assert json.loads(text) == metrics
    assert json.dumps(metrics, sort_keys=True) == text  # keys are already sorted
    blocks = [metrics["overall"], *(b for groups in metrics["by"].values() for b in groups.values())]
    for block in blocks:
        for name in ("acc@0.25", "acc@0.5", "acc@0.75", "miou", "ciou"):
            low, high = block[name]["ci"]
            assert 0 <= low <= block[name]["value"] <= high <= 1
    assert metrics["config"] == {
        "ap50": True,
        "confidence": 0.95,
        "n_boot": 200,
        "seed": 0,
        "strata": ["edit_type", "size"],
        "thresholds": [0.25, 0.5, 0.75],
    }


def test_empty_input_gives_nulls_not_nan():
    metrics = compute_metrics([], n_boot=50)
    json.dumps(metrics, allow_nan=False)
    assert metrics["n"] == 0 and metrics["by"] == {"edit_type": {}, "size": {}}
    assert metrics["overall"]["miou"] == {"value": None, "ci": [None, None]}
    assert metrics["overall"]["ap50"] is None


def test_all_misses():
    outcomes = [outcome(f"x{i}", SQUARE, error="boom") for i in range(20)]
    overall = compute_metrics(outcomes, n_boot=50)["overall"]
    assert overall["acc@0.25"] == {"value": 0.0, "ci": [0.0, 0.0]}
    assert overall["ciou"]["value"] == 0.0 and overall["ap50"] is None


@pytest.mark.parametrize(
    "bad, message",
    [
        ([outcome("a", SQUARE), outcome("a", SQUARE)], "duplicate"),
        ([outcome("a", (0, 0, 1))], "target"),
        ([outcome("a", (0, 0, 1, math.nan))], "target"),
        ([SampleOutcome("a", SQUARE, np.zeros((2, 3)), np.zeros(2))], "boxes"),
        ([SampleOutcome("a", SQUARE, np.zeros((2, 4)), np.zeros(3))], "scores"),
        ([SampleOutcome("a", SQUARE, np.full((1, 4), np.inf), np.zeros(1))], "finite"),
    ],
)
def test_malformed_outcomes_raise_named_error(bad, message):
    with pytest.raises(InvalidOutcome, match=message):
        compute_metrics(bad, n_boot=10)
