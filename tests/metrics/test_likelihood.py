"""ELBO and importance-weighted NLL against a linear-Gaussian model whose log p(x) is exact."""

import numpy as np
import pytest
import tensorflow as tf

from tfgm import metrics

LATENT, DIM, SIGMA, EXAMPLES = 2, 3, 0.5, 256


class LinearGaussian:
    """z ~ N(0, I₂), x | z ~ N(Wz + b, σ²I₃) with orthogonal columns of W (so the exact posterior is diagonal);
    q(z|x) = the exact posterior, optionally widened and shifted."""

    latent_dim = LATENT

    def __init__(self, widen=0.0, shift=0.0):
        rng = np.random.default_rng(1)
        basis, _ = np.linalg.qr(rng.normal(size=(DIM, LATENT)))
        self.w = (basis * np.array([1.5, 0.7])).astype("float32")
        self.b = rng.normal(size=DIM).astype("float32")
        precision = np.eye(LATENT) + self.w.T @ self.w / SIGMA**2
        self.post_cov = np.linalg.inv(precision)
        self.post_gain = (self.post_cov @ self.w.T / SIGMA**2).astype("float32")
        self.log_var = (np.log(np.diag(self.post_cov)) + widen).astype("float32")
        self.shift = np.float32(shift)

    def encode(self, x):
        mean = tf.matmul(x - self.b, self.post_gain, transpose_b=True) + self.shift
        return mean, tf.broadcast_to(self.log_var, tf.shape(mean))

    def decode(self, z):
        return tf.matmul(z, self.w, transpose_b=True) + self.b

    def log_px_given_z(self, x, mean):
        return tf.reduce_sum(-0.5 * np.log(2 * np.pi) - np.log(SIGMA) - 0.5 * tf.square((x - mean) / SIGMA), axis=-1)

    def exact_nll(self, x):
        cov = self.w @ self.w.T + SIGMA**2 * np.eye(DIM)
        diff = x - self.b
        _, logdet = np.linalg.slogdet(cov)
        maha = np.einsum("bi,ij,bj->b", diff, np.linalg.inv(cov), diff)
        return 0.5 * (DIM * np.log(2 * np.pi) + logdet + maha)


def _data(model):
    rng = np.random.default_rng(2)
    z = rng.normal(size=(EXAMPLES, LATENT))
    x = (z @ model.w.T + model.b + SIGMA * rng.normal(size=(EXAMPLES, DIM))).astype("float32")
    return x, tf.data.Dataset.from_tensor_slices({"image": x}).batch(64)


def test_the_exact_posterior_gives_the_exact_likelihood_for_every_k():
    model = LinearGaussian()
    x, dataset = _data(model)
    exact = float(np.mean(model.exact_nll(x)))
    for k in (1, 10):
        iw_nll = metrics.importance_weighted_nll(model, dataset, num_samples=k)["iw_nll"]
        assert iw_nll == pytest.approx(exact, abs=1e-3)
    assert -metrics.elbo(model, dataset)["elbo"] == pytest.approx(exact, abs=0.15)  # one-sample E log p(x|z)


def test_iw_estimate_approaches_the_exact_nll_from_above_and_the_elbo_is_below():
    model = LinearGaussian(widen=1.5, shift=0.3)  # a poor q: the K = 1 bound is loose
    x, dataset = _data(model)
    exact = float(np.mean(model.exact_nll(x)))
    estimates = [metrics.importance_weighted_nll(model, dataset, num_samples=k, seed=3)["iw_nll"]
                 for k in (1, 10, 100, 1000)]
    gaps = [e - exact for e in estimates]
    assert gaps[0] > 0.3, gaps  # the loose bound really is loose
    assert gaps[0] > gaps[1] > gaps[2] > gaps[3] > -0.01, gaps  # tighter with K, never below (beyond noise)
    assert gaps[3] < 0.02, gaps
    result = metrics.elbo(model, dataset, seed=3)
    assert -result["elbo"] > exact + 0.3
    assert result["elbo"] == pytest.approx(result["log_px"] - result["kl"], rel=1e-6)
    assert result["num_examples"] == EXAMPLES
