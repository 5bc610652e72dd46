import math

import numpy as np
import pytest
import tensorflow as tf

from tfgm.losses import likelihoods as L

rng = np.random.default_rng(0)


def _np_logistic_cdf(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_soft_floor(x, floor, knee=1.0):
    return np.where(x > floor + knee, x, floor + knee * np.exp((np.minimum(x, floor + knee) - floor - knee) / knee))


def test_gaussian_matches_hand_computation_and_floors_softly():
    x = rng.random((3, 4, 4, 2)).astype("float32")
    mean = rng.random((3, 4, 4, 2)).astype("float32")
    log_sigma = rng.normal(size=(4, 4, 2)).astype("float32") * 1.5 - 3.0
    assert (log_sigma < -4.0).any() and (log_sigma > -4.0).any()  # both sides of the knee
    ls = _np_soft_floor(log_sigma, -5.0)
    hand = (-0.5 * np.log(2 * np.pi) - ls - 0.5 * ((x - mean) / np.exp(ls)) ** 2).reshape(3, -1).sum(1)
    np.testing.assert_allclose(L.gaussian_log_likelihood(x, mean, log_sigma).numpy(), hand, rtol=1e-4)
    very_small = np.full((4, 4, 2), -50.0, "float32")
    floored = L.gaussian_log_likelihood(x, mean, very_small).numpy()
    sigma_at_floor = np.exp(-5.0)
    at_floor = (-0.5 * np.log(2 * np.pi) + 5.0 - 0.5 * ((x - mean) / sigma_at_floor) ** 2).reshape(3, -1).sum(1)
    np.testing.assert_allclose(floored, at_floor, rtol=1e-5)


def test_soft_floor_keeps_a_gradient_below_the_floor_and_is_the_identity_above_the_knee():
    x = tf.constant(np.linspace(-40.0, 5.0, 4501), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = L.soft_floor(x, -5.0, knee=1.0)
    grad = tape.gradient(y, x).numpy()
    x, y = x.numpy(), y.numpy()
    above = x > -4.0
    np.testing.assert_array_equal(y[above], x[above])
    assert (y >= -5.0).all() and (np.diff(y) >= 0).all()
    assert (grad[x < -5.0] > 0).all()  # max(x, -5) has gradient exactly 0 here
    np.testing.assert_allclose(grad[np.argmax(x > -4.0) - 1], 1.0, atol=2e-3)  # C¹ at the knee
    with pytest.raises(ValueError, match="knee"):
        L.soft_floor(x, -5.0, knee=0.0)


def test_a_log_sigma_pushed_below_the_floor_climbs_back():
    log_sigma = tf.Variable(tf.fill([4], -12.0))
    x = tf.constant(rng.normal(size=(64, 4)), tf.float32)  # residuals of scale 1: the optimum is log σ = 0
    for _ in range(200):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(L.gaussian_log_likelihood(x, tf.zeros_like(x), log_sigma))
        log_sigma.assign_sub(0.5 * tf.sign(tape.gradient(loss, log_sigma)))
    assert float(tf.reduce_min(log_sigma)) > -1.0


def test_bernoulli_matches_hand_computation():
    x = rng.random((2, 5)).astype("float32")
    p = rng.uniform(0.05, 0.95, (2, 5)).astype("float32")
    hand = (x * np.log(p) + (1 - x) * np.log(1 - p)).sum(1)
    np.testing.assert_allclose(L.bernoulli_log_likelihood(x, p).numpy(), hand, rtol=1e-4)


def test_bernoulli_is_finite_at_saturated_probabilities():
    x = np.array([[0.0, 1.0]], "float32")
    p = np.array([[1.0, 0.0]], "float32")
    assert np.isfinite(L.bernoulli_log_likelihood(x, p).numpy()).all()


def test_discretized_logistic_matches_hand_computation_including_edges():
    k = np.array([[0, 1, 128, 254, 255]], "float32")
    x = k / 255.0
    mean = np.array([[0.01, 0.2, 0.5, 0.97, 0.9]], "float32")
    log_scale = np.array([[-3.0, -4.0, -2.5, -5.0, -3.5]], "float32")
    loc, s = mean * 255.0, np.exp(log_scale) * 255.0
    upper = _np_logistic_cdf((k + 0.5 - loc) / s)
    lower = _np_logistic_cdf((k - 0.5 - loc) / s)
    prob = np.where(k == 0, upper, np.where(k == 255, 1 - lower, upper - lower))
    hand = np.log(prob).sum(1)
    np.testing.assert_allclose(L.discretized_logistic_log_likelihood(x, mean, log_scale).numpy(), hand, rtol=1e-4)


def test_discretized_logistic_sums_to_one_over_bins():
    bins = np.arange(256, dtype="float32")[:, None] / 255.0
    mean = np.full((256, 1), 0.3, "float32")
    log_scale = np.full((256, 1), -3.0, "float32")
    total = np.exp(L.discretized_logistic_log_likelihood(bins, mean, log_scale).numpy()).sum()
    assert total == pytest.approx(1.0, abs=1e-4)


def test_gaussian_kl_matches_hand_computation_and_is_zero_at_prior():
    mean = rng.normal(size=(4, 3)).astype("float32")
    log_var = rng.normal(size=(4, 3)).astype("float32")
    var = np.exp(log_var)
    hand = 0.5 * (mean**2 + var - 1 - log_var).sum(1)
    np.testing.assert_allclose(L.gaussian_kl(mean, log_var).numpy(), hand, rtol=1e-5)
    assert np.abs(L.gaussian_kl(np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")).numpy()).max() == 0.0


def test_gaussian_log_density_matches_hand_computation():
    z = rng.normal(size=(2, 3)).astype("float32")
    hand = (-0.5 * np.log(2 * math.pi) - 0.5 * z**2).sum(1)
    np.testing.assert_allclose(L.gaussian_log_density(z, np.zeros_like(z), np.zeros_like(z)).numpy(), hand, rtol=1e-5)


def test_bound_log_var_is_the_identity_below_the_knee_smooth_at_it_and_below_the_limit():
    x = tf.constant(np.linspace(-20.0, 40.0, 6001), tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = L.bound_log_var(x, limit=8.0, knee=4.0)
    grad = tape.gradient(y, x).numpy()
    x, y = x.numpy(), y.numpy()
    below = x < 4.0
    np.testing.assert_array_equal(y[below], x[below])
    np.testing.assert_array_equal(grad[below], 1.0)
    assert (y <= 8.0).all() and y.max() > 7.99 and (np.diff(y) >= 0).all()
    assert (grad[~below] > 0).all() and (grad[~below] <= 1.0).all()
    np.testing.assert_allclose(grad[np.argmax(x >= 4.0)], 1.0, atol=1e-6)  # C¹ at the knee
    with pytest.raises(ValueError, match="knee"):
        L.bound_log_var(x, knee=0.0)
