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
