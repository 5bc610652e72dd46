"""Shared machinery of the fortified layers: Gaussian corruption, tied-weight DAE call, per-example error."""

import contextlib

import keras
import tensorflow as tf

REDUCTIONS = ("mean", "sum")

from tfgm.layers._replica_seed import replica_seed


class FortifiedLayer(keras.layers.Layer):
    """Base class: h → D(E(h + n)), n ~ N(0, σ²) while training (or always if `noise_at_inference`).

    Subclasses implement `encode(h)` and `decode(code)` with one shared kernel (tied weights).
    Noise is drawn with stateless ops from a seed generator the layer owns (a new seed per call, the
    replica id folded in), so runs with the same seed and checkpoint draw the same noise.
    """

    def __init__(self, units, noise_stddev=0.1, activation="leaky_relu", noise_at_inference=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"{type(self).__name__}: the number of hidden units must be >= 1, got {units}")
        if float(noise_stddev) < 0:
            raise ValueError(f"{type(self).__name__}: noise_stddev must be >= 0, got {noise_stddev}")
        self.units = int(units)
        self.noise_stddev = float(noise_stddev)
        self.activation = keras.activations.get(activation)
        self._activation_config = keras.activations.serialize(self.activation)
        self.noise_at_inference = bool(noise_at_inference)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.noise_suppressed = False

    def corrupt(self, h, training=False):
        """h + n with n ~ N(0, σ²) when training or `noise_at_inference`; h itself otherwise, and always
        while `noise_suppressed` (set by `suppress_noise` around the Python code that calls or traces it)."""
        if self.noise_suppressed or not (training or self.noise_at_inference) or self.noise_stddev == 0.0:
            return h
        seed = replica_seed(self.seed_generator.next())
        return h + tf.random.stateless_normal(tf.shape(h), seed, stddev=self.noise_stddev, dtype=h.dtype)

    def call(self, h, training=False):
        """h [B, ...] → reconstruction D(E(h + n)), same shape as h."""
        return self.decode(self.encode(self.corrupt(h, training)))

    def compute_output_shape(self, input_shape):
        return input_shape

    @staticmethod
    def reconstruction_error(h, reconstruction, reduction="sum"):
        """Squared error of `reconstruction` against h, per example: [B], float32.

        reduction: "sum" = ‖reconstruction − h‖² over all but the batch axis (the thesis' error);
        "mean" = that sum divided by the number of elements per example (the release's per-unit mean).
        """
        if reduction not in REDUCTIONS:
            raise ValueError(f"reconstruction_error: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        diff = tf.cast(reconstruction, tf.float32) - tf.cast(h, tf.float32)
        squares = tf.reshape(tf.square(diff), [tf.shape(diff)[0], -1])
        return tf.reduce_sum(squares, axis=1) if reduction == "sum" else tf.reduce_mean(squares, axis=1)

    def get_config(self):
        config = super().get_config()
        config.update({
            "noise_stddev": self.noise_stddev,
            "activation": self._activation_config,
            "noise_at_inference": self.noise_at_inference,
            "seed": self.seed,
        })
        return config


@contextlib.contextmanager
def suppress_noise(layers):
    """No corruption in `layers` (FortifiedLayer) while the enclosed Python code runs, whatever `training`
    or `noise_at_inference` say. Graphs traced inside carry no noise ops; restored on exit."""
    layers = list(layers)
    saved = [layer.noise_suppressed for layer in layers]
    try:
        for layer in layers:
            layer.noise_suppressed = True
        yield
    finally:
        for layer, value in zip(layers, saved):
            layer.noise_suppressed = value
