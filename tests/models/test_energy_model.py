"""tfgm.models.EnergyModel and its Langevin sampler: the sampler's stationary moments, the replay buffer across
steps and saves, and training that separates data from noise."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.models import EnergyModel
from tfgm.models.energy_model import langevin

rng = np.random.default_rng(0)
DATA = np.clip(rng.normal(0.25, 0.05, (512, 2)), 0, 1).astype("float32")


def _energy():
    keras.utils.set_random_seed(0)
    x = keras.Input((2,))
    return keras.Model(x, keras.layers.Dense(1)(keras.layers.Dense(16, activation="swish")(x)))


def _model(**kwargs):
    settings = {"buffer_size": 64, "langevin_steps": 5, "step_size": 0.05, "noise_std": 0.01, "alpha": 0.1,
                "seed": 1, **kwargs}
    model = EnergyModel(_energy(), **settings)
    model.compile(keras.optimizers.Adam(1e-2))
    return model


def _batches():
    return tf.data.Dataset.from_tensor_slices({"image": DATA}).batch(32)


def test_langevin_on_a_quadratic_energy_reaches_the_gaussian_moments():
    sigma, eps = 0.5, 0.01

    def energy(x):
        return 0.5 * tf.reduce_sum(tf.square(x), axis=1) / sigma ** 2

    x = langevin(energy, tf.fill([4000, 2], 2.0), 600, eps, np.sqrt(2 * eps), tf.constant([0, 1]), clip=None)
    x = x.numpy()
    stationary = sigma ** 2 / (1 - eps / (2 * sigma ** 2))  # the unadjusted Langevin chain's exact variance
    np.testing.assert_allclose(x.mean(0), 0.0, atol=0.03)
    np.testing.assert_allclose(x.var(0), stationary, rtol=0.06)


def test_negatives_start_in_the_buffer_and_go_back_into_it():
    model = _model(reinit=0.0)
    before = model.buffer.numpy().copy()
    negatives, rows = model.negative_samples(8, tf.constant([3, 4]))
    model.train_step({"image": tf.constant(DATA[:8])})
    after = model.buffer.numpy()
    changed = np.flatnonzero(np.any(after != before, axis=1))
    assert 0 < len(changed) <= 8
    untouched = np.setdiff1d(np.arange(64), changed)
    np.testing.assert_array_equal(after[untouched], before[untouched])
    assert negatives.shape == (8, 2) and rows.shape == (8,)


def test_a_resumed_model_continues_with_the_same_buffer(tmp_path):
    whole = _model()
    whole.fit(_batches().take(6), verbose=0)
    first = _model()
    first.fit(_batches().take(3), verbose=0)
    path = os.path.join(tmp_path, "ebm.keras")
    first.save(path)
    resumed = keras.saving.load_model(path)
    np.testing.assert_array_equal(resumed.buffer.numpy(), first.buffer.numpy())
    resumed.fit(_batches().skip(3).take(3), verbose=0)
    for a, b in zip(whole.weights, resumed.weights):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6, err_msg=a.name)


def test_training_gives_data_lower_energy_than_noise_and_samples_move_toward_the_data():
    model = _model(buffer_size=256, langevin_steps=0)  # negatives = the uniform buffer: the phases' signs alone
    noise = rng.random((512, 2)).astype("float32")
    model.fit(_batches().repeat(8), verbose=0)
    assert float(tf.reduce_mean(model.energy_of(DATA))) < float(tf.reduce_mean(model.energy_of(noise))) - 1.0
    samples = model.sample(256, steps=100, seed=3).numpy()
    assert np.linalg.norm(samples - 0.25, axis=1).mean() < np.linalg.norm(noise - 0.25, axis=1).mean()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="reinit"):
        EnergyModel(_energy(), reinit=1.5)
