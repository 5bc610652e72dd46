"""ALI / GibbsNet networks (Dumoulin et al. 2017, appendix tables; thesis §3.4.2): encoder q(z|x),
decoder p(x|z) and joint discriminator D(x, z), for SVHN and CIFAR-10 (32×32), CelebA (64×64), and MLPs
for MNIST (28×28×1, including the 2-D-latent model of thesis fig. 3.3).

Every builder returns built Functional models. Images are float32 [B, H, W, C] in [0, 1]. Encoders output
[z_mean, s], each [B, D] (s is log σ, or σ's pre-sigmoid under GibbsNet's `bounded_sigma`); decoders take
z [B, D] (plus noise [B, K] when `noise_dim` > 0) and end in a sigmoid; discriminators take [images, z] and
return logits [B, heads]. Convolutions use valid padding; BN in encoder and decoder.
`width` scales every channel count (1.0: the published sizes; smaller for tests).

The conv models follow the paper's appendix tables where they are consistent and the authors' code
(github.com/IshmaelBelghazi/ALI, experiments/ali_{svhn,cifar10,celeba}.py) where the tables are ambiguous
or disagree with it (checked in tests/nets/test_ali_nets_tables.py):
- SVHN and CelebA D: the x branch has BN after every conv but the first (table and code for SVHN; code for
  CelebA, whose table puts BN on all five and no dropout in D(x)); dropout 0.2 before every conv of D,
  the logit conv included.
- CIFAR-10: LReLU slope 0.1 in E and G; D has no BN, maxout with 2 pieces: a conv with the table's feature
  maps, then the max over channel pairs (the code's ConvMaxout: num_channels // num_pieces outputs);
  dropout 0.2 before the first conv of each branch, 0.5 before every other conv and the logit conv.
- Conv BN: moving statistics p ← 0.95·p + 0.05·batch (the code's update), ε = 1e-4 (Blocks' default).
- CelebA's latent is 256 (the code's NLAT; the table's "512 × 1 × 1" decoder and D(z) input rows count
  the encoder's 2·256 outputs).
Not reproduced: the code's N(0, 0.01) weight initialization (Keras defaults here), its untied per-pixel
bias of the decoder's output conv initialized to the data's log-odds, and its bias-free D(z) convs.
"""

import keras
from keras import layers

from tfgm.layers.fast_conv2d import FastConv2D
from tfgm.layers.fused_batch_norm import FusedBatchNormalization
from tfgm.layers.leaky_relu import FastLeakyReLU
from tfgm.layers.replica_dropout import ReplicaDropout

BN_MOMENTUM = 0.9  # the MLPs' BN
CONV_BN_MOMENTUM = 0.95  # the conv tables' BN, as ALI's code: population ← 0.95·population + 0.05·minibatch
CONV_BN_EPSILON = 1e-4  # Blocks' BatchNormalization default, which ALI's code used


@keras.saving.register_keras_serializable(package="tfgm")
class Maxout(layers.Layer):
    """Maxout over groups of `pieces` consecutive channels: [..., C·pieces] → [..., C]."""

    def __init__(self, pieces=2, **kwargs):
        super().__init__(**kwargs)
        self.pieces = int(pieces)

    def call(self, x):
        shape = keras.ops.shape(x)
        channels = x.shape[-1] // self.pieces
        grouped = keras.ops.reshape(x, tuple(shape[:-1]) + (channels, self.pieces))
        return keras.ops.max(grouped, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] // self.pieces,)

    def get_config(self):
        return {**super().get_config(), "pieces": self.pieces}


def _w(channels, width):
    return max(1, int(round(channels * width)))


def _act(x, activation, leak, name):
    if activation == "maxout":
        return Maxout(2, name=f"{name}_maxout")(x)
    return FastLeakyReLU(negative_slope=leak, name=f"{name}_lrelu")(x)


