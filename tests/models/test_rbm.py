"""tfgm.models.RBM: the CD-k / PCD update, persistent chains across steps and saves, training raises the exact
log-likelihood, sampling is stateless."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.metrics import exact_log_partition, rbm_log_likelihood
from tfgm.models import RBM

rng = np.random.default_rng(0)
# Two 12-pixel patterns with flipped pixels: a density an RBM with 6 hidden units can learn.
PATTERNS = np.array([[1] * 6 + [0] * 6, [0, 1] * 6], np.float32)
DATA = np.abs(PATTERNS[rng.integers(0, 2, 256)] - (rng.random((256, 12)) < 0.05)).astype(np.float32)


def _batches(batch=32):
    return tf.data.Dataset.from_tensor_slices({"image": DATA}).batch(batch)


def _model(**kwargs):
    model = RBM(12, 6, binarize="none", seed=1, **kwargs)
    model.compile(keras.optimizers.SGD(0.2))
    return model


def test_an_update_is_the_positive_minus_the_negative_statistics_of_eq_1_28():
    model = RBM(12, 6, binarize="none", seed=1)
    model.compile(keras.optimizers.SGD(1.0))
    model.kernel.assign(rng.normal(0, 0.3, (12, 6)).astype("float32"))
    v_data, v_model = DATA[:16], (rng.random((16, 12)) < 0.5).astype(np.float32)
    model.negative_samples = lambda v, seed: tf.constant(v_model)
    w, b, c = (np.asarray(x, np.float64) for x in (model.kernel, model.visible_bias, model.hidden_bias))

    def stats(v):
        h = 1.0 / (1.0 + np.exp(-(v @ w + c)))
        return v.T @ h / len(v), v.mean(0), h.mean(0)

    positive, negative = stats(v_data.astype(np.float64)), stats(v_model.astype(np.float64))
    model.train_step({"image": tf.constant(v_data)})
    for variable, before, pos, neg in zip((model.kernel, model.visible_bias, model.hidden_bias), (w, b, c),
                                          positive, negative):
        np.testing.assert_allclose(np.asarray(variable) - before, pos - neg, atol=1e-5)


def _spy_on_chain_starts(model):
    starts, gibbs = [], model.gibbs

    def spy(v, steps, seed):
        starts.append(np.asarray(v))
        return gibbs(v, steps, seed)

    model.gibbs = spy
    return starts


def test_cd_chains_start_at_the_batch_and_pcd_chains_at_the_stored_state_which_they_advance():
    cd = _model(cd_steps=2)
    cd.run_eagerly = True
    starts = _spy_on_chain_starts(cd)
    cd.fit(_batches().take(2), verbose=0)
    np.testing.assert_array_equal(starts[1], DATA[32:64])

    pcd = _model(persistent=True, chains=8)
    pcd.initialize_from(DATA)
    pcd.run_eagerly = True
    starts = _spy_on_chain_starts(pcd)
    states = [np.asarray(pcd.chain_state)]
    for batch in _batches().take(3):
        pcd.train_step(batch)
        states.append(np.asarray(pcd.chain_state))
    for start, before, after in zip(starts, states, states[1:]):
        np.testing.assert_array_equal(start, before)
        assert not np.array_equal(before, after)


def test_pcd_resumed_from_a_keras_file_continues_the_same_chains(tmp_path):
    def fresh():
        model = _model(persistent=True, chains=8)
        model.initialize_from(DATA)
        return model

    whole = fresh()
    whole.fit(_batches().take(6), verbose=0)
    first = fresh()
    first.fit(_batches().take(3), verbose=0)
    path = os.path.join(tmp_path, "rbm.keras")
    first.save(path)
    resumed = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(resumed.chain_state), np.asarray(first.chain_state))
    resumed.fit(_batches().skip(3).take(3), verbose=0)
    for a, b in zip(whole.weights, resumed.weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.name)


@pytest.mark.parametrize("options", [{"cd_steps": 1}, {"cd_steps": 5}, {"persistent": True, "chains": 64}])
def test_training_raises_the_exact_log_likelihood(options):
    model = _model(**options)
    model.initialize_from(DATA)

    def log_likelihood():
        return rbm_log_likelihood(model, DATA, exact_log_partition(model)).mean()

    before = log_likelihood()
    model.fit(_batches().repeat(50), verbose=0)
    after = log_likelihood()
    # the data's own entropy: log 2 + 12 H(0.05) = 3.08 nats; the marginal-bias start: about 5.3
    assert after > before + 1.5 and after > -3.5, (before, after)


def test_sampling_is_stateless_and_gives_probabilities():
    model = _model()
    a, b, c = model.sample(5, steps=3, seed=7), model.sample(5, steps=3, seed=7), model.sample(5, steps=3, seed=8)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert not np.array_equal(np.asarray(a), np.asarray(c))
    assert a.shape == (5, 12) and 0.0 <= float(tf.reduce_min(a)) and float(tf.reduce_max(a)) <= 1.0


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="binarize"):
        RBM(4, 2, binarize="maybe")
    with pytest.raises(ValueError, match=">= 1"):
        RBM(4, 2, cd_steps=0)
