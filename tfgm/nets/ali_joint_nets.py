"""Networks of the joint image–attribute GibbsNet (thesis §3.6.3, fig. 3.6): q(z|x, y), p(x, y|z), D(x, y, z).

"q(z|x, y) takes both the image and attribute, separately processing the two modalities before joining
them; p(x, y|z) is one network that splits into two networks to predict the modalities separately."
The image parts are ALI's CelebA 64×64 tables (tfgm.nets.ali_nets); the attribute parts, which the thesis
does not give, are MLPs. Images are float32 [B, H, W, C] in [0, 1]; attributes [B, A] in {0, 1}.

Every builder returns built Functional models (encoder, decoder, discriminator):
  encoder [images, attributes] → [z_mean, s], each [B, D];
  decoder z [B, D] (or [z, noise [B, K]]) → [images (sigmoid), attribute logits [B, A]];
  discriminator [images, attributes, z] → logits [B, heads].
"""

import keras
from keras import layers

from tfgm.layers.fused_batch_norm import FusedBatchNormalization
from tfgm.layers.leaky_relu import FastLeakyReLU
from tfgm.layers.replica_dropout import ReplicaDropout
from tfgm.nets import ali_nets


def _dense(x, units, name, bn=True, leak=0.02, dropout=0.0):
    if dropout:
        x = ReplicaDropout(dropout, name=f"{name}_dropout")(x)
    x = layers.Dense(units, use_bias=not bn, name=f"{name}_dense")(x)
    if bn:
        x = FusedBatchNormalization(momentum=ali_nets.BN_MOMENTUM, name=f"{name}_bn")(x)
    return FastLeakyReLU(negative_slope=leak, name=f"{name}_lrelu")(x)


def _conv_branch(x, table, width, leak, prefix, bn=True, first_bn=True, dropout=0.0):
    for i, (k, c, s) in enumerate(table):
        x = ali_nets._conv(x, ali_nets._w(c, width), k, s, f"{prefix}{i}", bn=bn and (first_bn or i > 0), leak=leak,
                           dropout=dropout)
    if x.shape[1] != 1 or x.shape[2] != 1:
        raise ValueError(f"{prefix}: the table reduces the image to {tuple(x.shape[1:3])}, not 1×1")
    return layers.Flatten(name=f"{prefix}_flat")(x)


def _conv_head(h, image_shape, table, width, leak, prefix):
    x = layers.Reshape((1, 1, h.shape[-1]), name=f"{prefix}_reshape")(h)
    for i, (k, c, s) in enumerate(table):
        x = ali_nets._conv(x, ali_nets._w(c, width), k, s, f"{prefix}{i}", transpose=True, leak=leak)
    if tuple(x.shape[1:3]) != tuple(image_shape[:2]):
        raise ValueError(f"{prefix}: the table produces {tuple(x.shape[1:3])}, not {tuple(image_shape[:2])}")
    return layers.Conv2D(image_shape[-1], 1, activation="sigmoid", name="images")(x)


def _mlp_branch(x, units, leak, prefix, bn=True, dropout=0.0):
    x = layers.Flatten(name=f"{prefix}_flat")(x)
    for i, u in enumerate(units):
        x = _dense(x, u, f"{prefix}{i}", bn=bn, leak=leak, dropout=dropout)
    return x


def _mlp_head(h, image_shape, units, leak, prefix):
    for i, u in enumerate(units):
        h = _dense(h, u, f"{prefix}{i}", leak=leak)
    pixels = 1
    for d in image_shape:
        pixels *= int(d)
    h = layers.Dense(pixels, activation="sigmoid", name=f"{prefix}_out")(h)
    return layers.Reshape(image_shape, name="images")(h)


