"""CelebA 64×64 networks of discriminative regularization (METHODS.md §1): encoder, decoder, attribute
classifier, and a frozen multi-layer feature extractor over a trained classifier.

All builders return built Functional models. Images are float32 [B, 64, 64, 3] in [0, 1].
"""

import math

import keras
from keras import layers

from tfgm.layers.fused_batch_norm import FusedBatchNormalization
from tfgm.layers.replica_dropout import ReplicaDropout

# BN outputs (pre-ReLU) of the classifier's three strided convs: the layers the paper regularizes.
REGULARIZED_LAYERS = ("strided1_bn", "strided2_bn", "strided3_bn")
# Keras' default BN momentum (0.99) leaves the population statistics far behind the weights for the first
# thousand steps, and these nets run in inference mode (frozen classifier, samples); the Theano originals
# recomputed population statistics after training instead. Measured on built-in faces, 3000 examples:
# classifier attribute accuracy after 4 epochs 0.86 with 0.9 vs 0.75 with 0.99.
BN_MOMENTUM = 0.9
# Channels of the VAE encoder's four stages (the decoder's, reversed): METHODS.md §1.
CELEBA_VAE_WIDTHS = (32, 64, 128, 256)


def celeba_vae_widths(multiplier=1.0):
    """The encoder's stage widths × `multiplier`, rounded (e.g. 0.5 → (16, 32, 64, 128)); the decoder takes them
    reversed. ValueError when a stage would get no channel."""
    if not (math.isfinite(multiplier) and multiplier > 0):
        raise ValueError(f"must be finite and > 0 (width multiplier {multiplier})")
    widths = tuple(round(w * multiplier) for w in CELEBA_VAE_WIDTHS)
    if not widths[0] >= 1:
        raise ValueError(f"width multiplier {multiplier}: the first stage's {CELEBA_VAE_WIDTHS[0]} channels "
                         f"would round to {widths[0]}")
    return widths


def celeba_vae_nets(image_shape=(64, 64, 3), latent_dim=500, width=1.0, head_channels=0):
    """(encoder, decoder) of the CelebA VAE with every convolution's channels × `width` (`celeba_vae_widths`;
    1: METHODS.md §1); head_channels as `celeba_decoder`."""
    widths = celeba_vae_widths(width)
    return (celeba_encoder(image_shape, latent_dim, widths=widths),
            celeba_decoder(latent_dim, image_shape, widths=widths[::-1], head_channels=head_channels))


