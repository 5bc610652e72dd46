import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.losses import gaussian_mixture_head_size, gaussian_mixture_log_likelihood
from tfgm.models import MixtureDensity
from tfgm.training import strategy as make_strategy


def _branch(x, sign):
    return sign * (0.5 + 0.5 * x ** 2)


def _two_valued(n, seed):
    """x ~ U(−1, 1); y on the upper or the lower branch ±(0.5 + 0.5x²) with probability ½ each, noise 0.05."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 1)).astype("float32")
    y = _branch(x, rng.choice([-1.0, 1.0], (n, 1))) + 0.05 * rng.normal(size=(n, 1))
    return x, y.astype("float32")


def _network(k, d=1, hidden=32, inputs=1):
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(hidden, activation="tanh"),
                             keras.layers.Dense(gaussian_mixture_head_size(k, d))])


def _fit_mdn(k, seed=0, steps=300):
    x, y = _two_valued(1024, seed)
    keras.utils.set_random_seed(seed)
    model = MixtureDensity(k, 1, network=_network(k), seed=seed)
    model.compile(keras.optimizers.Adam(1e-2))
    data = tf.data.Dataset.from_tensor_slices({"x": x, "y": y}).shuffle(1024, seed=seed).batch(256).repeat()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)
    return model


def _branch_fractions(model, seed=3):
    """Share of 1000 draws per x within 0.2 of the upper and the lower branch, each [7]."""
    grid = np.linspace(-0.9, 0.9, 7, dtype="float32")[:, None]
    draws = model.sample(seed=seed, x=np.repeat(grid, 1000, 0)).numpy().reshape(7, 1000)
    return [(np.abs(draws - _branch(grid, sign)) < 0.2).mean(1) for sign in (1.0, -1.0)]


def test_mdn_recovers_both_branches_of_a_two_valued_function_where_one_gaussian_cannot():
    upper, lower = _branch_fractions(_fit_mdn(3))
    assert ((upper > 0.35) & (upper < 0.65)).all() and ((lower > 0.35) & (lower < 0.65)).all(), (upper, lower)
    assert (upper + lower > 0.85).all(), (upper, lower)
    # The same check on a single Gaussian (a regression with a learned σ): its mass sits between the branches.
    upper, lower = _branch_fractions(_fit_mdn(1))
    assert (upper + lower < 0.6).all(), (upper, lower)


def test_unconditional_mixture_recovers_cluster_weights_means_and_scales():
    rng = np.random.default_rng(1)
    clusters = [rng.normal(-2.0, 0.5, (600, 1)), rng.normal(3.0, 0.3, (1400, 1))]
    y = np.concatenate(clusters).astype("float32")
    model = MixtureDensity(2, 1, seed=4)
    model.initialize_from(y[::7])  # this seed starts both components in the right-hand cluster
    model.compile(keras.optimizers.Adam(0.05))
    model.fit(tf.data.Dataset.from_tensor_slices({"y": y}).batch(2000).repeat(), steps_per_epoch=500, verbose=0,
              shuffle=False)
    # Clusters 10 σ apart: the maximum-likelihood fit is each cluster's share, sample mean and sample std.
    order = np.argsort(model.means.numpy()[:, 0])
    np.testing.assert_allclose(tf.nn.softmax(model.logits).numpy()[order], [0.3, 0.7], atol=0.01)
    np.testing.assert_allclose(model.means.numpy()[order, 0], [c.mean() for c in clusters], atol=0.01)
    np.testing.assert_allclose(np.exp(model.log_sigmas.numpy()[order, 0]), [c.std() for c in clusters], atol=0.01)
    logits, means, log_sigmas = model.mixture_parameters()
    np.testing.assert_allclose(model.log_prob(y[:5]), gaussian_mixture_log_likelihood(y[:5], logits, means, log_sigmas))


def test_sampling_is_stateless():
    """(The config and .keras round trips: tests/models/test_harness.py.)"""
    x, _ = _two_valued(16, 0)
    for model, sample in [
        (MixtureDensity(2, 1, network=_network(2, hidden=4), min_log_sigma=-4.0, seed=2),
         lambda m, s: m.sample(seed=s, x=x)),
        (MixtureDensity(3, 1, seed=2), lambda m, s: m.sample(5, seed=s)),
    ]:
        np.testing.assert_array_equal(sample(model, 7), sample(model, 7))
        assert not np.array_equal(sample(model, 7), sample(model, 8))


def test_one_mirrored_step_equals_the_single_device_step():
    assert len(tf.config.list_logical_devices("CPU")) == 2
    x, y = _two_valued(8, 5)
    keras.utils.set_random_seed(0)
    initial = MixtureDensity(2, 1, network=_network(2, hidden=8)).get_weights()

    def step(strategy):
        with strategy.scope():
            model = MixtureDensity(2, 1, network=_network(2, hidden=8))
            model.set_weights(initial)
            model.compile(keras.optimizers.SGD(0.1))  # SGD: Adam's first step would hide a wrong gradient scale
        model.fit(tf.data.Dataset.from_tensor_slices({"x": x, "y": y}).batch(8), epochs=1, verbose=0)
        return [v.numpy() for v in model.trainable_variables]

    single, mirrored = step(make_strategy("default")), step(make_strategy("mirrored"))
    assert all(not np.allclose(a, b) for a, b in zip(initial, single))
    for a, b in zip(single, mirrored):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_bad_input_gives_clear_errors():
    with pytest.raises(ValueError, match="need 15 .*gaussian_mixture_head_size"):
        MixtureDensity(3, 2, network=_network(2, d=2))
    mdn = MixtureDensity(2, 1, network=_network(2, hidden=4))
    with pytest.raises(ValueError, match="an MDN takes x"):
        mdn.sample(4, seed=0)
    with pytest.raises(ValueError, match="pass its input x"):
        mdn.log_prob(np.zeros((4, 1), "float32"))
    with pytest.raises(ValueError, match="only for an unconditional"):
        mdn.initialize_from(np.zeros((4, 1), "float32"))
    mdn.compile(keras.optimizers.Adam(1e-2))
    with pytest.raises(ValueError, match='batches must be dicts with "y" and "x"'):
        mdn.fit(tf.data.Dataset.from_tensor_slices({"y": np.zeros((4, 1), "float32")}).batch(2), verbose=0)
    plain = MixtureDensity(2, 1)
    with pytest.raises(ValueError, match="takes n"):
        plain.sample(seed=0)
    with pytest.raises(ValueError, match=r"y must be \[N, 1\] with N >= 2"):
        plain.initialize_from(np.zeros((1, 1), "float32"))
