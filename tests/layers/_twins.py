"""A tfgm drop-in layer and the Keras layer it extends, built alike, compared in outputs, gradients and gradients
of gradients (FastConv2D, FastConv2DTranspose)."""

import keras
import numpy as np
import tensorflow as tf

NAMES = ["output", "input gradient", "kernel gradient", "penalty's kernel gradient", "penalty's bias gradient"]


def twins(ours_class, theirs_class, shape, *args, **kwargs):
    """(ours, theirs): both classes built on `shape` from the same arguments, with the same weights."""
    keras.utils.set_random_seed(0)
    ours, theirs = ours_class(*args, **kwargs), theirs_class(*args, **kwargs)
    ours.build(shape)
    theirs.build(shape)
    theirs.set_weights(ours.get_weights())
    return ours, theirs


def outputs_and_gradients(layer, x):
    """(y, dL/dx, dL/dkernel, d‖dL/dx‖²/d(kernel, bias)) of L = Σ sin(layer(x)): a gradient penalty's path."""
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.sin(y))
        dx, dk = inner.gradient(loss, [x, layer.kernel])
        penalty = tf.reduce_sum(dx**2)
    return [y, dx, dk, *outer.gradient(penalty, [layer.kernel, layer.bias])]


def assert_same(ours, theirs, x):
    """Every quantity of `outputs_and_gradients` equal up to float32 summation order."""
    for name, a, b in zip(NAMES, outputs_and_gradients(ours, x), outputs_and_gradients(theirs, x)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5 * float(tf.reduce_max(tf.abs(b))),
                                   err_msg=name)
