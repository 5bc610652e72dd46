"""VAE / DiscRegVAE with likelihood="logistic_mixture": the decoder head sized for PixelCNN++'s mixture, the ELBO's
reconstruction term is the mixture's log-likelihood, bits per dim logged, and the shared harness checks."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tests.models import harness
from tests.models._tiny import IMAGE_SHAPE, LATENT, tiny_encoder, tiny_features
from tfgm.losses import logistic_mixture_channels, logistic_mixture_log_likelihood, logistic_mixture_mean
from tfgm.losses.likelihoods import gaussian_kl
from tfgm.models import VAE, DiscRegVAE
from tfgm.nets import discgen

K = 2
rng = np.random.default_rng(0)


def _decoder():
    return discgen.celeba_decoder(LATENT, IMAGE_SHAPE, widths=(6, 4), hidden=16,
                                  head_channels=logistic_mixture_channels(K, IMAGE_SHAPE[-1]))


def _batch():
    images = np.round(rng.random((4,) + IMAGE_SHAPE) * 255) / 255
    return {"image": images.astype("float32"), "noise": rng.normal(size=(4, LATENT)).astype("float32")}


def test_reconstruction_term_is_the_mixture_likelihood_and_bits_per_dim_the_elbo():
    model = VAE(tiny_encoder(), _decoder(), likelihood="logistic_mixture", seed=1)
    assert model.mixture_components == K and model.image_shape == IMAGE_SHAPE and model.log_sigma_x is None
    batch = _batch()
    terms = model.per_example_terms(batch["image"], batch["noise"], training=False)
    z_mean, z_log_var = model.encode(batch["image"])
    head = model.decoder(z_mean + tf.exp(0.5 * z_log_var) * batch["noise"])
    assert head.shape[-1] == 10 * K
    np.testing.assert_allclose(terms["nll_x"], -logistic_mixture_log_likelihood(batch["image"], head), rtol=1e-5)
    kl = gaussian_kl(z_mean, z_log_var)
    dims = math.prod(IMAGE_SHAPE)
    np.testing.assert_allclose(terms["bits_per_dim"], (kl + terms["nll_x"]) / (dims * math.log(2)), rtol=1e-5)
    np.testing.assert_allclose(terms["loss"], kl + terms["nll_x"], rtol=1e-5)  # bits/dim is logged, not added
    np.testing.assert_allclose(model.decode(z_mean), logistic_mixture_mean(model.decoder(z_mean), 3), atol=1e-6)
    assert model.decode(z_mean).shape[1:] == IMAGE_SHAPE


def test_a_head_of_the_wrong_size_or_the_mean_image_is_refused():
    with pytest.raises(ValueError, match="logistic_mixture_channels"):
        VAE(tiny_encoder(), discgen.celeba_decoder(LATENT, IMAGE_SHAPE, widths=(6, 4), hidden=16, head_channels=12),
            likelihood="logistic_mixture")
    model = VAE(tiny_encoder(), _decoder(), likelihood="logistic_mixture")
    images = _batch()["image"]
    with pytest.raises(ValueError, match="decode_head"):
        model.log_px_given_z(images, model.decode(tf.zeros([4, LATENT])))


def test_discreg_vae_trains_with_the_mixture():
    model = harness.train_one_step(harness.ModelCase(
        "discreg_mixture", lambda: DiscRegVAE(tiny_encoder(), _decoder(), tiny_features(),
                                              likelihood="logistic_mixture"), _batch))
    assert "bits_per_dim" in [m.name for m in model.metrics]


CASE = harness.ModelCase("vae_mixture", lambda: VAE(tiny_encoder(), _decoder(), likelihood="logistic_mixture",
                                                    seed=3), _batch)


@pytest.fixture(scope="module")
def trained():
    return harness.train_one_step(CASE)


def test_config_and_keras_round_trips(trained, tmp_path):
    harness.check_config_round_trip(trained)
    harness.check_keras_round_trip(trained, tmp_path)


def test_export_round_trip(trained, tmp_path):
    harness.check_export_round_trip(trained, tmp_path)