def _conv(x, filters, kernel, strides, name, transpose=False, bn=True, leak=0.01, activation="lrelu",
          dropout=0.0):
    """[dropout] → valid conv with `filters` feature maps → [BN] → LReLU, or maxout over channel pairs (then
    `filters` is rounded to an even count and the output has half as many channels, as in ALI's code)."""
    if dropout:
        x = ReplicaDropout(dropout, name=f"{name}_dropout")(x)
    conv = layers.Conv2DTranspose if transpose else FastConv2D
    if activation == "maxout":
        filters = max(2, 2 * round(filters / 2))
    x = conv(filters, kernel, strides=strides, padding="valid", use_bias=not bn, name=f"{name}_conv")(x)
    if bn:
        x = FusedBatchNormalization(momentum=CONV_BN_MOMENTUM, epsilon=CONV_BN_EPSILON, name=f"{name}_bn")(x)
    return _act(x, activation, leak, name)


# (kernel, channels, stride) of the published tables.
_ENC_32 = ((5, 32, 1), (4, 64, 2), (4, 128, 1), (4, 256, 2), (4, 512, 1), (1, 512, 1))
_DEC_32 = ((4, 256, 1), (4, 128, 2), (4, 64, 1), (4, 32, 2), (5, 32, 1))
_DX_32 = ((5, 32, 1), (4, 64, 2), (4, 128, 1), (4, 256, 2), (4, 512, 1))
_ENC_64 = ((2, 64, 1), (7, 128, 2), (5, 256, 2), (7, 256, 2), (4, 512, 1))
_DEC_64 = ((4, 512, 1), (7, 256, 2), (5, 256, 2), (7, 128, 2), (2, 64, 1))
_DX_64 = _ENC_64


def _latent_input(latent_dim, noise_dim):
    z_in = keras.Input((latent_dim,), name="z")
    if not noise_dim:
        return [z_in], z_in
    noise_in = keras.Input((noise_dim,), name="noise")
    return [z_in, noise_in], layers.Concatenate(name="z_noise")([z_in, noise_in])


def _model(inputs, outputs, name):
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)


def conv_encoder(image_shape, latent_dim, table, width=1.0, leak=0.01, name="encoder"):
    """q(z|x): valid convs (BN + LReLU) from `table` ((kernel, channels, stride), …) down to 1×1, then 1×1
    linear convs to z_mean and s, each [B, latent_dim] (one conv to 2·D, split, as published)."""
    x_in = keras.Input(image_shape, name="images")
    x = x_in
    for i, (k, c, s) in enumerate(table):
        x = _conv(x, _w(c, width), k, s, f"enc{i}", leak=leak)
    if x.shape[1] != 1 or x.shape[2] != 1:
        raise ValueError(f"{name}: the table reduces {image_shape} to {tuple(x.shape[1:3])}, not 1×1")
    x = layers.Flatten(name="enc_flat")(x)
    z_mean = layers.Dense(latent_dim, name="z_mean")(x)
    scale = layers.Dense(latent_dim, name="z_scale")(x)
    return keras.Model(x_in, [z_mean, scale], name=name)


def conv_decoder(latent_dim, image_shape, table, width=1.0, leak=0.01, noise_dim=0, hidden_1x1=32,
                 name="decoder"):
    """p(x|z): z (⊕ noise) as 1×1 → valid transposed convs (BN + LReLU) from `table` up to the image size →
    optional 1×1 conv (BN + LReLU, `hidden_1x1` channels, 0 for none) → 1×1 conv to C channels, sigmoid."""
    inputs, z = _latent_input(latent_dim, noise_dim)
    x = layers.Reshape((1, 1, z.shape[-1]), name="dec_reshape")(z)
    for i, (k, c, s) in enumerate(table):
        x = _conv(x, _w(c, width), k, s, f"dec{i}", transpose=True, leak=leak)
    if tuple(x.shape[1:3]) != tuple(image_shape[:2]):
        raise ValueError(f"{name}: the table produces {tuple(x.shape[1:3])}, not {tuple(image_shape[:2])}")
    if hidden_1x1:
        x = _conv(x, _w(hidden_1x1, width), 1, 1, "dec_1x1", leak=leak)
    x = layers.Conv2D(image_shape[-1], 1, activation="sigmoid", name="images")(x)
    return _model(inputs, x, name)


