"""Mode coverage on the 25-Gaussian grid: high quality within 3σ, a mode covered with ≥ 0.2 × N/25 HQ samples."""

import numpy as np

from tfgm.data import gaussian_grid
from tfgm.metrics import mode_coverage as coverage_metric
from tfgm.metrics.mode_coverage import mode_coverage


def coverage(samples, std):
    return mode_coverage(samples, gaussian_grid.centers(), std)


def test_mode_coverage_definitions():
    centers = gaussian_grid.centers()
    exact = coverage(np.repeat(centers, 4, axis=0), std=0.05)
    assert exact["modes_covered"] == 25 and exact["high_quality_share"] == 1.0
    one = coverage(np.zeros((100, 2)) + [2.0, 2.1], std=0.05)
    assert one["modes_covered"] == 1 and one["per_mode_counts"][18] == 100
    outside = coverage(np.zeros((100, 2)) + [2.0, 2.16], std=0.05)  # 3.2σ away
    assert outside["modes_covered"] == 0 and outside["high_quality_share"] == 0.0
    sparse = np.concatenate([np.repeat(centers[:1], 19, axis=0), np.full((2481, 2), 9.0)])
    assert coverage(sparse, std=0.05)["modes_covered"] == 0  # 19 < 0.2 × 2500 / 25 = 20


def test_threshold_counts_and_other_centres():
    """Two modes of three in 1-D: 7 HQ samples at 0 (covered: 7 ≥ 0.5 × 12/3 = 2), 2 at 10 (covered), 1 at 20
    (not: 1 < 2), 2 far away (low quality)."""
    centers = np.array([[0.0], [10.0], [20.0]])
    samples = np.array([[0.0]] * 6 + [[0.29]] + [[10.1], [9.9]] + [[20.0]] + [[5.0], [15.0]])
    result = mode_coverage(samples, centers, std=0.1, min_fraction=0.5)
    assert result["per_mode_counts"] == [7, 2, 1] and result["modes_covered"] == 2 and result["modes_total"] == 3
    assert result["high_quality_share"] == 10 / 12 and result["min_high_quality_samples_per_mode"] == 2.0
    assert coverage_metric is mode_coverage  # exported by tfgm.metrics
