"""Box geometry of the grounding modes: canvas mapping, OWLv2's padded square, DETR box ranking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from idg_adapters.canvas_mapping import canvas_boxes_to_b, compose_canvas
from idg_adapters.grounder_modes import box_iou_matrix
from idg_adapters.owlv2 import padded_square
from idg_adapters.single_image_grounder import candidates_from_normalized


def test_canvas_places_a_left_and_b_right_exactly() -> None:
    a, b = Image.new("RGB", (30, 20), (255, 0, 0)), Image.new("RGB", (30, 20), (0, 0, 255))
    canvas, layout = compose_canvas(a, b, gap=4)
    assert canvas.size == layout.size == (64, 20)
    assert layout.b_offset == 34
    pixels = np.asarray(canvas)
    assert (pixels[:, :30] == (255, 0, 0)).all() and (pixels[:, 34:] == (0, 0, 255)).all()
    assert (pixels[:, 30:34] == 0).all()


def test_known_canvas_boxes_map_into_b_frame() -> None:
    _, layout = compose_canvas(Image.new("RGB", (30, 20)), Image.new("RGB", (30, 20)), gap=4)
    boxes = np.array([[40.0, 2.0, 50.0, 12.0], [5.0, 3.0, 15.0, 9.0], [28.0, 0.0, 44.0, 20.0]])
    scores = np.array([0.9, 0.8, 0.7])
    mapped, kept = canvas_boxes_to_b(boxes, scores, layout, a_half="map")
    # B-half box shifts by 34; A-half box keeps its coordinates (A is on B's grid); the straddling
    # box's centre (36) is in B's half, so it shifts and is clipped at B's left edge.
    np.testing.assert_array_equal(mapped, [[6.0, 2.0, 16.0, 12.0], [5.0, 3.0, 15.0, 9.0], [0.0, 0.0, 10.0, 20.0]])
    np.testing.assert_array_equal(kept, scores)
    only_b, only_b_scores = canvas_boxes_to_b(boxes, scores, layout, a_half="drop")
    np.testing.assert_array_equal(only_b, mapped[[0, 2]])
    np.testing.assert_array_equal(only_b_scores, [0.9, 0.7])


def test_canvas_rejects_unknown_policy_and_mismatched_images() -> None:
    _, layout = compose_canvas(Image.new("RGB", (8, 8)), Image.new("RGB", (8, 8)))
    with pytest.raises(ValueError, match="a_half"):
        canvas_boxes_to_b(np.zeros((0, 4)), np.zeros(0), layout, a_half="keep")
    with pytest.raises(ValueError, match="share a size"):
        compose_canvas(Image.new("RGB", (8, 8)), Image.new("RGB", (9, 8)))


def test_owlv2_boxes_are_fractions_of_the_padded_square() -> None:
    # A 200x100 image is padded to 200x200 at the bottom: a box in its lower half of the image
    # is at y = 0.25..0.5 of the square, not 0.5..1 of the image.
    frame = padded_square((200, 100))
    assert frame == (200, 200)
    boxes = torch.tensor([[0.5, 0.375, 0.2, 0.25]])  # cx, cy, w, h of the square
    found = candidates_from_normalized(boxes, torch.tensor([0.7]), frame, (200, 100), limit=5, threshold=0.0)
    np.testing.assert_allclose(found.boxes, [[80.0, 50.0, 120.0, 100.0]])


def test_owlv2_processor_pads_at_bottom_right() -> None:
    from transformers import Owlv2ImageProcessor

    processor = Owlv2ImageProcessor(size={"height": 32, "width": 32})
    image = Image.new("RGB", (64, 32), (255, 255, 255))
    pixels = processor(images=image, return_tensors="pt")["pixel_values"][0]
    # White image on top, the grey padding below: the image sits at the square's top-left.
    assert pixels[:, :12].mean() > pixels[:, 20:].mean() + 0.5


def test_candidates_are_clipped_ranked_and_limited() -> None:
    boxes = torch.tensor([[0.5, 0.5, 0.2, 0.2], [0.95, 0.5, 0.2, 0.2], [0.5, 0.5, 1.0, 1.0]])
    scores = torch.tensor([0.2, 0.9, 0.5])
    found = candidates_from_normalized(boxes, scores, (100, 50), (100, 50), limit=2, threshold=0.0)
    np.testing.assert_allclose(found.scores, [0.9, 0.5])
    np.testing.assert_allclose(found.boxes, [[85.0, 20.0, 100.0, 30.0], [0.0, 0.0, 100.0, 50.0]])
    high = candidates_from_normalized(boxes, scores, (100, 50), (100, 50), limit=5, threshold=0.4)
    assert len(high.boxes) == 2


def test_box_iou_matrix() -> None:
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [5.0, 5.0, 15.0, 15.0]])
    iou = box_iou_matrix(boxes, np.array([[0.0, 0.0, 10.0, 10.0], [20.0, 20.0, 20.0, 20.0]]))
    np.testing.assert_allclose(iou, [[1.0, 0.0], [25.0 / 175.0, 0.0]])
