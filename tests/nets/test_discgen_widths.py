"""discgen.celeba_vae_widths: the VAE stage widths of METHODS.md §1 scaled by a multiplier."""

import pytest

from tfgm.nets import discgen


def test_the_multiplier_scales_every_stage_and_one_is_the_papers():
    assert discgen.celeba_vae_widths() == discgen.CELEBA_VAE_WIDTHS == (32, 64, 128, 256)
    assert discgen.celeba_vae_widths(0.5) == (16, 32, 64, 128)
    assert discgen.celeba_vae_widths(0.3) == (10, 19, 38, 77)


def test_a_multiplier_that_leaves_a_stage_without_channels_is_refused():
    with pytest.raises(ValueError, match="would round to 0"):
        discgen.celeba_vae_widths(0.01)


@pytest.mark.parametrize("multiplier", [float("nan"), float("inf"), 0.0, -0.5])
def test_a_multiplier_that_is_not_a_finite_positive_number_is_refused(multiplier):
    with pytest.raises(ValueError, match="must be finite and > 0"):
        discgen.celeba_vae_widths(multiplier)


def test_celeba_vae_nets_scales_both_nets_and_keeps_the_image_and_head():
    encoder, decoder = discgen.celeba_vae_nets(latent_dim=8, width=0.5, head_channels=5)
    assert [encoder.get_layer(f"enc{i}a_conv").filters for i in range(4)] == [16, 32, 64, 128]
    assert [decoder.get_layer(f"dec{i}a_conv").filters for i in range(4)] == [128, 64, 32, 16]
    assert decoder.output.shape[1:] == (64, 64, 5) and encoder.input.shape[1:] == (64, 64, 3)
