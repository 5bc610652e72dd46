"""ReplicaDropout: Keras' Dropout on one replica, independent masks across MirroredStrategy replicas."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.layers import ReplicaDropout
from tfgm.training import strategy as make_strategy

X = tf.ones([4, 16])


def _masks(layer_class, strategy, **kwargs):
    """Each replica's output of one training-mode call on the same all-ones batch."""
    with strategy.scope():
        layer = layer_class(0.5, seed=3, **kwargs)
        layer.build(X.shape)

    @tf.function
    def step():
        return layer(X, training=True)

    return [t.numpy() for t in strategy.experimental_local_results(strategy.run(step))]


def test_replicas_draw_different_masks_where_keras_dropout_repeats_one():
    mirrored = make_strategy("mirrored")
    assert mirrored.num_replicas_in_sync == 2
    keras_a, keras_b = _masks(keras.layers.Dropout, mirrored)
    np.testing.assert_array_equal(keras_a, keras_b)  # the reason for the class: a mirrored SeedGenerator
    ours_a, ours_b = _masks(ReplicaDropout, mirrored)
    assert not np.array_equal(ours_a, ours_b)
    for out in (ours_a, ours_b):
        assert set(np.unique(out)) <= {0.0, 2.0} and 0.25 < (out == 0).mean() < 0.75


def test_one_replica_gives_keras_dropout_masks_call_after_call():
    default = make_strategy("default")
    ours, theirs = ReplicaDropout(0.3, seed=11), keras.layers.Dropout(0.3, seed=11)
    x = tf.random.stateless_uniform([8, 5, 6], seed=[1, 2])
    for _ in range(3):
        np.testing.assert_array_equal(ours(x, training=True).numpy(), theirs(x, training=True).numpy())
    np.testing.assert_array_equal(ours(x).numpy(), x.numpy())  # inference: identity
    shared = ReplicaDropout(0.5, noise_shape=(None, 1, 6), seed=2)(x, training=True).numpy()
    assert (np.ptp((shared == 0).astype(int), axis=1) == 0).all()  # one mask value per (example, channel), as Keras does
    assert default.num_replicas_in_sync == 1
    np.testing.assert_array_equal(_masks(ReplicaDropout, default)[0], _masks(keras.layers.Dropout, default)[0])


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_rates_zero_and_one(rate):
    out = ReplicaDropout(rate)(X, training=True).numpy()
    np.testing.assert_array_equal(out, X.numpy() if rate == 0.0 else np.zeros_like(out))


def test_saved_in_a_model_and_loaded(tmp_path):
    x_in = keras.Input((16,))
    model = keras.Model(x_in, ReplicaDropout(0.25, noise_shape=(None, 16), seed=4, name="drop")(x_in))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    layer = loaded.get_layer("drop")
    assert type(layer) is ReplicaDropout
    assert (layer.rate, layer.seed, tuple(layer.noise_shape)) == (0.25, 4, (None, 16))
