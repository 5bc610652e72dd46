"""tfgm.layers.FastLeakyReLU: Keras' LeakyReLU in outputs, gradients and a gradient penalty's gradients; the
penalty's traced graph runs fewer convolution kernels; serializable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfgm.layers import FastLeakyReLU
from tfgm.layers.leaky_relu import leaky_relu


def _critic(activation):
    """Two strided convolutions, each followed by `activation` (a layer class), and a dense logit: a small critic."""
    keras.utils.set_random_seed(0)
    x = keras.Input((12, 12, 3))
    h = activation(0.2)(keras.layers.Conv2D(6, 3, strides=2, padding="same")(x))
    h = activation(0.2)(keras.layers.Conv2D(6, 3, strides=2, padding="same")(h))
    return keras.Model(x, keras.layers.Dense(1)(keras.layers.Flatten()(h)))


def _penalty_step(model):
    """A compiled WGAN-GP-style penalty: x → (∂Σ model(x)/∂x, gradients of its squared norm for every weight,
    an unconnected one as zeros)."""
    @tf.function
    def step(x):
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                inner.watch(x)
                logits = model(x)
            dx = inner.gradient(logits, x)
            penalty = tf.reduce_sum(tf.square(dx))
        grads = outer.gradient(penalty, model.trainable_variables)
        return dx, [tf.zeros_like(v) if g is None else g for g, v in zip(grads, model.trainable_variables)]

    return step


def test_penalty_gradients_equal_keras_and_skip_the_zero_kernels():
    x = tf.random.stateless_normal((3, 12, 12, 3), seed=[4, 2])
    results, kernels = {}, {}
    for cls in (keras.layers.LeakyReLU, FastLeakyReLU):
        step = _penalty_step(_critic(cls))
        results[cls] = step(x)
        ops = [op.type for op in step.get_concrete_function(x).graph.get_operations()]
        kernels[cls] = (ops.count("Conv2DBackpropFilter"), ops.count("Conv2DBackpropInput"))
    (dx_keras, w_keras), (dx_fast, w_fast) = results.values()
    np.testing.assert_array_equal(dx_fast.numpy(), dx_keras.numpy())
    for a, b in zip(w_fast, w_keras):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    # traced, before pruning (each convolution's gradient emits both kernels): FastLeakyReLU's graph has the input
    # gradient's 2 + 2 and the penalty's 2 filter gradients; Keras' adds a filter and an input gradient per
    # convolution for the zeros its LeakyReluGrad gradient sends back into the forward pass
    assert kernels[FastLeakyReLU] == (4, 2)
    assert kernels[keras.layers.LeakyReLU] == (6, 4)


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
def test_values_and_first_and_second_derivatives_equal_tensorflows(dtype):
    x = tf.cast(tf.constant([-2.0, -0.5, 0.25, 3.0]), dtype)
    out = {}
    for name, fn in (("ours", lambda t: leaky_relu(t, 0.2)), ("theirs", lambda t: tf.nn.leaky_relu(t, 0.2))):
        with tf.GradientTape() as outer:
            outer.watch(x)
            with tf.GradientTape() as inner:
                inner.watch(x)
                y = fn(x)
                loss = tf.reduce_sum(y * tf.cast([1.0, 2.0, 3.0, 4.0], dtype))
            dx = inner.gradient(loss, x)
        out[name] = (y, dx, outer.gradient(tf.reduce_sum(dx * dx), x))
    ours, theirs = out["ours"], out["theirs"]
    for a, b in zip(ours[:2], theirs[:2]):
        np.testing.assert_array_equal(tf.cast(a, tf.float32).numpy(), tf.cast(b, tf.float32).numpy())
    for second in (ours[2], theirs[2]):  # the slope is constant in x: nothing (eager) or zeros
        assert second is None or not np.any(second.numpy())


def test_saves_and_loads_as_itself(tmp_path):
    model = keras.Sequential([keras.Input((4,)), FastLeakyReLU(0.3, name="act")])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("act"), FastLeakyReLU) and loaded.get_layer("act").negative_slope == 0.3
    x = np.array([[-1.0, 0.0, 2.0, -3.0]], "float32")
    np.testing.assert_allclose(loaded(x), [[-0.3, 0.0, 2.0, -0.9]], rtol=1e-6)


def test_the_activation_reads_its_slope_from_the_output_and_saves_with_the_layer(tmp_path):
    from tfgm.layers import fast_leaky_relu

    keras.utils.set_random_seed(0)
    conv = keras.layers.Conv2D(4, 3, activation=fast_leaky_relu, name="conv")
    model = keras.Sequential([keras.Input((6, 6, 2)), conv])
    reference = keras.layers.Conv2D(4, 3, activation="leaky_relu")
    reference.build((None, 6, 6, 2))
    reference.set_weights(conv.get_weights())
    x = tf.random.stateless_normal((2, 6, 6, 2), seed=[3, 1])

    @tf.function
    def grads(layer):
        with tf.GradientTape() as tape:
            y = layer(x)
            loss = tf.reduce_sum(tf.sin(y))
        return y, tape.gradient(loss, layer.kernel)

    for a, b in zip(grads(conv), grads(reference)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    # LeakyReluGrad's features are the activation's output (what lets the remapper fuse conv + bias + activation),
    # not the BiasAdd output Keras' own reads
    graph = grads.get_concrete_function(conv).graph
    features = [op.inputs[1].op.type for op in graph.get_operations() if op.type == "LeakyReluGrad"]
    assert features and all(t in ("LeakyRelu", "IdentityN", "Identity") for t in features), features
    reference_graph = grads.get_concrete_function(reference).graph
    assert [op.inputs[1].op.type for op in reference_graph.get_operations() if op.type == "LeakyReluGrad"] == [
        "BiasAdd"]
    path = tmp_path / "m.keras"
    model.save(path)
    np.testing.assert_allclose(keras.saving.load_model(path)(x), model(x), rtol=1e-6)
