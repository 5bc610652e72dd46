"""Tiny builders shared by model tests: the discgen architectures at toy widths (32×32 images)."""

import keras

from tfgm.nets import discgen

IMAGE_SHAPE = (32, 32, 3)
LATENT = 6


def tiny_encoder(sync_bn=False):
    return discgen.celeba_encoder(IMAGE_SHAPE, LATENT, widths=(4, 6), hidden=16, sync_bn=sync_bn)


def tiny_decoder(sync_bn=False):
    return discgen.celeba_decoder(LATENT, IMAGE_SHAPE, widths=(6, 4), hidden=16, sync_bn=sync_bn)


def tiny_classifier(num_attributes=5):
    return discgen.celeba_classifier(IMAGE_SHAPE, num_attributes, widths=(4, 4, 4), hidden=8)


def tiny_features():
    return discgen.feature_extractor(tiny_classifier())


def adam():
    return keras.optimizers.Adam(1e-2)


def plain_encoder():
    """Encoder without batch norm: its gradients do not depend on how a batch is split over replicas."""
    x_in = keras.Input(IMAGE_SHAPE)
    x = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(x_in)
    x = keras.layers.Flatten()(x)
    return keras.Model(x_in, [keras.layers.Dense(LATENT)(x), keras.layers.Dense(LATENT)(x)])


def plain_decoder():
    z_in = keras.Input((LATENT,))
    x = keras.layers.Dense(8 * 8 * 4, activation="relu")(z_in)
    x = keras.layers.Reshape((8, 8, 4))(x)
    return keras.Model(z_in, keras.layers.Conv2DTranspose(3, 4, strides=4, activation="sigmoid")(x))