def _assemble(image_shape, num_attributes, latent_dim, enc_x, dec_x, d_x, attribute_units, joint_units,
              d_units, noise_dim, heads, leak, dropout):
    """Encoder, decoder and discriminator around image-branch builders enc_x(x) → [B, F], dec_x(h) → images,
    d_x(x) → [B, F]; attribute branches are MLPs of `attribute_units`, the joins of `joint_units`."""
    x_in = keras.Input(image_shape, name="images")
    y_in = keras.Input((num_attributes,), name="attributes")
    hx = enc_x(x_in)
    hy = y_in
    for i, u in enumerate(attribute_units):
        hy = _dense(hy, u, f"enc_attr{i}", leak=leak)
    h = layers.Concatenate(name="enc_join")([hx, hy])
    h = _dense(h, joint_units, "enc_joint", leak=leak)
    encoder = keras.Model([x_in, y_in], [layers.Dense(latent_dim, name="z_mean")(h),
                                         layers.Dense(latent_dim, name="z_scale")(h)], name="encoder")

    z_in = keras.Input((latent_dim,), name="z")
    inputs = [z_in]
    h = z_in
    if noise_dim:
        noise_in = keras.Input((noise_dim,), name="noise")
        inputs.append(noise_in)
        h = layers.Concatenate(name="z_noise")([z_in, noise_in])
    h = _dense(h, joint_units, "dec_joint", leak=leak)
    images = dec_x(h)
    hy = h
    for i, u in enumerate(attribute_units):
        hy = _dense(hy, u, f"dec_attr{i}", leak=leak)
    attr_logits = layers.Dense(num_attributes, dtype="float32", name="attribute_logits")(hy)
    decoder = keras.Model(inputs[0] if len(inputs) == 1 else inputs, [images, attr_logits], name="decoder")

    dx_in = keras.Input(image_shape, name="images")
    dy_in = keras.Input((num_attributes,), name="attributes")
    dz_in = keras.Input((latent_dim,), name="z")
    fx = d_x(dx_in)
    fy = _dense(dy_in, attribute_units[0] if attribute_units else joint_units, "dy0", bn=False, leak=leak,
                dropout=dropout)
    fz = dz_in
    for i, u in enumerate(d_units[0]):
        fz = _dense(fz, u, f"dz{i}", bn=False, leak=leak, dropout=dropout)
    f = layers.Concatenate(name="dxyz_concat")([fx, fy, fz])
    for i, u in enumerate(d_units[1]):
        f = _dense(f, u, f"dxyz{i}", bn=False, leak=leak, dropout=dropout)
    if dropout:
        f = ReplicaDropout(dropout, name="logits_dropout")(f)
    logits = layers.Dense(heads, dtype="float32", name="logits")(f)
    discriminator = keras.Model([dx_in, dy_in, dz_in], logits, name="discriminator")
    return encoder, decoder, discriminator


def celeba_joint(latent_dim=256, width=1.0, noise_dim=0, heads=1, num_attributes=40, dropout=0.2):
    """Joint CelebA 64×64 model: ALI's CelebA convolutions for the images (LReLU 0.02; valid padding; BN in E
    and G; in D, BN after every x-branch conv but the first and dropout `dropout` before every layer, as
    ALI's code); attribute branches of 512 units; joins of 512 (E, G); D's z branch 1024×2 and joint 2048×2
    as ALI's. `width` scales every size. Returns (encoder, decoder, discriminator)."""
    shape = (64, 64, 3)
    w = lambda units: ali_nets._w(units, width)  # noqa: E731
    return _assemble(
        shape, num_attributes, latent_dim,
        enc_x=lambda x: _conv_branch(x, ali_nets._ENC_64, width, 0.02, "enc"),
        dec_x=lambda h: _conv_head(h, shape, ali_nets._DEC_64, width, 0.02, "dec"),
        d_x=lambda x: _conv_branch(x, ali_nets._DX_64, width, 0.02, "dx", first_bn=False, dropout=dropout),
        attribute_units=(w(512),), joint_units=w(512), d_units=((w(1024), w(1024)), (w(2048), w(2048))),
        noise_dim=noise_dim, heads=heads, leak=0.02, dropout=dropout)


def mlp_joint(image_shape=(8, 8, 1), num_attributes=4, latent_dim=4, hidden=32, noise_dim=0, heads=1, dropout=0.0):
    """A small all-MLP joint model (tests, toy data): every branch and join `hidden` units, BN + LReLU 0.2 in
    E and G, no BN in D (dropout `dropout`). Returns (encoder, decoder, discriminator)."""
    return _assemble(
        tuple(image_shape), num_attributes, latent_dim,
        enc_x=lambda x: _mlp_branch(x, (hidden,), 0.2, "enc"),
        dec_x=lambda h: _mlp_head(h, tuple(image_shape), (hidden,), 0.2, "dec"),
        d_x=lambda x: _mlp_branch(x, (hidden,), 0.2, "dx", bn=False, dropout=dropout),
        attribute_units=(hidden,), joint_units=hidden, d_units=((hidden,), (hidden,)),
        noise_dim=noise_dim, heads=heads, leak=0.2, dropout=dropout)
