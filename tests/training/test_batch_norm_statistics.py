"""Precise batch-norm statistics: the moving statistics become the mean of the current weights' batch statistics."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tests.models._tiny import IMAGE_SHAPE, adam, tiny_decoder, tiny_encoder
from tfgm.models import VAE
from tfgm.training import BatchNormRecalibration, recompute_batch_norm_statistics

rng = np.random.default_rng(0)


def _model():
    x_in = keras.Input((3,))
    dense = keras.layers.Dense(4, name="dense")(x_in)
    out = keras.layers.BatchNormalization(momentum=0.99, name="bn")(dense)
    return keras.Model(x_in, out)


def test_moving_statistics_become_the_average_of_the_batch_statistics():
    model = _model()
    batches = [rng.normal(loc=k, size=(16, 3)).astype("float32") for k in range(3)]
    frozen = _model()
    frozen.trainable = False
    before = frozen.get_layer("bn").moving_mean.numpy().copy()
    count = recompute_batch_norm_statistics(model, batches, lambda b: model(b, training=True))
    assert count == 1
    hidden = [model.get_layer("dense")(b).numpy() for b in batches]
    bn = model.get_layer("bn")
    np.testing.assert_allclose(bn.moving_mean.numpy(), np.mean([h.mean(0) for h in hidden], axis=0), atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), np.mean([h.var(0) for h in hidden], axis=0), rtol=1e-4)
    assert bn.momentum == 0.99  # restored
    assert recompute_batch_norm_statistics(frozen, batches, lambda b: frozen(b, training=True)) == 0
    np.testing.assert_array_equal(frozen.get_layer("bn").moving_mean.numpy(), before)
    with pytest.raises(ValueError, match="yielded nothing"):
        recompute_batch_norm_statistics(model, [], lambda b: None)


def test_the_callback_recalibrates_a_vae_before_validation():
    images = rng.random((16,) + IMAGE_SHAPE).astype("float32")
    data = tf.data.Dataset.from_tensor_slices({"image": images}).batch(8)
    keras.utils.set_random_seed(0)
    model = VAE(tiny_encoder(), tiny_decoder())
    model.compile(adam())
    seen = {}

    class Spy(keras.callbacks.Callback):
        def on_test_begin(self, logs=None):
            seen["moving"] = model.encoder.get_layer("enc0a_bn").moving_mean.numpy().copy()

    model.fit(data, validation_data=data, epochs=1, verbose=0, callbacks=[BatchNormRecalibration(data, 2), Spy()])
    layer = model.encoder.get_layer("enc0a_bn")
    conv = model.encoder.get_layer("enc0a_conv")
    expected = np.mean([conv(b["image"]).numpy().mean(axis=(0, 1, 2)) for b in data.take(2)], axis=0)
    np.testing.assert_allclose(seen["moving"], expected, atol=1e-5)  # what validation saw
    np.testing.assert_allclose(layer.moving_mean.numpy(), expected, atol=1e-5)
