"""FusedBatchNormalization computes what keras.layers.BatchNormalization computes, on the fused kernel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.layers import FusedBatchNormalization


def _pair(shape, **kwargs):
    """(Keras' layer, the fused layer) built on `shape` with the same non-trivial weights and statistics."""
    keras_bn, fused = keras.layers.BatchNormalization(**kwargs), FusedBatchNormalization(**kwargs)
    keras_bn.build(shape)
    fused.build(shape)
    rng = np.random.default_rng(1)
    weights = [w + rng.normal(scale=0.3, size=w.shape).astype("float32") for w in keras_bn.get_weights()]
    weights[-1] = np.abs(weights[-1]) + 0.5  # moving variance > 0
    keras_bn.set_weights(weights)
    fused.set_weights(weights)
    return keras_bn, fused


def _inputs(shape, seed=0):
    return tf.constant(np.random.default_rng(seed).normal(loc=1.0, scale=3.0, size=shape).astype("float32"))


def _run(layer, x, training):
    """(outputs, d loss / d inputs, d loss / d weights) of a loss that weighs every output differently."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * tf.sin(x))
    grads = tape.gradient(loss, [x] + layer.trainable_variables)
    return y, grads[0], grads[1:]


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("kwargs", [{"momentum": 0.8}, {"center": False, "scale": False, "epsilon": 1e-4}])
def test_outputs_gradients_and_moving_statistics_equal_keras(training, kwargs):
    shape = (6, 5, 4, 3)
    keras_bn, fused = _pair(shape, **kwargs)
    x = _inputs(shape)
    expected, expected_dx, expected_dw = _run(keras_bn, x, training)
    got, got_dx, got_dw = _run(fused, x, training)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(got_dx, expected_dx, rtol=1e-4, atol=1e-5)
    for g, e in zip(got_dw, expected_dw):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)
    for g, e in zip(fused.non_trainable_variables, keras_bn.non_trainable_variables):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-6, atol=1e-6)
    if training:  # the moving statistics moved (by the biased batch variance, as Keras')
        assert not np.allclose(fused.moving_variance.numpy(), _pair(shape, **kwargs)[1].moving_variance.numpy())


def test_second_derivative_equals_keras():
    """A gradient penalty through batch norm (R1/Roth on a BN discriminator) differentiates the gradient op."""
    shape = (4, 3, 3, 2)
    x = _inputs(shape, seed=2)
    results = []
    for layer in _pair(shape):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = layer(x, training=True)
                out = tf.reduce_sum(y * tf.cos(x))
            penalty = tf.reduce_sum(tf.square(inner.gradient(out, x)))
        results.append(outer.gradient(penalty, layer.trainable_variables))
    for g, e in zip(*results[::-1]):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-5)


def test_one_value_per_channel_gives_zero_variance_not_nan():
    keras_bn, fused = _pair((1, 1, 1, 3))
    x = _inputs((1, 1, 1, 3))
    np.testing.assert_allclose(fused(x, training=True), keras_bn(x, training=True), atol=1e-5)
    np.testing.assert_allclose(fused.moving_variance.numpy(), keras_bn.moving_variance.numpy(), atol=1e-6)


def test_bfloat16_policy_normalizes_in_float32_like_keras():
    shape = (8, 4, 4, 5)
    keras_bn, fused = _pair(shape, dtype="mixed_bfloat16")
    x = tf.cast(_inputs(shape), tf.bfloat16)
    got, expected = fused(x, training=True), keras_bn(x, training=True)
    assert got.dtype == expected.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.cast(got, tf.float32), tf.cast(expected, tf.float32), rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(fused.moving_mean.numpy(), keras_bn.moving_mean.numpy(), rtol=1e-6, atol=1e-6)


def test_other_ranks_and_masks_run_keras_computation():
    keras_bn, fused = _pair((5, 7))
    x = _inputs((5, 7))
    np.testing.assert_array_equal(fused(x, training=True), keras_bn(x, training=True))
    keras_bn, fused = _pair((2, 6, 3))
    x, mask = _inputs((2, 6, 3)), tf.constant([[True] * 4 + [False] * 2] * 2)
    np.testing.assert_array_equal(fused(x, training=True, mask=mask), keras_bn(x, training=True, mask=mask))


def test_stateless_scope_leaves_moving_statistics_alone():
    """GibbsNet's batch-statistics chains run batch norm in a StatelessScope: no moving average may change."""
    _, fused = _pair((4, 3, 3, 2))
    before = fused.moving_mean.numpy().copy()
    with keras.StatelessScope():
        y = fused(_inputs((4, 3, 3, 2)), training=True)
    np.testing.assert_array_equal(fused.moving_mean.numpy(), before)
    np.testing.assert_allclose(tf.reduce_mean(y, axis=[0, 1, 2]), fused.beta.numpy(), atol=1e-5)


def _graph_ops(fn, x):
    return {op.type for op in tf.function(fn, autograph=False).get_concrete_function(x).graph.get_operations()}


def test_training_mode_runs_the_fused_kernel_and_inference_mode_keeps_nan():
    """Training mode is what is fast; inference mode stays on Keras' ops, where a NaN input stays NaN through
    a bias-free convolution, batch norm and ReLU in a compiled graph (Grappler folds the fused inference kernel
    into the convolution and its ReLU turns NaN into 0)."""
    inputs = keras.Input((4, 4, 2))
    h = keras.layers.Conv2D(3, 3, padding="same", use_bias=False)(inputs)
    model = keras.Model(inputs, keras.layers.ReLU()(FusedBatchNormalization()(h)))
    x = np.ones((2, 4, 4, 2), "float32")
    x[0, 0, 0, 0] = np.nan
    x = tf.constant(x)
    assert "FusedBatchNormV3" in _graph_ops(lambda v: model(v, training=True), x)
    assert "FusedBatchNormV3" not in _graph_ops(lambda v: model(v, training=False), x)
    out = tf.function(lambda v: model(v, training=False), autograph=False)(x).numpy()
    assert np.isnan(out[0]).any() and not np.isnan(out[1]).any()


def test_keras_file_round_trip(tmp_path):
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, FusedBatchNormalization(momentum=0.7, name="bn")(inputs))
    model.layers[-1].moving_mean.assign([0.5, -0.5])
    path = str(tmp_path / "bn.keras")
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.get_layer("bn"), FusedBatchNormalization)
    assert loaded.get_layer("bn").momentum == 0.7
    x = _inputs((3, 4, 4, 2))
    np.testing.assert_array_equal(loaded(x, training=False), model(x, training=False))