def _conv_bn_relu(x, filters, kernel, strides, padding, name, transpose=False, sync_bn=False):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, kernel, strides=strides, padding=padding, use_bias=False, name=f"{name}_conv")(x)
    x = FusedBatchNormalization(momentum=BN_MOMENTUM, synchronized=sync_bn, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def _dense_bn_relu(x, units, name, sync_bn=False):
    x = layers.Dense(units, use_bias=False, name=f"{name}_dense")(x)
    x = FusedBatchNormalization(momentum=BN_MOMENTUM, synchronized=sync_bn, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def celeba_encoder(image_shape=(64, 64, 3), latent_dim=500, widths=CELEBA_VAE_WIDTHS, hidden=1000,
                   sync_bn=False, name="encoder"):
    """q(z|x): 4 stages × [3×3 conv, 3×3 conv, 2×2 stride-2 conv] (BN+ReLU, no bias) → dense → (μ, log σ²).

    Input [B, 64, 64, 3] in [0, 1]; outputs `z_mean` and `z_log_var`, each [B, latent_dim].
    """
    x_in = keras.Input(image_shape, name="images")
    x = x_in
    for i, w in enumerate(widths):
        x = _conv_bn_relu(x, w, 3, 1, "same", f"enc{i}a", sync_bn=sync_bn)
        x = _conv_bn_relu(x, w, 3, 1, "same", f"enc{i}b", sync_bn=sync_bn)
        x = _conv_bn_relu(x, w, 2, 2, "valid", f"enc{i}down", sync_bn=sync_bn)
    x = layers.Flatten(name="flatten")(x)
    x = _dense_bn_relu(x, hidden, "enc_hidden", sync_bn=sync_bn)
    z_mean = layers.Dense(latent_dim, dtype="float32", name="z_mean")(x)
    z_log_var = layers.Dense(latent_dim, dtype="float32", name="z_log_var")(x)
    return keras.Model(x_in, [z_mean, z_log_var], name=name)


def celeba_decoder(latent_dim=500, image_shape=(64, 64, 3), widths=CELEBA_VAE_WIDTHS[::-1], hidden=1000,
                   sync_bn=False, name="decoder", head_channels=0):
    """p(x|z) mean: dense → dense → 4×4×C → 4 stages × [3×3 conv, 3×3 conv, 2×2 stride-2 transposed conv] →
    1×1 conv → sigmoid. Input [B, latent_dim]; output [B, 64, 64, 3] in (0, 1).

    head_channels > 0: the 1×1 conv gives that many linear float32 channels per pixel instead ("x_params", a
    likelihood's head, e.g. `tfgm.losses.logistic_mixture_channels(K, C)` for VAE(likelihood="logistic_mixture")).
    """
    stages = len(widths)
    base_h, base_w = image_shape[0] // 2**stages, image_shape[1] // 2**stages
    z_in = keras.Input((latent_dim,), name="z")
    x = _dense_bn_relu(z_in, hidden, "dec_hidden", sync_bn=sync_bn)
    x = _dense_bn_relu(x, base_h * base_w * widths[0], "dec_project", sync_bn=sync_bn)
    x = layers.Reshape((base_h, base_w, widths[0]), name="reshape")(x)
    for i, w in enumerate(widths):
        x = _conv_bn_relu(x, w, 3, 1, "same", f"dec{i}a", sync_bn=sync_bn)
        x = _conv_bn_relu(x, w, 3, 1, "same", f"dec{i}b", sync_bn=sync_bn)
        x = _conv_bn_relu(x, w, 2, 2, "valid", f"dec{i}up", transpose=True, sync_bn=sync_bn)
    if head_channels:
        x_out = layers.Conv2D(int(head_channels), 1, dtype="float32", name="x_params")(x)
        return keras.Model(z_in, x_out, name=name)
    x = layers.Conv2D(image_shape[-1], 1, name="to_pixels")(x)
    x_out = layers.Activation("sigmoid", dtype="float32", name="x_mean")(x)
    return keras.Model(z_in, x_out, name=name)


def celeba_classifier(image_shape=(64, 64, 3), num_attributes=40, widths=(32, 64, 128), hidden=1000,
                      dropout=0.5, name="attribute_classifier"):
    """Attribute classifier: per stage a valid conv then a strided 3×3 valid conv (no bias, BN+ReLU, dropout
    after the strided one), kernels 4/3, 4/3, 3/3 → dense (BN, ReLU, dropout) → logits.

    Input [B, 64, 64, 3] in [0, 1]; output logits [B, num_attributes] (sigmoid cross-entropy per attribute).
    Strided convs' BN layers are named `strided{1,2,3}_bn` (see REGULARIZED_LAYERS).
    """
    kernels = (4, 4, 3)
    x_in = keras.Input(image_shape, name="images")
    x = x_in
    for i, (w, k) in enumerate(zip(widths, kernels), start=1):
        x = _conv_bn_relu(x, w, k, 1, "valid", f"plain{i}")
        x = layers.Conv2D(w, 3, strides=2, padding="valid", use_bias=False, name=f"strided{i}_conv")(x)
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"strided{i}_bn")(x)
        x = layers.ReLU(name=f"strided{i}_relu")(x)
        x = ReplicaDropout(dropout, name=f"strided{i}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    x = _dense_bn_relu(x, hidden, "hidden")
    x = ReplicaDropout(dropout, name="hidden_dropout")(x)
    logits = layers.Dense(num_attributes, dtype="float32", name="logits")(x)
    return keras.Model(x_in, logits, name=name)


def feature_extractor(classifier, layer_names=REGULARIZED_LAYERS, name="features"):
    """A frozen Functional model: images → {layer name: that layer's output} of a trained `classifier`.

    Shares the classifier's layers (and weights); `trainable` is False, so calling it inside another model
    never updates those weights.
    """
    missing = [n for n in layer_names if n not in {layer.name for layer in classifier.layers}]
    if missing:
        known = ", ".join(layer.name for layer in classifier.layers)
        raise ValueError(f"feature_extractor: layers {missing} are not in '{classifier.name}'. Known layers: {known}")
    outputs = {n: classifier.get_layer(n).output for n in layer_names}
    model = keras.Model(classifier.input, outputs, name=name)
    model.trainable = False
    return model
