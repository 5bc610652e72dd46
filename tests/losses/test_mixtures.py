import numpy as np
import pytest
import tensorflow as tf

from tfgm.losses import mixtures as M
from tfgm.losses.likelihoods import discretized_logistic_log_likelihood

rng = np.random.default_rng(0)


def _np_soft_floor(x, floor, knee=1.0):
    return np.where(x > floor + knee, x, floor + knee * np.exp((np.minimum(x, floor + knee) - floor - knee) / knee))


def _np_log_sigmoid(z):
    return -np.logaddexp(0.0, -z)


def _np_log_bin_mass(lo, hi):
    """float64 log(σ(hi) − σ(lo)), lo < hi, without cancellation (upper side by symmetry)."""
    upper = lo + hi > 0
    a, b = np.where(upper, -hi, lo), np.where(upper, -lo, hi)
    return _np_log_sigmoid(b) + np.log(-np.expm1(_np_log_sigmoid(a) - _np_log_sigmoid(b)))


def _head(k, channels, means, log_scales, logits=None, coeff_logits=None):
    """A [P] head from per-component values: means, log_scales [K, C]; logits [K]; coeff_logits [K, C(C−1)/2]."""
    logits = np.zeros(k) if logits is None else logits
    pairs = channels * (channels - 1) // 2
    coeff_logits = np.zeros((k, pairs)) if coeff_logits is None else coeff_logits
    return np.concatenate([logits, np.ravel(means), np.ravel(log_scales), np.ravel(coeff_logits)]).astype("float32")


def _all_pixels(channels, bins):
    """Every colour of a pixel, [bins**C, 1, 1, C] in [0, 1]."""
    grid = np.stack(np.meshgrid(*[np.arange(bins)] * channels, indexing="ij"), -1).reshape(-1, 1, 1, channels)
    return (grid / (bins - 1)).astype("float32")


def _log_lik_of_every_pixel(head, channels, bins, **kwargs):
    x = _all_pixels(channels, bins)
    params = np.broadcast_to(head, (len(x), 1, 1, head.size))
    return x, M.logistic_mixture_log_likelihood(x, params, bins=bins, **kwargs).numpy()


# ------------------------------------------------------------------------------------------------ head layout


def test_head_size_and_split_follow_the_documented_layout():
    assert M.logistic_mixture_channels(10) == 100  # PixelCNN++: 10 components × 10 for RGB
    assert M.logistic_mixture_channels(5, channels=1) == 15
    k, c = 2, 3
    params = np.arange(M.logistic_mixture_channels(k, c), dtype="float32").reshape(1, 1, 1, -1) / 100.0
    parts = M.split_logistic_mixture(params, c)
    assert parts["logits"].shape == (1, 1, 1, k) and parts["coeffs"].shape == (1, 1, 1, k, 3)
    np.testing.assert_allclose(parts["logits"][0, 0, 0], [0.0, 0.01])
    np.testing.assert_allclose(parts["means"][0, 0, 0, 1, 2], (k + 1 * c + 2) / 100.0)
    np.testing.assert_allclose(parts["log_scales"][0, 0, 0, 0, 1], (k + k * c + 1) / 100.0)
    np.testing.assert_allclose(parts["coeffs"][0, 0, 0, 1, 0], np.tanh((k + 2 * k * c + 3) / 100.0), rtol=1e-6)


# ------------------------------------------------------------------------------------------ normalization


@pytest.mark.parametrize("exact_tails", [False, True])
def test_grey_mixture_sums_to_one_over_the_256_values_of_a_pixel(exact_tails):
    # One component on each edge (mass in the tail bins), one narrow in the middle, one broad.
    means = np.array([[0.02], [0.5], [0.97], [0.3]])
    log_scales = np.array([[-3.0], [-6.5], [-4.0], [-1.0]])
    head = _head(4, 1, means, log_scales, logits=np.array([0.3, -0.2, 0.5, 0.0]))
    _, log_lik = _log_lik_of_every_pixel(head, 1, 256, exact_tails=exact_tails)
    assert log_lik.shape == (256,)
    assert np.exp(log_lik).sum() == pytest.approx(1.0, abs=1e-4)