def joint_discriminator(image_shape, latent_dim, x_table, z_units=(512, 512), joint_units=(1024, 1024),
                        width=1.0, leak=0.01, activation="lrelu", heads=1, input_dropout=0.2, dropout=0.5,
                        x_batch_norm=False, name="discriminator"):
    """D(x, z): an x branch of valid convs from `x_table` to 1×1 and a z branch of 1×1 convs (dropout before
    each layer: `input_dropout` first, then `dropout`), concatenated, then 1×1 convs `joint_units` and a
    linear 1×1 conv to `heads` logits (after `dropout`): [images, z] → [B, heads]. BN only with
    `x_batch_norm`: after every x-branch conv but the first (ALI's SVHN and CelebA D)."""
    x_in = keras.Input(image_shape, name="images")
    z_in = keras.Input((latent_dim,), name="z")
    x = x_in
    for i, (k, c, s) in enumerate(x_table):
        x = _conv(x, _w(c, width), k, s, f"dx{i}", bn=bool(x_batch_norm) and i > 0, leak=leak,
                  activation=activation, dropout=input_dropout if i == 0 else dropout)
    if x.shape[1] != 1 or x.shape[2] != 1:
        raise ValueError(f"{name}: the x table reduces {image_shape} to {tuple(x.shape[1:3])}, not 1×1")
    z = layers.Reshape((1, 1, latent_dim), name="dz_reshape")(z_in)
    for i, units in enumerate(z_units):
        z = _conv(z, _w(units, width), 1, 1, f"dz{i}", bn=False, leak=leak, activation=activation,
                  dropout=input_dropout if i == 0 else dropout)
    h = layers.Concatenate(name="dxz_concat")([x, z])
    for i, units in enumerate(joint_units):
        h = _conv(h, _w(units, width), 1, 1, f"dxz{i}", bn=False, leak=leak, activation=activation,
                  dropout=dropout)
    if dropout:
        h = ReplicaDropout(dropout, name="logits_dropout")(h)
    h = layers.Conv2D(heads, 1, name="logits_conv")(h)
    return keras.Model([x_in, z_in], layers.Flatten(name="logits")(h), name=name)


def svhn_ali(latent_dim=256, width=1.0, noise_dim=0, heads=1):
    """ALI's SVHN model (32×32×3, latent 256, LReLU 0.01 everywhere; D: BN in the x branch after its first
    conv, dropout 0.2 before every conv): (encoder, decoder, discriminator)."""
    shape = (32, 32, 3)
    return (conv_encoder(shape, latent_dim, _ENC_32, width),
            conv_decoder(latent_dim, shape, _DEC_32, width, noise_dim=noise_dim),
            joint_discriminator(shape, latent_dim, _DX_32, width=width, heads=heads, input_dropout=0.2,
                                dropout=0.2, x_batch_norm=True))


def cifar10_ali(latent_dim=64, width=1.0, noise_dim=0, heads=1):
    """ALI's CIFAR-10 model (32×32×3, latent 64, LReLU 0.1 in E and G; D without BN: maxout with 2 pieces,
    dropout 0.2 first, then 0.5): (encoder, decoder, discriminator)."""
    shape = (32, 32, 3)
    return (conv_encoder(shape, latent_dim, _ENC_32, width, leak=0.1),
            conv_decoder(latent_dim, shape, _DEC_32, width, leak=0.1, noise_dim=noise_dim),
            joint_discriminator(shape, latent_dim, _DX_32, width=width, activation="maxout", heads=heads,
                                input_dropout=0.2, dropout=0.5))


