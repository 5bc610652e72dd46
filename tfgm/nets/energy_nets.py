"""Energy networks for `tfgm.models.EnergyModel` / `NCE`: x → one scalar energy per example (lower = likelier)."""

import keras
from keras import layers

from tfgm.layers.leaky_relu import FastLeakyReLU


def mnist_energy(image_shape=(28, 28, 1), width=64, name="energy"):
    """Du & Mordatch's (2019) MNIST energy net: images [B, H, W, C] in [0, 1] → energy [B, 1] (float32).

    A 3×3 conv to 32 channels, then three 4×4 stride-2 convs (width, 2·width, 2·width), LeakyReLU 0.2 after each,
    flatten, a dense unit. Their spectral normalization is left out: `EnergyModel` does not drive its power
    iteration, and its α(E⁺² + E⁻²) term keeps the energies bounded.
    """
    x_in = keras.Input(image_shape, name="images")
    x = FastLeakyReLU(0.2, name="pre_lrelu")(layers.Conv2D(32, 3, padding="same", name="pre")(x_in))
    for i, filters in enumerate((width, 2 * width, 2 * width)):
        x = layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down{i}")(x)
        x = FastLeakyReLU(0.2, name=f"down{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    energy = layers.Dense(1, dtype="float32", name="energy")(x)
    return keras.Model(x_in, energy, name=name)


def mlp_energy(dim=1, hidden=(32, 32), quadratic=0.5, name="energy"):
    """A tanh MLP energy on points plus a non-negative quadratic term q·‖x‖² (q ≥ 0 kept by a constraint, started at
    `quadratic`), so exp(−E) stays integrable over ℝ^dim: x [B, dim] → energy [B, 1] (float32)."""
    x_in = keras.Input((dim,), name="x")
    h = x_in
    for i, units in enumerate(hidden):
        h = layers.Dense(units, activation="tanh", name=f"hidden{i}")(h)
    squared = layers.Dot(axes=1, name="squared_norm")([x_in, x_in])
    bowl = layers.Dense(1, use_bias=False, kernel_constraint=keras.constraints.NonNeg(),
                        kernel_initializer=keras.initializers.Constant(quadratic), name="quadratic")(squared)
    energy = layers.Add(dtype="float32", name="energy")([layers.Dense(1, name="mlp_out")(h), bowl])
    return keras.Model(x_in, energy, name=name)