def test_rgb_mixture_with_channel_dependence_sums_to_one_over_every_colour():
    k = 2
    means = rng.uniform(0.1, 0.9, (k, 3))
    log_scales = rng.uniform(-2.5, -1.5, (k, 3))
    head = _head(k, 3, means, log_scales, logits=np.array([0.4, -0.4]), coeff_logits=rng.normal(size=(k, 3)))
    _, log_lik = _log_lik_of_every_pixel(head, 3, 16)
    assert np.exp(log_lik).sum() == pytest.approx(1.0, abs=1e-4)


def test_rgb_mixture_equals_a_numpy_hand_computation_of_the_paper_formula():
    k = 2
    means = rng.uniform(0.2, 0.8, (k, 3))
    log_scales = rng.uniform(-3.0, -1.0, (k, 3))
    logits = np.array([0.7, -0.3])
    coeff_logits = rng.normal(size=(k, 3))
    head = _head(k, 3, means, log_scales, logits, coeff_logits)
    x = rng.integers(0, 256, (6, 1, 1, 3))
    x[0, 0, 0] = [0, 255, 128]  # both edges
    xf = (x / 255.0).astype("float32")
    params = np.broadcast_to(head, (6, 1, 1, head.size))
    ours = M.logistic_mixture_log_likelihood(xf, params).numpy()

    a = np.tanh(coeff_logits)  # (g←r, b←r, b←g)
    v = x[:, 0, 0, :] / 255.0  # [6, 3]
    hand = np.zeros((6, k))
    for j in range(k):
        mu = np.stack([np.full(6, means[j, 0]), means[j, 1] + a[j, 0] * v[:, 0],
                       means[j, 2] + a[j, 1] * v[:, 0] + a[j, 2] * v[:, 1]], -1)
        s = np.exp(log_scales[j])
        lo, hi = (v - 0.5 / 255 - mu) / s, (v + 0.5 / 255 - mu) / s
        log_p = np.where(x[:, 0, 0] == 0, _np_log_sigmoid(hi),
                         np.where(x[:, 0, 0] == 255, _np_log_sigmoid(-lo), _np_log_bin_mass(lo, hi)))
        hand[:, j] = log_p.sum(-1) + logits[j] - np.logaddexp.reduce(logits)
    np.testing.assert_allclose(ours, np.logaddexp.reduce(hand, axis=1), rtol=1e-4)


# -------------------------------------------------------------------------- K = 1 and the tail approximation


def test_single_component_equals_the_discretized_logistic_likelihood():
    b, h, w, c = 4, 3, 3, 3
    mean = rng.uniform(0.0, 1.0, (b, h, w, c)).astype("float32")
    log_scale = rng.uniform(-7.5, -1.0, (b, h, w, c)).astype("float32")  # both sides of the soft floor's knee
    assert (log_scale < -6.0).any() and (log_scale > -6.0).any()
    x = (rng.integers(0, 256, (b, h, w, c)) / 255.0).astype("float32")
    x[0, 0, 0] = [0.0, 1.0, 0.0]
    zeros = np.zeros((b, h, w, 3), "float32")  # tanh(0): no channel dependence, as the single logistic has
    params = np.concatenate([zeros[..., :1], mean, log_scale, zeros], -1)
    reference = discretized_logistic_log_likelihood(tf.constant(x), tf.constant(mean), tf.constant(log_scale)).numpy()
    exact = M.logistic_mixture_log_likelihood(x, params, exact_tails=True).numpy()
    np.testing.assert_allclose(exact, reference, rtol=1e-4)

    # The paper's form equals it wherever every bin holds more than 1e-5: x near the mean.
    near = (np.round((mean + rng.uniform(-1.0, 1.0, mean.shape) * np.exp(log_scale)).clip(0, 1) * 255) / 255)
    near = near.astype("float32")
    paper = M.logistic_mixture_log_likelihood(near, params).numpy()
    reference = discretized_logistic_log_likelihood(tf.constant(near), tf.constant(mean), tf.constant(log_scale))
    np.testing.assert_allclose(paper, reference.numpy(), rtol=1e-4)


