"""DCGAN-style networks (Radford et al. 2016) for 28×28, 32×32 and 64×64 images, and MLPs for 2-D toy data.

All builders return built Functional models. Images are float32 [B, H, W, C] in [0, 1] on both sides: the
generator ends in tanh rescaled to [0, 1], the discriminator rescales its input to [-1, 1] first.
Discriminators output one raw logit per example, [B, 1]. `spectral_norm=True` wraps every conv/dense
layer of a discriminator in `tfgm.layers.SpectralNorm` (Miyato et al.: W/σ in the forward pass; its power
iteration runs once per optimizer step, which `tfgm.models.GAN` drives).
"""

import keras
from keras import layers

from tfgm.layers.fast_conv2d import FastConv2D
from tfgm.layers.fast_conv2d_transpose import FastConv2DTranspose
from tfgm.layers.fused_batch_norm import FusedBatchNormalization
from tfgm.layers.leaky_relu import FastLeakyReLU
from tfgm.layers.spectral_norm import SpectralNorm

LEAK = 0.2
# Samples are drawn in inference mode: with Keras' default momentum (0.99) the moving statistics trail the
# weights for the first thousand steps and early sample grids show noise; 0.9 follows them within ~20 steps.
BN_MOMENTUM = 0.9


def base_size(size):
    """Spatial size at which the generator starts: halve `size` while it is even and > 4 (28 → 7, 32/64 → 4)."""
    size = int(size)
    while size % 2 == 0 and size > 4:
        size //= 2
    return size


def _doublings(image_shape):
    height, width = int(image_shape[0]), int(image_shape[1])
    if height != width:
        raise ValueError(f"DCGAN nets need square images, got {height}×{width}")
    base = base_size(height)
    steps = (height // base).bit_length() - 1
    if steps < 1:
        raise ValueError(f"image size {height} is too small: it must be at least twice {base}")
    return base, steps


def _sn(layer, spectral_norm):
    return SpectralNorm(layer, name=f"{layer.name}_sn") if spectral_norm else layer


def generator(latent_dim=100, image_shape=(32, 32, 3), width=64, batch_norm=True, name="generator"):
    """z [B, latent_dim] → images [B, H, W, C] in [0, 1].

    Dense to base×base×(width·2^(k-1)) (base 7 for 28×28, 4 for 32/64), then k−1 stride-2 4×4 transposed
    convs halving the channels (BN, ReLU) and a last stride-2 transposed conv to C channels, tanh → [0, 1].
    """
    base, steps = _doublings(image_shape)
    channels = width * 2 ** (steps - 1)
    z_in = keras.Input((latent_dim,), name="z")
    x = layers.Dense(base * base * channels, use_bias=not batch_norm, name="project")(z_in)
    if batch_norm:
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name="project_bn")(x)
    x = layers.ReLU(name="project_relu")(x)
    x = layers.Reshape((base, base, channels), name="reshape")(x)
    for i in range(steps - 1):
        channels //= 2
        x = FastConv2DTranspose(channels, 4, strides=2, padding="same", use_bias=not batch_norm,
                                name=f"up{i}")(x)
        if batch_norm:
            x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"up{i}_bn")(x)
        x = layers.ReLU(name=f"up{i}_relu")(x)
    x = FastConv2DTranspose(image_shape[-1], 4, strides=2, padding="same", name="to_pixels")(x)
    x = layers.Activation("tanh", dtype="float32", name="tanh")(x)
    x_out = layers.Rescaling(0.5, offset=0.5, dtype="float32", name="images")(x)
    return keras.Model(z_in, x_out, name=name)


def discriminator(image_shape=(32, 32, 3), width=64, batch_norm=True, spectral_norm=False, name="discriminator"):
    """images [B, H, W, C] in [0, 1] → logits [B, 1].

    k stride-2 4×4 convs (width, 2·width, ...; LeakyReLU 0.2; BN on all but the first when `batch_norm`),
    flatten, dense to one logit. Use `batch_norm=False` for critics with a gradient penalty (WGAN-GP).
    """
    _, steps = _doublings(image_shape)
    x_in = keras.Input(image_shape, name="images")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_symmetric")(x_in)
    for i in range(steps):
        use_bn = batch_norm and i > 0
        conv = FastConv2D(width * 2**i, 4, strides=2, padding="same", use_bias=not use_bn, name=f"down{i}")
        x = _sn(conv, spectral_norm)(x)
        if use_bn:
            x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"down{i}_bn")(x)
        x = FastLeakyReLU(LEAK, name=f"down{i}_lrelu")(x)
    x = layers.Flatten(name="flatten")(x)
    logits = _sn(layers.Dense(1, name="logit"), spectral_norm)(x)
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(x_in, logits, name=name)


def classifier(image_shape=(28, 28, 1), num_classes=10, width=32, feature_units=128, name="classifier"):
    """A small DCGAN-style classifier, e.g. as the feature network of a Fréchet distance on small data.

    images [B, H, W, C] in [0, 1] → class probabilities [B, num_classes] (softmax). The layer named
    "features" (ReLU, [B, feature_units]) is the embedding to compare statistics on.
    """
    _, steps = _doublings(image_shape)
    x_in = keras.Input(image_shape, name="images")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_symmetric")(x_in)
    for i in range(steps):
        x = layers.Conv2D(width * 2**i, 4, strides=2, padding="same", activation="relu", name=f"down{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(feature_units, activation="relu", name="features")(x)
    probs = layers.Dense(num_classes, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(x_in, probs, name=name)


def mlp_generator(latent_dim=2, data_dim=2, hidden=(128, 128, 128), name="generator"):
    """Toy generator: z [B, latent_dim] → points [B, data_dim] (ReLU MLP, linear output, no BN)."""
    z_in = keras.Input((latent_dim,), name="z")
    x = z_in
    for i, units in enumerate(hidden):
        x = layers.Dense(units, activation="relu", name=f"hidden{i}")(x)
    x_out = layers.Dense(data_dim, dtype="float32", name="points")(x)
    return keras.Model(z_in, x_out, name=name)


def mlp_discriminator(data_dim=2, hidden=(128, 128, 128), spectral_norm=False, name="discriminator"):
    """Toy discriminator: points [B, data_dim] → logits [B, 1] (LeakyReLU MLP, no BN)."""
    x_in = keras.Input((data_dim,), name="points")
    x = x_in
    for i, units in enumerate(hidden):
        x = _sn(layers.Dense(units, name=f"hidden{i}"), spectral_norm)(x)
        x = FastLeakyReLU(LEAK, name=f"hidden{i}_lrelu")(x)
    logits = _sn(layers.Dense(1, name="logit"), spectral_norm)(x)
    logits = layers.Activation("linear", dtype="float32", name="logits")(logits)
    return keras.Model(x_in, logits, name=name)
