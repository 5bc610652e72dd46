"""A leaky ReLU whose gradient is differentiable again without a term that is always zero: Keras 3's `LeakyReLU`,
same config and function, with one change in the second derivative.

A gradient penalty (WGAN-GP, R1, Roth) differentiates the critic's input gradient once more. TensorFlow's
gradient of `LeakyReluGrad(dy, x)` returns `zeros_like(x)` for `x` (the slope is piecewise constant), and that
zero tensor is then back-propagated through the whole forward pass below the activation: the convolutions of
the penalized critic run backprop-filter and backprop-input kernels on zeros (WGAN-GP, 32×32 critic: 15 of
the step's 63 backprop-filter and 10 of its 66 backprop-input kernels). Here the first derivative is a custom
gradient whose own gradient goes to `dy` only, so nothing flows back into `x`: the same numbers, fewer kernels.
First-order gradients and the forward pass are TensorFlow's `LeakyRelu` / `LeakyReluGrad` kernels as before; the
derivative is read from the output (y > 0 exactly where x > 0), as ReLU's is, which lets Grappler fuse a
convolution or matmul with its bias and this activation (`fast_leaky_relu`, for `activation=`).
"""

import keras
import tensorflow as tf


def leaky_relu(x, negative_slope):
    """max(x, negative_slope·x) for x [...] (any float dtype); gradients as described in the module docstring."""
    @tf.custom_gradient
    def forward(x):
        y = tf.nn.leaky_relu(x, negative_slope)

        def backward(dy):
            return _backprop(dy, y, negative_slope)

        return y, backward

    return forward(x)


def _backprop(dy, y, negative_slope):
    """dy · slope at y = leaky_relu(x) (y > 0 exactly where x > 0, as negative_slope ≥ 0), differentiable in dy (the
    same product) and constant in y (its derivative there is zero)."""
    @tf.custom_gradient
    def backprop(dy):
        def second(ddx):
            return tf.raw_ops.LeakyReluGrad(gradients=ddx, features=y, alpha=negative_slope)

        return tf.raw_ops.LeakyReluGrad(gradients=dy, features=y, alpha=negative_slope), second

    return backprop(dy)


@keras.saving.register_keras_serializable(package="tfgm")
class FastLeakyReLU(keras.layers.LeakyReLU):
    """`keras.layers.LeakyReLU` (same arguments) whose second derivative skips the zero term (module docstring)."""

    def call(self, inputs):
        return leaky_relu(inputs, self.negative_slope)


@keras.saving.register_keras_serializable(package="tfgm")
def fast_leaky_relu(x, negative_slope=0.2):
    """`keras.activations.leaky_relu` (same default slope) for a layer's `activation=`, with `leaky_relu`'s
    gradients: the derivative is taken at the output, so a convolution or dense layer with this activation still
    fuses with it (Keras' own makes Grappler's remapper fail on the whole train step, "fanout ... LeakyReluGrad
    exist for missing node ... BiasAdd", and run it unfused)."""
    return leaky_relu(x, negative_slope)