def test_paper_mid_bin_approximation_stays_below_the_true_tail_mass_within_its_bound():
    log_scale = np.array([-6.0, -5.0, -4.0, -3.5, -6.5, -5.5], "float32").reshape(6, 1, 1, 1)
    mean = np.full((6, 1, 1, 1), 0.5, "float32")
    levels = np.array([200, 40, 10, 250, 140, 100]).reshape(6, 1, 1, 1)  # far in the tails, inner bins
    x = (levels / 255.0).astype("float32")
    params = np.concatenate([np.zeros_like(mean), mean, log_scale], -1)
    s = np.exp(_np_soft_floor(log_scale.astype("float64"), -7.0))
    lo, hi = (levels - 0.5 - 127.5) / 255.0 / s, (levels + 0.5 - 127.5) / 255.0 / s
    true = _np_log_bin_mass(lo, hi).ravel()
    assert (true < np.log(1e-5)).all()  # every case is in the approximation's regime
    exact = M.logistic_mixture_log_likelihood(x, params, exact_tails=True).numpy()
    paper = M.logistic_mixture_log_likelihood(x, params).numpy()
    np.testing.assert_allclose(exact, true, rtol=1e-5)
    h = (0.5 / 255.0 / s).ravel()
    gap = true - paper
    assert (gap > 0).all() and (gap <= np.log(np.sinh(h) / h) + 1e-3).all(), gap


