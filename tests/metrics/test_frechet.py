"""Fréchet distance and feature statistics against independent computations."""

import numpy as np
import pytest

from tfgm.metrics.frechet import StreamingStatistics, feature_statistics, frechet_distance


def random_spd(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_identical_statistics_give_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.normal(size=6), random_spd(rng, 6)
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6


def test_diagonal_closed_form():
    a = np.array([1.0, 4.0, 0.25, 2.0])
    b = np.array([9.0, 1.0, 0.25, 0.5])
    mu1, mu2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.5])
    expected = np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) + np.sum((mu1 - mu2) ** 2)
    got = frechet_distance(mu1, np.diag(a), mu2, np.diag(b))
    np.testing.assert_allclose(got, expected, rtol=1e-10)
    assert isinstance(got, float)


def test_full_covariance_matches_eig_of_product_and_is_symmetric():
    rng = np.random.default_rng(1)
    d = 5
    mu1, mu2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = random_spd(rng, d), random_spd(rng, d)
    eig = np.linalg.eigvals(c1 @ c2)  # independent: non-symmetric product, real positive spectrum
    trace_sqrt = np.sum(np.sqrt(eig.real))
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2) - 2 * trace_sqrt
    got = frechet_distance(mu1, c1, mu2, c2)
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    np.testing.assert_allclose(frechet_distance(mu2, c2, mu1, c1), got, rtol=1e-8)
    assert got > 0.1


def test_singular_covariance_is_finite():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 6))  # N < D: rank-deficient covariance
    mu, sigma = feature_statistics(x)
    value = frechet_distance(mu, sigma, mu, sigma)
    assert np.isfinite(value) and abs(value) < 1e-6


def test_feature_statistics_unbiased():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(7, 3)).astype(np.float32)
    mu, sigma = feature_statistics(x)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(axis=0), rtol=1e-12)
    ref = np.cov(x.astype(np.float64), rowvar=False, ddof=1)
    np.testing.assert_allclose(sigma, ref, rtol=1e-10)


def test_streaming_matches_concatenation():
    rng = np.random.default_rng(4)
    batches = [rng.normal(loc=100.0, size=(n, 4)) for n in (5, 1, 8, 3)]
    stats = StreamingStatistics()
    for b in batches:
        stats.update(b.astype(np.float32))
    assert stats.count == 17
    mu, sigma = stats.result()
    ref_mu, ref_sigma = feature_statistics(np.concatenate(batches).astype(np.float32))
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-12)
    np.testing.assert_allclose(sigma, ref_sigma, rtol=1e-9, atol=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="feature dimensions differ"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match=r"\[N, D\]"):
        feature_statistics(np.zeros((1, 3)))
    stats = StreamingStatistics()
    stats.update(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="at least 2"):
        stats.result()
    with pytest.raises(ValueError, match="dimension"):
        stats.update(np.zeros((2, 3)))
