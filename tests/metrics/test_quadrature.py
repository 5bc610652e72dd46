"""tfgm.metrics.quadrature: Gaussian normalizers in 1-D and 2-D and the total variation of two Gaussians, against
their closed forms."""

import math

import numpy as np
import pytest

from tfgm.metrics import box_grid, log_densities_on_grid, log_partition_on_grid, total_variation_on_grid


def test_box_grid_midpoints_and_cell():
    grid, cell = box_grid([(0, 1), (-1, 1)], 4)
    assert grid.shape == (16, 2) and cell == pytest.approx(0.25 * 0.5)
    np.testing.assert_allclose(np.unique(grid[:, 0]), [0.125, 0.375, 0.625, 0.875])
    with pytest.raises(ValueError, match="low < high"):
        box_grid([(1, 0)], 10)


def test_gaussian_log_partitions():
    sigma = 0.7
    one = log_partition_on_grid(lambda x: 0.5 * (x[:, 0] / sigma) ** 2 + 3.0, [(-8, 8)])
    assert one == pytest.approx(math.log(sigma * math.sqrt(2 * math.pi)) - 3.0, abs=1e-6)
    two = log_partition_on_grid(lambda x: 0.5 * ((x[:, 0] / sigma) ** 2 + (x[:, 1] - 1) ** 2), [(-6, 6), (-5, 7)],
                                points=400)
    assert two == pytest.approx(math.log(2 * math.pi * sigma), abs=1e-4)


def test_total_variation_of_two_unit_gaussians():
    shift = 1.3

    def normal(mean):
        return lambda x: -0.5 * (x[:, 0] - mean) ** 2 - 0.5 * math.log(2 * math.pi)

    log_p, cell = log_densities_on_grid(normal(0.0), [(-10, 10)])
    log_q, _ = log_densities_on_grid(normal(shift), [(-10, 10)])
    assert total_variation_on_grid(log_p, log_q, cell) == pytest.approx(math.erf(shift / (2 * math.sqrt(2))), abs=1e-5)
    assert total_variation_on_grid(log_p, log_p, cell) == 0.0
