"""Fully connected fortified layer: a one-hidden-layer denoising autoencoder with tied weights."""

import keras

from tfgm.layers._fortified_base import FortifiedLayer


@keras.saving.register_keras_serializable(package="tfgm")
class FortifiedDense(FortifiedLayer):
    """h [B, ..., D] → D(E(h + n)) [B, ..., D] with E(h) = act(h W + b_e), D(e) = e Wᵀ + b_d (one kernel W [D, U]).

    Acts on the last axis, so a sequence [B, T, D] is fortified at every step. The decoder is linear
    (hidden states may take any real value). Noise n ~ N(0, σ²) only while training unless
    `noise_at_inference`. `reconstruction_error(h, recon)` gives the per-example error [B].
    """

    def __init__(self, hidden_units, noise_stddev=0.1, activation="leaky_relu", noise_at_inference=False,
                 seed=None, **kwargs):
        super().__init__(hidden_units, noise_stddev=noise_stddev, activation=activation,
                         noise_at_inference=noise_at_inference, seed=seed, **kwargs)
        self.hidden_units = self.units

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(f"{self.name}: the last axis of the fortified hidden state must be known, "
                             f"got {input_shape}")
        self.kernel = self.add_weight(shape=(dim, self.units), initializer="glorot_uniform", name="kernel")
        self.encoder_bias = self.add_weight(shape=(self.units,), initializer="zeros", name="encoder_bias")
        self.decoder_bias = self.add_weight(shape=(dim,), initializer="zeros", name="decoder_bias")

    def encode(self, h):
        """[B, ..., D] → code [B, ..., U]."""
        return self.activation(keras.ops.matmul(h, self.kernel) + self.encoder_bias)

    def decode(self, code):
        """[B, ..., U] → [B, ..., D] through the transposed encoder kernel."""
        return keras.ops.matmul(code, keras.ops.transpose(self.kernel)) + self.decoder_bias

    def get_config(self):
        config = super().get_config()
        config["hidden_units"] = self.hidden_units
        return config
