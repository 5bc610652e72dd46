"""tfgm.layers.FastConv2DTranspose: Keras' Conv2DTranspose in outputs, gradients and gradients of gradients; the
explicit-padding kernel exactly where the rule says and no EXPLICIT backprop-filter; serializable; the nets use it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.layers._twins import assert_same, twins
from tfgm.layers import FastConv2DTranspose


@pytest.mark.parametrize("filters,kernel,strides,padding,shape", [
    (3, 4, 2, "same", (2, 16, 16, 64)),   # DCGAN's to_pixels
    (1, 5, 2, "same", (2, 7, 7, 8)),
    (3, 4, 2, "valid", (2, 5, 5, 4)),
    (2, 3, (2, 1), "same", (2, 5, 6, 3)),  # different strides per axis
    (3, 5, 3, "same", (2, 4, 5, 6)),
    (3, 1, 2, "valid", (2, 5, 5, 4)),     # kernel smaller than the stride: the output is in·stride, not
    (3, 2, 3, "valid", (2, 5, 5, 4)),     # (in − 1)·stride + kernel
    (3, 1, 2, "same", (2, 5, 5, 4)),
])
def test_outputs_and_gradients_equal_keras_conv2d_transpose(filters, kernel, strides, padding, shape):
    ours, theirs = twins(FastConv2DTranspose, keras.layers.Conv2DTranspose, shape, filters, kernel, strides=strides,
                         padding=padding, activation="tanh")
    x = tf.random.stateless_normal(shape, seed=[1, 2])
    assert ours._explicit(x)
    assert_same(ours, theirs, x)


def _paddings(layer, shape):
    """Padding attributes of the Conv2DBackpropInput / Conv2DBackpropFilter ops of the traced forward pass and
    kernel gradient of `layer` at `shape`."""
    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            y = layer(x)
        return tape.gradient(y, layer.kernel)

    graph = step.get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph
    return {kind: [op.get_attr("padding").decode() for op in graph.get_operations() if op.type == kind]
            for kind in ("Conv2DBackpropInput", "Conv2DBackpropFilter")}


@pytest.mark.parametrize("filters,strides,expected", [
    (3, 2, "EXPLICIT"),
    (8, 2, "EXPLICIT"),
    (9, 2, "SAME"),   # more than FEW_CHANNELS output channels
    (3, 1, "SAME"),   # stride 1
])
def test_the_explicit_kernel_is_taken_exactly_where_the_rule_says(filters, strides, expected):
    layer = FastConv2DTranspose(filters, 4, strides=strides, padding="same")
    paddings = _paddings(layer, (2, 8, 8, 16))
    assert paddings["Conv2DBackpropInput"][0] == expected
    assert "EXPLICIT" not in paddings["Conv2DBackpropFilter"]


def test_saves_and_loads_as_itself(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 5)), FastConv2DTranspose(3, 4, strides=2, padding="same",
                                                                          name="up")])
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.get_layer("up"), FastConv2DTranspose)
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 5)).astype("float32")
    np.testing.assert_allclose(loaded(x), model(x), rtol=1e-6)


def test_the_dcgan_generator_takes_it_on_its_pixel_layer_only():
    from tfgm.nets import dcgan

    model = dcgan.generator()
    taken = {l.name: l._explicit(l.input) for l in model.layers if isinstance(l, FastConv2DTranspose)}
    assert taken == {"up0": False, "up1": False, "to_pixels": True}
