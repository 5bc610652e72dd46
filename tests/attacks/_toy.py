"""Small models and data shared by the attack tests."""

import numpy as np
import tensorflow as tf

import keras

rng = np.random.default_rng(0)
W = rng.normal(size=(10, 3)).astype("float32")
B = rng.normal(size=(3,)).astype("float32")
X = rng.random((16, 10)).astype("float32")
Y = rng.integers(0, 3, size=16).astype("int32")


def linear(x):
    """logits = x W + b."""
    return tf.matmul(x, W) + B


def mlp(seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input((10,))
    h = keras.layers.Dense(32, activation="tanh")(inp)
    h = keras.layers.Dense(32, activation="tanh")(h)
    return keras.Model(inp, keras.layers.Dense(3)(h) * 4.0)


def ce(model, x, y):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=model(x)).numpy()
