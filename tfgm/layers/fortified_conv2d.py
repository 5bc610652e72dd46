"""Convolutional fortified layer: a one-hidden-layer convolutional DAE with tied weights (thesis §2.7)."""

import keras

from tfgm.layers._fortified_base import FortifiedLayer


@keras.saving.register_keras_serializable(package="tfgm")
class FortifiedConv2D(FortifiedLayer):
    """h [B, H, W, C] → D(E(h + n)) [B, H, W, C]; E = act(conv(·, K) + b_e), D = conv_transpose(·, K) + b_d.

    One kernel K [k, k, C, F] (default 5×5, stride 1, 'same' padding, as in the paper): the decoder is
    the transposed convolution with the encoder's kernel. Channels-last only. Noise n ~ N(0, σ²) only
    while training unless `noise_at_inference`.
    """

    def __init__(self, hidden_filters, kernel_size=5, noise_stddev=0.1, activation="leaky_relu",
                 noise_at_inference=False, seed=None, **kwargs):
        super().__init__(hidden_filters, noise_stddev=noise_stddev, activation=activation,
                         noise_at_inference=noise_at_inference, seed=seed, **kwargs)
        self.hidden_filters = self.units
        self.kernel_size = int(kernel_size)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(f"{self.name}: expects channels-last feature maps [B, H, W, C] with C known, "
                             f"got {input_shape}; use FortifiedDense for vectors and sequences")
        channels = input_shape[-1]
        k = self.kernel_size
        self.kernel = self.add_weight(shape=(k, k, channels, self.units), initializer="glorot_uniform",
                                      name="kernel")
        self.encoder_bias = self.add_weight(shape=(self.units,), initializer="zeros", name="encoder_bias")
        self.decoder_bias = self.add_weight(shape=(channels,), initializer="zeros", name="decoder_bias")

    def encode(self, h):
        """[B, H, W, C] → code [B, H, W, F]."""
        return self.activation(keras.ops.conv(h, self.kernel, strides=1, padding="same") + self.encoder_bias)

    def decode(self, code):
        """[B, H, W, F] → [B, H, W, C]: transposed convolution with the encoder's kernel."""
        return keras.ops.conv_transpose(code, self.kernel, strides=1, padding="same") + self.decoder_bias

    def get_config(self):
        config = super().get_config()
        config.update({"hidden_filters": self.hidden_filters, "kernel_size": self.kernel_size})
        return config