@pytest.mark.parametrize("exact_tails", [False, True])
def test_gradients_stay_finite_at_the_edges_the_tails_and_the_scale_floor(exact_tails):
    means = np.array([[0.5, 0.0, 1.0], [-0.5, 1.5, 0.5]])
    log_scales = np.array([[-20.0, -7.0, -3.0], [2.0, -10.0, -6.0]])
    head = _head(2, 3, means, log_scales, coeff_logits=np.array([[3.0, -3.0, 1.0], [0.0, 0.5, -2.0]]))
    params = tf.constant(np.broadcast_to(head, (4, 1, 1, head.size)))
    x = tf.constant(np.array([[0, 255, 128], [255, 0, 3], [1, 254, 60], [128, 128, 128]]).reshape(4, 1, 1, 3) / 255.0,
                    tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(params)
        log_lik = M.logistic_mixture_log_likelihood(x, params, exact_tails=exact_tails)
    grad = tape.gradient(log_lik, params).numpy()
    assert np.isfinite(log_lik.numpy()).all() and np.isfinite(grad).all()


# ------------------------------------------------------------------------------------------ logistic sampler


def test_logistic_sampler_reproduces_with_a_seed_and_matches_the_likelihood():
    bins, k = 8, 2
    head = _head(k, 2, np.array([[0.3, 0.2], [0.8, 0.4]]), np.full((k, 2), -2.2), logits=np.array([0.5, -0.5]),
                 coeff_logits=np.array([[1.5], [-1.0]]))
    params = np.broadcast_to(head, (1, 100, 200, head.size))
    draw = M.logistic_mixture_sample(params, 2, seed=[3, 7], bins=bins).numpy()
    np.testing.assert_array_equal(draw, M.logistic_mixture_sample(params, 2, seed=[3, 7], bins=bins).numpy())
    assert not np.array_equal(draw, M.logistic_mixture_sample(params, 2, seed=[3, 8], bins=bins).numpy())
    one = _head(1, 2, np.array([[0.5, 0.5]]), np.full((1, 2), -2.0)).reshape(1, 1, 1, -1)  # the noise alone
    one = np.broadcast_to(one, (1, 8, 8, one.shape[-1]))
    assert not np.array_equal(M.logistic_mixture_sample(one, 2, seed=1), M.logistic_mixture_sample(one, 2, seed=2))
    assert draw.shape == (1, 100, 200, 2) and draw.min() >= 0.0 and draw.max() <= 1.0

    levels = np.round(draw.reshape(-1, 2) * (bins - 1)).astype(int)
    freq = np.bincount(levels[:, 0] * bins + levels[:, 1], minlength=bins * bins) / len(levels)
    _, log_lik = _log_lik_of_every_pixel(head, 2, bins)
    assert np.abs(freq - np.exp(log_lik)).sum() / 2 < 0.03  # total variation; sampling noise alone ≈ 0.019


def test_logistic_mixture_mean_matches_the_mean_of_the_distribution():
    # Grey, most mass of two components piled on the edges: the clipped means are exact up to quantization.
    head = _head(3, 1, np.array([[-2.0], [0.8], [1.1]]), np.array([[-3.0], [-2.0], [-2.5]]),
                 logits=np.array([0.0, 0.3, -0.5]))
    x, log_lik = _log_lik_of_every_pixel(head, 1, 256)
    exact = (np.exp(log_lik) * x.ravel()).sum()
    np.testing.assert_allclose(M.logistic_mixture_mean(head.reshape(1, 1, 1, -1), 1).numpy().ravel(), [exact],
                               atol=1e-3)
    # Two channels, green depending on red, little mass at the edges.
    k = 2
    head = _head(k, 2, np.array([[0.3, 0.2], [0.7, 0.8]]), np.full((k, 2), -3.0), logits=np.array([0.5, -0.5]),
                 coeff_logits=np.array([[1.5], [-1.0]]))
    x, log_lik = _log_lik_of_every_pixel(head, 2, 256)
    exact = (np.exp(log_lik)[:, None] * x.reshape(-1, 2)).sum(0)
    np.testing.assert_allclose(M.logistic_mixture_mean(head.reshape(1, 1, 1, -1), 2).numpy().ravel(), exact,
                               atol=2e-3)


# ------------------------------------------------------------------------------------------ Gaussian mixtures


def _np_gaussian_mixture_log_lik(y, logits, means, log_sigmas):
    sigma = np.exp(_np_soft_floor(log_sigmas, -5.0))
    log_n = (-0.5 * np.log(2 * np.pi) - np.log(sigma) - 0.5 * ((y[:, None, :] - means) / sigma) ** 2).sum(-1)
    log_pi = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    return np.logaddexp.reduce(log_pi + log_n, axis=-1)


def test_gaussian_mixture_log_likelihood_equals_a_numpy_hand_computation():
    b, k, d = 6, 3, 2
    y = rng.normal(size=(b, d))
    logits = rng.normal(size=(b, k))
    means = rng.normal(size=(b, k, d))
    log_sigmas = rng.uniform(-6.5, 0.5, (b, k, d))  # both sides of the soft floor's knee at −4
    assert (log_sigmas < -4.0).any()
    f = lambda t: t.astype("float32")  # noqa: E731
    ours = M.gaussian_mixture_log_likelihood(f(y), f(logits), f(means), f(log_sigmas)).numpy()
    np.testing.assert_allclose(ours, _np_gaussian_mixture_log_lik(y, logits, means, log_sigmas), rtol=1e-4)
    shared = M.gaussian_mixture_log_likelihood(f(y), f(logits[0]), f(means[0]), f(log_sigmas[0])).numpy()
    hand = _np_gaussian_mixture_log_lik(y, logits[0], means[0], log_sigmas[0])
    np.testing.assert_allclose(shared, hand, rtol=1e-4)
    # Narrow components under the knee, y next to one of them: the soft floor decides the value.
    tight = rng.uniform(-6.5, -4.5, (b, k, d))
    y = means[:, 0] + 1e-3 * rng.normal(size=(b, d))
    ours = M.gaussian_mixture_log_likelihood(f(y), f(logits), f(means), f(tight)).numpy()
    np.testing.assert_allclose(ours, _np_gaussian_mixture_log_lik(y, logits, means, tight), rtol=1e-4)


def test_gaussian_head_size_and_split_follow_the_documented_layout():
    k, d = 3, 2
    assert M.gaussian_mixture_head_size(k, d) == 15
    head = np.arange(2 * 15, dtype="float32").reshape(2, 15)
    logits, means, log_sigmas = (t.numpy() for t in M.split_gaussian_mixture(head, d))
    assert logits.shape == (2, k) and means.shape == log_sigmas.shape == (2, k, d)
    np.testing.assert_array_equal(logits[1], [15, 16, 17])
    np.testing.assert_array_equal(means[0, 2], [k + 4, k + 5])
    np.testing.assert_array_equal(log_sigmas[1, 0], [15 + k + k * d, 15 + k + k * d + 1])
    with pytest.raises(ValueError, match="multiple of 5.*gaussian_mixture_head_size"):
        M.split_gaussian_mixture(np.zeros((2, 14), "float32"), d)


def test_gaussian_mixture_sampler_reproduces_with_a_seed_and_has_the_mixture_moments():
    logits = np.log(np.array([0.2, 0.5, 0.3], "float32"))
    means = np.array([[-2.0, 0.0], [1.0, 1.0], [3.0, -2.0]], "float32")
    log_sigmas = np.log(np.array([[0.3, 0.5], [0.2, 0.2], [0.6, 0.1]], "float32"))
    draw = M.gaussian_mixture_sample(logits, means, log_sigmas, seed=5, n=20000).numpy()
    np.testing.assert_array_equal(draw, M.gaussian_mixture_sample(logits, means, log_sigmas, seed=5, n=20000).numpy())
    assert not np.array_equal(draw, M.gaussian_mixture_sample(logits, means, log_sigmas, seed=6, n=20000).numpy())
    one = [logits[:1], means[:1], log_sigmas[:1]]  # a single component: the noise alone
    draws = [M.gaussian_mixture_sample(*one, seed=seed, n=4).numpy() for seed in (1, 2)]
    assert not np.array_equal(*draws)
    pi = np.exp(logits)
    mean = pi @ means
    second = sum(p * (np.diag(np.exp(2 * ls)) + np.outer(m, m)) for p, m, ls in zip(pi, means, log_sigmas))
    np.testing.assert_allclose(draw.mean(0), mean, atol=0.05)
    np.testing.assert_allclose(np.cov(draw.T), second - np.outer(mean, mean), atol=0.08)

    batched = [np.broadcast_to(t, (20000,) + t.shape) for t in (logits, means, log_sigmas)]
    per_example = M.gaussian_mixture_sample(*batched, seed=[1, 2]).numpy()
    assert per_example.shape == (20000, 2)
    np.testing.assert_allclose(per_example.mean(0), mean, atol=0.05)


# ------------------------------------------------------------------------------------------------ bad input


def test_bad_shapes_give_clear_errors():
    with pytest.raises(ValueError, match="multiple of 10.*logistic_mixture_channels"):
        M.split_logistic_mixture(np.zeros((1, 2, 2, 11), "float32"), channels=3)
    with pytest.raises(ValueError, match=r"x must be images \[B, H, W, C\]"):
        M.logistic_mixture_log_likelihood(np.zeros((2, 4, 4), "float32"), np.zeros((2, 4, 4, 3), "float32"))
    with pytest.raises(ValueError, match="params must be the decoder head"):
        M.logistic_mixture_log_likelihood(np.zeros((2, 4, 4, 1), "float32"), np.zeros((2, 8, 8, 3), "float32"))
    with pytest.raises(ValueError, match="num_components and channels must be >= 1"):
        M.logistic_mixture_channels(0)
    with pytest.raises(ValueError, match="means must be"):
        M.gaussian_mixture_log_likelihood(np.zeros((4, 2), "float32"), np.zeros((4, 3), "float32"),
                                          np.zeros((4, 2, 2), "float32"), np.zeros((4, 2, 2), "float32"))
    with pytest.raises(ValueError, match="y must be"):
        M.gaussian_mixture_log_likelihood(np.zeros((4, 5), "float32"), np.zeros((4, 3), "float32"),
                                          np.zeros((4, 3, 2), "float32"), np.zeros((4, 3, 2), "float32"))
    with pytest.raises(ValueError, match="log_sigmas"):
        M.gaussian_mixture(np.zeros(3, "float32"), np.zeros((3, 2), "float32"), np.zeros((4, 2), "float32"))
    with pytest.raises(ValueError, match="shared mixture.*with n"):
        M.gaussian_mixture_sample(np.zeros(3, "float32"), np.zeros((3, 2), "float32"), np.zeros((3, 2), "float32"), 0)
