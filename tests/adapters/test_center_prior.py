"""center-prior answers one centred box of the configured size, whatever the images say."""

from __future__ import annotations

import numpy as np
import pytest

from idg_adapters.center_prior import CenterPriorAdapter


def test_default_box_is_centred_30_percent(pair_factory) -> None:
    (prediction,) = CenterPriorAdapter().predict([pair_factory("p", (100, 50), [], [])])
    np.testing.assert_allclose(prediction.boxes, [[35.0, 17.5, 65.0, 32.5]])
    np.testing.assert_array_equal(prediction.scores, [1.0])


def test_fractions_are_options(pair_factory) -> None:
    adapter = CenterPriorAdapter(width_fraction=1.0, height_fraction=0.5)
    (prediction,) = adapter.predict([pair_factory("p", (64, 48), [], [])])
    np.testing.assert_allclose(prediction.boxes, [[0.0, 12.0, 64.0, 36.0]])


def test_ignores_image_a_and_the_query(pair_factory) -> None:
    red = ((0, 0, 10, 10), (255, 0, 0))
    one = CenterPriorAdapter().predict([pair_factory("p", (64, 48), [red], [], query="a")])[0]
    other = CenterPriorAdapter().predict([pair_factory("q", (64, 48), [], [], query="b")])[0]
    np.testing.assert_array_equal(one.boxes, other.boxes)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_rejects_fractions_outside_0_1(fraction: float) -> None:
    with pytest.raises(ValueError, match="width_fraction"):
        CenterPriorAdapter(width_fraction=fraction)
