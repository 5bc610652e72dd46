"""Kernel Inception Distance against a direct numpy computation."""

import numpy as np
import pytest

from tfgm.metrics.kid import kernel_inception_distance


def direct_mmd2(x, y):
    """Unbiased MMD² written out with explicit loops over pairs."""
    d = x.shape[1]
    k = lambda a, b: (a @ b / d + 1.0) ** 3  # noqa: E731
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_matches_direct_computation_on_tiny_case():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 3)), rng.normal(loc=0.5, size=(6, 3))
    mean, std = kernel_inception_distance(x, y, subsets=1, subset_size=6)
    np.testing.assert_allclose(mean, direct_mmd2(x, y), rtol=1e-10)
    assert std == 0.0


def test_subset_size_clipped_to_smaller_set():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(5, 2)), rng.normal(size=(9, 2))
    mean, _ = kernel_inception_distance(x, y, subsets=1, subset_size=1000, seed=3)
    # all 5 rows of x are used (permutation-invariant); y gets a 5-row subset
    idx_rng = np.random.default_rng(3)
    idx_rng.choice(5, 5, replace=False)
    ys = y[idx_rng.choice(9, 5, replace=False)]
    np.testing.assert_allclose(mean, direct_mmd2(x, ys), rtol=1e-10)


def test_same_distribution_near_zero_shifted_positive():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    shifted = rng.normal(loc=1.0, size=(400, 8))
    same_mean, same_std = kernel_inception_distance(a, b, subsets=10, subset_size=200)
    shift_mean, _ = kernel_inception_distance(a, shifted, subsets=10, subset_size=200)
    assert abs(same_mean) < 0.05
    assert shift_mean > 1.0
    assert shift_mean > 20 * abs(same_mean)
    assert same_std > 0.0


def test_deterministic_in_seed():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(30, 4)), rng.normal(size=(30, 4))
    r1 = kernel_inception_distance(a, b, subsets=3, subset_size=10, seed=7)
    r2 = kernel_inception_distance(a, b, subsets=3, subset_size=10, seed=7)
    assert r1 == r2


def test_errors():
    with pytest.raises(ValueError, match="N1, D"):
        kernel_inception_distance(np.zeros((4, 2)), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(np.zeros((1, 2)), np.zeros((4, 2)))
