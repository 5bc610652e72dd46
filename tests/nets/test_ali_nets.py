import numpy as np
import pytest

import keras
from tfgm.nets import ali_nets


@pytest.mark.parametrize("builder,image_shape,latent", [
    (ali_nets.svhn_ali, (32, 32, 3), 256), (ali_nets.cifar10_ali, (32, 32, 3), 64),
    (ali_nets.celeba_ali, (64, 64, 3), 256), (ali_nets.mnist_ali, (28, 28, 1), 64)])
def test_published_architectures_have_the_documented_shapes(builder, image_shape, latent):
    encoder, decoder, disc = builder(width=1 / 16)
    x = np.random.default_rng(0).random((2,) + image_shape).astype("float32")
    z_mean, scale = encoder(x)
    assert z_mean.shape == scale.shape == (2, latent)
    images = decoder(z_mean).numpy()
    assert images.shape == (2,) + image_shape and images.min() >= 0.0 and images.max() <= 1.0
    assert disc([keras.ops.convert_to_tensor(x), z_mean]).shape == (2, 1)
    # BN in D only in its x branch (ALI's SVHN and CelebA D; none in the CIFAR-10 maxout D or the MLP D)
    assert all(layer.name.startswith("dx") and not layer.name.startswith("dxz")
               for layer in disc.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert any(isinstance(layer, keras.layers.Dropout) for layer in disc.layers)
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in encoder.layers)
    assert all(layer.padding == "valid" for layer in encoder.layers + decoder.layers if hasattr(layer, "padding"))


def test_cifar_discriminator_uses_maxout_and_round_trips_through_a_keras_file(tmp_path):
    _, _, disc = ali_nets.cifar10_ali(width=1 / 16, heads=3)
    assert any(isinstance(layer, ali_nets.Maxout) for layer in disc.layers)
    path = str(tmp_path / "d.keras")
    disc.save(path)
    loaded = keras.saving.load_model(path)
    x, z = np.random.rand(2, 32, 32, 3).astype("float32"), np.random.rand(2, 64).astype("float32")
    np.testing.assert_allclose(loaded([x, z]), disc([x, z]), atol=1e-6)
    assert disc([x, z]).shape == (2, 3)


def test_maxout_takes_the_max_of_consecutive_channel_pairs():
    x = np.arange(8, dtype="float32").reshape(1, 8) * np.array([1, -1] * 4, "float32")
    np.testing.assert_array_equal(ali_nets.Maxout(2)(x), [[0, 2, 4, 6]])


def test_mnist2d_model_has_a_2d_latent_and_a_noise_input_option():
    encoder, decoder, _ = ali_nets.mnist2d_ali(width=1 / 16, noise_dim=5)
    assert encoder.outputs[0].shape[-1] == 2
    assert [tuple(i.shape) for i in decoder.inputs] == [(None, 2), (None, 5)]


def test_mlp_options_drop_dropout_and_batch_norm_for_deterministic_batch_independent_nets():
    encoder, decoder, disc = ali_nets.mlp_ali((4, 4, 1), 3, (8,), 8, dropout=0.0, batch_norm=False)
    layers = encoder.layers + decoder.layers + disc.layers
    assert not any(isinstance(layer, (keras.layers.Dropout, keras.layers.BatchNormalization)) for layer in layers)
    x = np.random.default_rng(1).random((6, 4, 4, 1)).astype("float32")
    z = np.random.default_rng(2).normal(size=(6, 3)).astype("float32")
    # training mode: each example's output is the same alone as in the batch, and the same every call
    np.testing.assert_allclose(disc([x, z], training=True), disc([x, z], training=True))
    np.testing.assert_allclose(encoder(x[:2], training=True)[0], encoder(x, training=True)[0][:2], atol=1e-6)
    np.testing.assert_allclose(decoder(z[:2], training=True), decoder(z, training=True)[:2], atol=1e-6)
    _, _, default_disc = ali_nets.mlp_ali((4, 4, 1), 3, (8,), 8)
    rates = [layer.rate for layer in default_disc.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [0.2] * 4
