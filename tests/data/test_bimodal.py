"""tfgm.data.bimodal: the draws follow the mixture and the log density is the mixture's, normalized."""

import math

import numpy as np
import pytest

from tfgm.data import bimodal


def test_draws_have_the_mixture_moments_and_are_reproducible():
    x = bimodal.sample(40000, 0)
    assert x.shape == (40000, 1) and x.dtype == np.float32
    assert float(x.mean()) == pytest.approx(-0.25, abs=0.03)  # ½(−2) + ½(1.5)
    assert float(x.var()) == pytest.approx(0.5 * (0.25 + 0.64) + 0.25 * 3.5 ** 2, rel=0.03)
    np.testing.assert_array_equal(bimodal.sample(5, (3, 2)), bimodal.sample(5, (3, 2)))


def test_log_density_is_the_normalized_mixture():
    grid = np.linspace(-10, 10, 20001)[:, None]
    assert float(np.exp(bimodal.log_density(grid)).sum() * 0.001) == pytest.approx(1, abs=1e-6)
    at = np.array([[-2.0], [1.5]])
    by_hand = [0.5 / (0.5 * math.sqrt(2 * math.pi)) * math.exp(-0.5 * ((a - -2.0) / 0.5) ** 2)
               + 0.5 / (0.8 * math.sqrt(2 * math.pi)) * math.exp(-0.5 * ((a - 1.5) / 0.8) ** 2) for a in (-2.0, 1.5)]
    np.testing.assert_allclose(np.exp(bimodal.log_density(at)), by_hand, rtol=1e-12)
