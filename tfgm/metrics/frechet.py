"""Fréchet distance between Gaussians fitted to features (FID when the features are Inception pool
features). NumPy only, float64.

FID = ‖μ1 - μ2‖² + Tr(C1 + C2 - 2(C1·C2)^½). Tr((C1·C2)^½) equals Tr((√C1·C2·√C1)^½), and
√C1·C2·√C1 is symmetric positive semi-definite, so the trace is the sum of the square roots of its
(clipped) eigenvalues — no general matrix square root, no complex parts. Always report the
feature network and both sample counts with the number.
"""

import numpy as np


def _psd_sqrt(matrix):
    """Symmetric square root of a symmetric PSD matrix via eigh (tiny negative eigenvalues -> 0)."""
    w, v = np.linalg.eigh(matrix)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def _check_stats(mu, sigma, which):
    mu = np.asarray(mu, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(
            f"frechet_distance: {which} statistics must be mu [D] and sigma [D, D]; got mu "
            f"{mu.shape} and sigma {sigma.shape}. Compute them with feature_statistics(features)."
        )
    if not (np.all(np.isfinite(mu)) and np.all(np.isfinite(sigma))):
        raise ValueError(f"frechet_distance: {which} statistics contain NaN or inf.")
    return mu, 0.5 * (sigma + sigma.T)


def frechet_distance(mu1, sigma1, mu2, sigma2):
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``mu*``: [D]; ``sigma*``: [D, D] symmetric PSD. Returns a Python float ≥ 0 (up to rounding).
    """
    mu1, sigma1 = _check_stats(mu1, sigma1, "first")
    mu2, sigma2 = _check_stats(mu2, sigma2, "second")
    if mu1.shape != mu2.shape:
        raise ValueError(
            f"frechet_distance: feature dimensions differ ({mu1.shape[0]} vs {mu2.shape[0]}); both "
            "sets must come from the same feature layer."
        )
    sqrt1 = _psd_sqrt(sigma1)
    product = sqrt1 @ sigma2 @ sqrt1
    eigvals = np.linalg.eigvalsh(0.5 * (product + product.T))
    trace_sqrt = np.sum(np.sqrt(np.clip(eigvals, 0.0, None)))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt)


def feature_statistics(features):
    """Mean [D] and unbiased (ddof=1) covariance [D, D], float64, of features [N, D] (N ≥ 2)."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(
            f"feature_statistics: expected features of shape [N, D] with N >= 2, got {x.shape}."
        )
    mu = x.mean(axis=0)
    centered = x - mu
    return mu, centered.T @ centered / (x.shape[0] - 1)


class StreamingStatistics:
    """Mean and unbiased covariance accumulated batch by batch in float64.

    Merges per-batch means and centered scatter matrices (Chan et al.'s parallel update), so the
    result matches ``feature_statistics`` on the concatenation without holding all features and
    without the cancellation of raw sums of squares.
    """

    def __init__(self):
        self._count = 0
        self._mean = None
        self._scatter = None

    @property
    def count(self):
        """Number of feature vectors seen so far."""
        return self._count

    def update(self, batch):
        """Add a batch of features [n, D] (array-like; a TF tensor works via np.asarray)."""
        x = np.asarray(batch, dtype=np.float64)
        if x.ndim != 2:
            raise ValueError(f"StreamingStatistics.update: expected [n, D], got shape {x.shape}.")
        if self._mean is not None and x.shape[1] != self._mean.shape[0]:
            raise ValueError(
                f"StreamingStatistics.update: feature dimension {x.shape[1]} differs from the "
                f"{self._mean.shape[0]} seen before."
            )
        n = x.shape[0]
        if n == 0:
            return
        batch_mean = x.mean(axis=0)
        centered = x - batch_mean
        batch_scatter = centered.T @ centered
        if self._mean is None:
            self._count, self._mean, self._scatter = n, batch_mean, batch_scatter
            return
        total = self._count + n
        delta = batch_mean - self._mean
        cross = np.outer(delta, delta) * (self._count * n / total)
        self._scatter = self._scatter + batch_scatter + cross
        self._mean = self._mean + delta * (n / total)
        self._count = total

    def result(self):
        """Returns (mu [D], sigma [D, D]) in float64; needs at least 2 vectors."""
        if self._count < 2:
            raise ValueError(
                f"StreamingStatistics.result: need at least 2 feature vectors, have {self._count}."
            )
        return self._mean.copy(), self._scatter / (self._count - 1)
