"""One algorithm per file: keras.Model subclasses that own their train_step/test_step."""

from tfgm.models.discreg_vae import DiscRegVAE
from tfgm.models.vae import VAE

__all__ = ["VAE", "DiscRegVAE"]
