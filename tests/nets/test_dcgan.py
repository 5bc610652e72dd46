import keras
import numpy as np
import pytest

from tfgm.layers import SpectralNorm
from tfgm.nets import dcgan


@pytest.mark.parametrize("size,channels,base", [(28, 1, 7), (32, 3, 4), (64, 3, 4)])
def test_generator_and_discriminator_shapes_and_ranges(size, channels, base):
    assert dcgan.base_size(size) == base
    g = dcgan.generator(5, (size, size, channels), width=4)
    d = dcgan.discriminator((size, size, channels), width=4)
    z = np.random.default_rng(0).normal(size=(3, 5)).astype("float32") * 10
    images = g(z).numpy()
    assert images.shape == (3, size, size, channels)
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert g.get_layer("reshape").output.shape[1:3] == (base, base)
    assert d(images).shape == (3, 1)


def test_batch_norm_and_spectral_norm_flags():
    def batch_norms(model):
        return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)

    assert batch_norms(dcgan.discriminator(width=4)) > 0
    assert batch_norms(dcgan.discriminator(width=4, batch_norm=False)) == 0
    assert batch_norms(dcgan.generator(4, width=4, batch_norm=False)) == 0
    sn = dcgan.discriminator(width=4, batch_norm=False, spectral_norm=True)
    wrapped = [layer for layer in sn.layers if isinstance(layer, SpectralNorm)]
    assert len(wrapped) == 4  # three convs and the logit layer
    mlp = dcgan.mlp_discriminator(2, (8, 8), spectral_norm=True)
    assert sum(isinstance(layer, SpectralNorm) for layer in mlp.layers) == 3


def test_spectral_norm_layers_normalize_the_kernel_after_power_iterations():
    """The nets' SN layers are tfgm's: each kernel's largest singular value, as the forward pass uses it, ≈ 1.

    Power iteration converges as (σ₂/σ₁)^2k; unseeded kernels can have σ₂/σ₁ ≈ 0.99 (30 steps then leave 2e-3), so
    the kernels are seeded (largest ratio 0.85 here) and the iterations are many.
    """
    keras.utils.set_random_seed(0)
    d = dcgan.discriminator((28, 28, 1), width=4, batch_norm=False, spectral_norm=True)
    wrapped = [layer for layer in d.layers if isinstance(layer, SpectralNorm)]
    for layer in wrapped:  # Glorot kernels have σ near 1 already: scale them so that σ = 1 means something
        layer.layer.kernel.assign(3.0 * layer.layer.kernel)
    stored = [layer.layer.kernel.numpy().copy() for layer in wrapped]
    for _ in range(100):
        for layer in wrapped:
            layer.power_iteration()
    for layer, kernel_before in zip(wrapped, stored):
        kernel = layer.normalized_kernel().numpy()
        matrix = kernel.reshape(-1, kernel.shape[-1])
        assert np.linalg.svd(matrix, compute_uv=False)[0] == pytest.approx(1.0, abs=1e-3), layer.name
        assert np.linalg.svd(kernel_before.reshape(matrix.shape), compute_uv=False)[0] > 2.0
        # the stored kernel stays W: the forward divides by σ, nothing is written back
        np.testing.assert_array_equal(layer.layer.kernel.numpy(), kernel_before)


def test_mlp_pair_and_classifier_shapes():
    g, d = dcgan.mlp_generator(3, 2), dcgan.mlp_discriminator(2)
    assert g(np.zeros((5, 3), "float32")).shape == (5, 2) and d(np.zeros((5, 2), "float32")).shape == (5, 1)
    c = dcgan.classifier((28, 28, 1), 10, width=4, feature_units=8)
    probs = c(np.zeros((2, 28, 28, 1), "float32")).numpy()
    assert probs.shape == (2, 10) and np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    assert c.get_layer("features").output.shape[-1] == 8


def test_unsupported_sizes_fail_clearly():
    with pytest.raises(ValueError, match="square"):
        dcgan.generator(4, (32, 16, 3))
    with pytest.raises(ValueError, match="too small"):
        dcgan.discriminator((7, 7, 1))
