"""tfgm.layers.FastConv2D: Keras' Conv2D in outputs, gradients and gradients of gradients; the explicit-padding
input-gradient kernel and the matmul exactly where the rules say; serializable; exports with parity."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.layers._twins import assert_same, twins
from tfgm.layers import FastConv2D
from tfgm.nets import dcgan, fortified_nets


@pytest.mark.parametrize("filters,kernel,strides,padding,shape", [
    (16, 8, 2, "same", (3, 28, 28, 1)),
    (8, 4, 2, "same", (2, 32, 32, 3)),
    (8, 4, 2, "same", (2, 31, 31, 3)),   # uneven padding (1 before, 2 after)
    (8, 5, 3, "same", (2, 31, 31, 3)),
    (8, 8, 2, "valid", (2, 28, 28, 1)),
    (4, 2, (2, 1), "same", (2, 9, 10, 2)),  # different strides, sizes and paddings per axis
    (8, 5, 1, "valid", (2, 5, 5, 16)),   # the kernel covers the input: a matmul
    (8, (4, 3), 2, "valid", (2, 4, 3, 3)),
    (8, 1, 1, "valid", (2, 1, 1, 12)),
])
def test_outputs_and_gradients_equal_keras_conv2d(filters, kernel, strides, padding, shape):
    ours, theirs = twins(FastConv2D, keras.layers.Conv2D, shape, filters, kernel, strides=strides,
                         padding=padding, activation="leaky_relu")
    x = tf.random.stateless_normal(shape, seed=[1, 2])
    assert_same(ours, theirs, x)


def _input_gradient_paddings(layer, shape):
    """Padding attributes of the Conv2DBackpropInput ops in the traced input gradient of `layer` at `shape`."""
    @tf.function
    def input_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        return tape.gradient(y, x)

    graph = input_gradient.get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph
    return [op.get_attr("padding").decode() for op in graph.get_operations() if op.type == "Conv2DBackpropInput"]


@pytest.mark.parametrize("kernel,strides,shape,expected", [
    (8, 2, (2, 28, 28, 1), "EXPLICIT"),
    (4, 2, (2, 32, 32, 8), "EXPLICIT"),
    (4, 2, (2, 32, 32, 9), "SAME"),   # more than FEW_CHANNELS input channels
    (3, 1, (2, 32, 32, 3), "SAME"),   # stride 1
])
def test_the_explicit_kernel_is_taken_exactly_where_the_rule_says(kernel, strides, shape, expected):
    layer = FastConv2D(8, kernel, strides=strides, padding="same")
    assert _input_gradient_paddings(layer, shape) == [expected]


@pytest.mark.parametrize("kernel,shape,matmul", [
    (5, (2, 5, 5, 16), True),
    (1, (2, 1, 1, 12), True),
    (5, (2, 6, 6, 16), False),   # the kernel does not cover the input
])
def test_a_convolution_over_the_whole_input_runs_as_one_matmul(kernel, shape, matmul):
    layer = FastConv2D(8, kernel, padding="valid")
    graph = tf.function(layer).get_concrete_function(tf.TensorSpec(shape, tf.float32)).graph
    types = {op.type for op in graph.get_operations()}
    assert ("MatMul" in types, "Conv2D" in types) == (matmul, not matmul), types


def test_other_dtypes_and_unknown_sizes_run_keras_own_convolution():
    assert _input_gradient_paddings(FastConv2D(8, 4, strides=2, padding="same"), (2, None, None, 3)) == ["SAME"]
    layer = FastConv2D(8, 4, strides=2, padding="same", dtype="mixed_bfloat16")
    x = tf.zeros([2, 32, 32, 3], tf.bfloat16)
    assert not layer._explicit_input_grad(x)
    assert layer(x).dtype == tf.bfloat16


def test_serializes_and_reloads_as_fast_conv2d(tmp_path):
    net = fortified_nets.mnist_cnn()
    assert isinstance(net.get_layer("conv1"), FastConv2D)
    net.save(tmp_path / "cnn.keras")
    loaded = keras.saving.load_model(tmp_path / "cnn.keras")
    assert type(loaded.get_layer("conv1")) is FastConv2D
    x = tf.random.stateless_uniform([4, 28, 28, 1], seed=[3, 4])
    np.testing.assert_allclose(loaded(x).numpy(), net(x).numpy(), rtol=1e-5, atol=1e-6)


def test_discriminators_first_convolution_takes_the_explicit_kernel():
    for spectral_norm in (False, True):
        d = dcgan.discriminator((32, 32, 3), width=16, batch_norm=not spectral_norm, spectral_norm=spectral_norm)
        x = tf.random.stateless_uniform([2, 32, 32, 3], seed=[5, 6])

        @tf.function
        def input_gradient(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                logits = d(x, training=True)
            return tape.gradient(logits, x)

        graph = input_gradient.get_concrete_function(x).graph
        paddings = [op.get_attr("padding").decode() for op in graph.get_operations()
                    if op.type == "Conv2DBackpropInput"]
        assert paddings.count("EXPLICIT") == 1 and len(paddings) == 3, (spectral_norm, paddings)


def test_a_fortified_mnist_cnn_exports_with_parity(tmp_path):
    """The custom gradient leaves no trace a server or ONNX cannot run: export_run's parity checks pass."""
    from export import export_run
    from tests.export.conftest import make_run_dir
    from tfgm.models import fortify

    keras.utils.set_random_seed(0)
    model = fortify(fortified_nets.mnist_cnn(), ["flatten"], hidden_units=16, seed=0)
    model.calibrate_threshold(tf.data.Dataset.from_tensor_slices(np.random.default_rng(0).random(
        (32, 28, 28, 1), dtype="float32")).batch(16), false_alarm_rate=0.5)
    report = export_run(make_run_dir(tmp_path, {"fortified": model}), batch_sizes=(1, 3), atol=1e-4)
    assert report["passed"], report["models"]["fortified"]