def celeba_ali(latent_dim=256, width=1.0, noise_dim=0, heads=1):
    """ALI's CelebA model (64×64×3, latent 256, LReLU 0.02; D: BN in the x branch after its first conv,
    dropout 0.2 before every conv, z branch 1024×2, joint 2048×2): (encoder, decoder, discriminator)."""
    shape = (64, 64, 3)
    return (conv_encoder(shape, latent_dim, _ENC_64, width, leak=0.02),
            conv_decoder(latent_dim, shape, _DEC_64, width, leak=0.02, noise_dim=noise_dim, hidden_1x1=0),
            joint_discriminator(shape, latent_dim, _DX_64, z_units=(1024, 1024), joint_units=(2048, 2048),
                                width=width, leak=0.02, heads=heads, input_dropout=0.2, dropout=0.2,
                                x_batch_norm=True))


def _dense(x, units, name, bn=True, leak=0.2, dropout=0.0):
    if dropout:
        x = ReplicaDropout(dropout, name=f"{name}_dropout")(x)
    x = layers.Dense(units, use_bias=not bn, name=f"{name}_dense")(x)
    if bn:
        x = FusedBatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return FastLeakyReLU(negative_slope=leak, name=f"{name}_lrelu")(x)


def mlp_ali(image_shape=(28, 28, 1), latent_dim=64, hidden=(1024, 1024), d_hidden=1024, noise_dim=0, heads=1,
            dropout=0.2, batch_norm=True):
    """Permutation-invariant MLP triple for MNIST (BN + LReLU 0.2 in E and G, dropout 0.2 in D):
    (encoder, decoder, discriminator); D has an x branch, a z branch and a joint layer, each `d_hidden`.
    `dropout`: D's rate before each of its layers (0: no Dropout layers, so D is deterministic);
    `batch_norm`: False builds E and G without BN (their outputs then do not depend on the batch)."""
    pixels = 1
    for d in image_shape:
        pixels *= int(d)
    x_in = keras.Input(image_shape, name="images")
    x = layers.Flatten(name="enc_flat")(x_in)
    for i, units in enumerate(hidden):
        x = _dense(x, units, f"enc{i}", bn=batch_norm)
    encoder = keras.Model(x_in, [layers.Dense(latent_dim, name="z_mean")(x),
                                 layers.Dense(latent_dim, name="z_scale")(x)], name="encoder")
    inputs, h = _latent_input(latent_dim, noise_dim)
    for i, units in enumerate(reversed(hidden)):
        h = _dense(h, units, f"dec{i}", bn=batch_norm)
    h = layers.Dense(pixels, activation="sigmoid", name="dec_out")(h)
    decoder = _model(inputs, layers.Reshape(image_shape, name="images")(h), "decoder")
    dx_in = keras.Input(image_shape, name="images")
    dz_in = keras.Input((latent_dim,), name="z")
    dx = _dense(layers.Flatten(name="dx_flat")(dx_in), d_hidden, "dx0", bn=False, dropout=dropout)
    dz = _dense(dz_in, d_hidden, "dz0", bn=False, dropout=dropout)
    dxz = _dense(layers.Concatenate(name="dxz_concat")([dx, dz]), d_hidden, "dxz0", bn=False, dropout=dropout)
    if dropout:
        dxz = ReplicaDropout(dropout, name="logits_dropout")(dxz)
    logits = layers.Dense(heads, name="logits")(dxz)
    discriminator = keras.Model([dx_in, dz_in], logits, name="discriminator")
    return encoder, decoder, discriminator


def mnist_ali(latent_dim=64, width=1.0, noise_dim=0, heads=1):
    """MNIST MLP triple (28×28×1, hidden 1024×2, latent 64)."""
    return mlp_ali((28, 28, 1), latent_dim, (_w(1024, width), _w(1024, width)), _w(1024, width), noise_dim, heads)


def mnist2d_ali(width=1.0, noise_dim=0, heads=1):
    """The 2-D-latent MNIST model of thesis fig. 3.3 (MLP, hidden 512×2, latent 2)."""
    return mlp_ali((28, 28, 1), 2, (_w(512, width), _w(512, width)), _w(512, width), noise_dim, heads)


ARCHITECTURES = {"svhn": svhn_ali, "cifar10": cifar10_ali, "celeba": celeba_ali, "mnist": mnist_ali}
