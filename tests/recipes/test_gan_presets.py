"""recipes.gan_presets: every variant's paper settings train a step; the recipes' help lists the registries."""

import dataclasses
import re

import numpy as np
import pytest
import tensorflow as tf

from recipes import gan_mnist
from recipes.gan_presets import VARIANTS, get_variant
from tfgm.losses import registry
from tfgm.models.gan import GAN
from tfgm.nets import dcgan

LATENT = 3
POINTS = np.random.default_rng(0).normal(size=(16, 2)).astype("float32")


def _points(batch):
    return tf.data.Dataset.from_tensor_slices({"image": POINTS}).batch(batch)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_trains_a_step_with_its_paper_defaults(name):
    variant = get_variant(name)
    model = GAN(dcgan.mlp_generator(LATENT, 2, (8,)),
                dcgan.mlp_discriminator(2, (8,), spectral_norm=variant.spectral_norm),
                loss=variant.loss, regularizers=variant.regularizers, n_critic=variant.n_critic, total_steps=100)
    model.compile(*variant.optimizers())
    model.fit(_points(batch=4), epochs=1, steps_per_epoch=1, verbose=0)
    assert int(model.d_optimizer.iterations) == variant.n_critic
    assert model.d_optimizer.learning_rate.numpy() == pytest.approx(variant.d_optimizer[1]["learning_rate"])


def test_image_recipe_help_lists_the_registered_losses_penalties_and_variants():
    helps = {f.name: f.metadata["help"] for f in dataclasses.fields(gan_mnist.Config)}
    assert helps["loss"].endswith("minimax | nonsaturating | wasserstein | least_squares | hinge | bgan")
    assert ("(gradient_penalty, weight_clipping, roth, r1, instance_noise, jacobian_clamping)"
            in helps["regularizer"])
    assert helps["variant"].startswith("dcgan | wgan | wgan_gp | sngan | roth | instance_noise | jacobian_clamping")
    assert set(registry.PENALTIES) <= set(re.findall(r"\w+", helps["regularizer"]))


def test_unknown_variant_fails_clearly():
    with pytest.raises(ValueError, match="unknown GAN variant 'began'"):
        get_variant("began")
