"""Robust mode: B is misregistered, jittered and JPEG-compressed; boxes and masks follow B."""

from __future__ import annotations

import numpy as np
from PIL import Image

from harness.data.manifest import read_manifest
from harness.data.synth.robust import RobustParams, perturb_image, warp_mask


def test_robust_samples_record_params_and_boxes_cover_masks(synth_robust):
    root, report = synth_robust
    result = read_manifest(root)
    assert result.problems == [] and len(result.samples) == report.total_queries
    for s in result.samples:
        params = s.attributes["robust"]
        assert set(params) == {"shift_px", "rotation_deg", "brightness", "contrast", "jpeg_quality"}
        assert abs(params["rotation_deg"]) <= 2.0 and all(abs(v) <= 4.0 for v in params["shift_px"])
        assert s.image_b.endswith(".jpg") and s.image_a.endswith(".png")
        mask = np.asarray(Image.open(root / s.mask_b)) > 0
        ys, xs = np.nonzero(mask)
        assert xs.size > 0
        x1, y1, x2, y2 = s.box
        assert xs.min() >= x1 and xs.max() + 1 <= x2 and ys.min() >= y1 and ys.max() + 1 <= y2
        assert Image.open(root / s.image_b).size == (s.width, s.height)


def test_warp_moves_masks_like_the_image():
    image = np.zeros((100, 120, 3), dtype=np.uint8)
    image[40:60, 30:50] = 255
    params = RobustParams(shift_px=(3.0, -2.0), rotation_deg=0.0, brightness=1.0, contrast=1.0, jpeg_quality=90)
    warped = perturb_image(image, params)[..., 0] > 127
    mask = warp_mask(image[..., 0] > 127, params)
    ys, xs = np.nonzero(mask)
    assert (xs.min(), ys.min()) == (33, 38)
    assert (warped == mask).mean() > 0.99
