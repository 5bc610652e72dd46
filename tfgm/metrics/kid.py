"""Kernel Inception Distance (Bińkowski et al. 2018). NumPy only, float64.

Unbiased MMD² between two feature sets with the cubic polynomial kernel k(x, y) = (xᵀy/d + 1)³,
averaged over random subsets drawn without replacement.
"""

import numpy as np


def _polynomial_kernel(x, y):
    return (x @ y.T / x.shape[1] + 1.0) ** 3


def _mmd2_unbiased(x, y):
    """Unbiased MMD² of x [m, d] and y [m, d] (diagonals of K_xx and K_yy excluded)."""
    m = x.shape[0]
    k_xx = _polynomial_kernel(x, x)
    k_yy = _polynomial_kernel(y, y)
    k_xy = _polynomial_kernel(x, y)
    term_xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    term_yy = (k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
    return term_xx + term_yy - 2.0 * k_xy.mean()


def kernel_inception_distance(feat1, feat2, subsets=100, subset_size=1000, seed=0):
    """KID of features ``feat1`` [N1, D] and ``feat2`` [N2, D].

    Each of ``subsets`` rounds draws ``subset_size`` rows (clipped to min(N1, N2)) from each set
    without replacement and computes the unbiased MMD²; returns (mean, std) over rounds as Python
    floats (std ddof=0). Can be slightly negative for matching distributions.
    """
    x = np.asarray(feat1, dtype=np.float64)
    y = np.asarray(feat2, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(
            f"kernel_inception_distance: expected [N1, D] and [N2, D] features, got {x.shape} "
            f"and {y.shape}."
        )
    m = min(int(subset_size), x.shape[0], y.shape[0])
    if m < 2 or int(subsets) < 1:
        raise ValueError(
            f"kernel_inception_distance: need subsets >= 1 and at least 2 rows per subset, got "
            f"subsets={subsets}, subset_size={subset_size}, N1={x.shape[0]}, N2={y.shape[0]}."
        )
    rng = np.random.default_rng(seed)
    values = np.empty(int(subsets))
    for i in range(int(subsets)):
        xs = x[rng.choice(x.shape[0], m, replace=False)]
        ys = y[rng.choice(y.shape[0], m, replace=False)]
        values[i] = _mmd2_unbiased(xs, ys)
    return float(values.mean()), float(values.std())
