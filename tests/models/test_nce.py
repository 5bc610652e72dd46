"""tfgm.models.NCE: the loss of Gutmann & Hyvärinen written out, and a model that normalizes itself."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.models import NCE

rng = np.random.default_rng(0)
DATA = np.concatenate([rng.normal(-2, 0.5, 4000), rng.normal(1.5, 0.8, 4000)]).astype("float32")[:, None]


def _energy():
    """MLP energy on 1-D x plus a non-negative quadratic term (so exp(−E) is integrable over the line)."""
    keras.utils.set_random_seed(0)
    x = keras.Input((1,))
    h = keras.layers.Dense(32, activation="tanh")(keras.layers.Dense(32, activation="tanh")(x))
    quadratic = keras.layers.Dense(1, use_bias=False, kernel_constraint=keras.constraints.NonNeg(),
                                   kernel_initializer=keras.initializers.Constant(0.5))(keras.layers.Multiply()([x, x]))
    return keras.Model(x, keras.layers.Add()([keras.layers.Dense(1)(h), quadratic]))


def test_the_loss_is_the_logistic_loss_of_data_against_nu_noise_samples():
    model = NCE(_energy(), noise_ratio=3)
    model.fit_noise(DATA)
    model.log_z.assign(0.7)
    x, noise = DATA[:4], model.noise_sample(12, tf.constant([1, 2])).numpy()
    mean, std = DATA.mean(0), DATA.std(0)

    def g(u):
        log_p = -np.asarray(model.energy(u)).reshape(-1) - 0.7
        log_q = (-0.5 * ((u - mean) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi)).sum(1)
        return log_p - log_q - math.log(3)

    def log_sigmoid(t):
        return -np.log1p(np.exp(-t))

    expected = -log_sigmoid(g(x)) - log_sigmoid(-g(noise)).reshape(3, 4).sum(0)
    np.testing.assert_allclose(model.per_example_loss(tf.constant(x), tf.constant(noise)), expected, rtol=1e-4)


def test_a_trained_model_normalizes_itself_and_fits_the_density():
    model = NCE(_energy(), noise_ratio=10, seed=0)
    model.compile(keras.optimizers.Adam(1e-2))
    model.fit_noise(DATA)
    batches = tf.data.Dataset.from_tensor_slices(DATA).shuffle(8000, seed=0).repeat().batch(256)
    model.fit(batches, steps_per_epoch=800, epochs=1, verbose=0)
    grid = np.linspace(-7, 7, 4001, dtype="float32")[:, None]
    dx = float(grid[1, 0] - grid[0, 0])
    energy = model.energy_of(grid).numpy().astype(np.float64)
    log_integral = np.log(np.exp(-energy - (-energy).max()).sum() * dx) + (-energy).max()
    assert float(model.log_z) == pytest.approx(log_integral, abs=0.1)
    truth = sum(0.5 * np.exp(-0.5 * ((grid[:, 0] - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
                for m, s in ((-2.0, 0.5), (1.5, 0.8)))
    assert 0.5 * np.abs(np.exp(model.log_prob(grid).numpy()) - truth).sum() * dx < 0.1


def test_noise_fit_and_bad_settings():
    model = NCE(_energy())
    model.fit_noise(DATA)
    np.testing.assert_allclose(model.noise_mean.numpy(), DATA.mean(0), rtol=1e-4)
    np.testing.assert_allclose(np.exp(model.noise_log_std.numpy()), DATA.std(0), rtol=1e-4)
    with pytest.raises(ValueError, match="noise_ratio"):
        NCE(_energy(), noise_ratio=0)
