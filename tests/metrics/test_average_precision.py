"""AP50 against a direct, default-settings pycocotools run on the same data."""

import contextlib
import io

import numpy as np

from harness.metrics import AP50Evaluator, average_precision_50


def random_case(seed: int, n: int = 60) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    corner = rng.uniform(0, 200, (n, 2))
    targets = np.hstack([corner, corner + rng.uniform(5, 80, (n, 2))])
    boxes, scores = [], []
    for target in targets:
        k = int(rng.integers(0, 5))
        jitter = target + rng.normal(0, 10, (k, 4))
        jitter[:, 2:] = np.maximum(jitter[:, 2:], jitter[:, :2] + 1)
        boxes.append(jitter)
        scores.append(rng.random(k))
    return targets, boxes, scores


def direct_pycocotools_ap50(targets, boxes, scores) -> float:
    """Written independently of the harness: full default COCOeval, stats[1] is AP@0.5."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = {
        "images": [{"id": i} for i in range(1, len(targets) + 1)],
        "categories": [{"id": 1, "name": "difference"}],
        "annotations": [
            {"id": i, "image_id": i, "category_id": 1, "iscrowd": 0, "area": (x2 - x1) * (y2 - y1)}
            | {"bbox": [x1, y1, x2 - x1, y2 - y1]}
            for i, (x1, y1, x2, y2) in enumerate(targets.tolist(), start=1)
        ],
    }
    dets = [
        {"image_id": i, "category_id": 1, "bbox": [x1, y1, x2 - x1, y2 - y1], "score": s}
        for i, (b, sc) in enumerate(zip(boxes, scores, strict=True), start=1)
        for (x1, y1, x2, y2), s in zip(b.tolist(), sc.tolist(), strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = gt
        coco.createIndex()
        evaluator = COCOeval(coco, coco.loadRes(dets), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return float(evaluator.stats[1])


def test_matches_direct_pycocotools_on_random_data():
    for seed in range(3):
        targets, boxes, scores = random_case(seed)
        expected = direct_pycocotools_ap50(targets, boxes, scores)
        assert 0 < expected < 1
        assert average_precision_50(targets, boxes, scores) == expected


def test_subset_accumulation_matches_a_direct_run_on_the_subset():
    targets, boxes, scores = random_case(7)
    evaluator = AP50Evaluator(targets, boxes, scores)
    subset = np.array([1, 4, 5, 9, 20, 33, 34, 50])
    expected = direct_pycocotools_ap50(targets[subset], [boxes[i] for i in subset], [scores[i] for i in subset])
    assert evaluator.ap50(subset) == expected


def test_perfect_predictions_give_one_and_none_give_zero():
    targets, _, _ = random_case(1)
    perfect = [t[None, :] for t in targets]
    assert average_precision_50(targets, perfect, [np.ones(1)] * len(targets)) == 1.0
    assert average_precision_50(targets, [np.zeros((0, 4))] * len(targets), [np.zeros(0)] * len(targets)) == 0.0


def test_prints_nothing(capsys):
    targets, boxes, scores = random_case(2)
    average_precision_50(targets, boxes, scores)
    assert capsys.readouterr().out == ""
