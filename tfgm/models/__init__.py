"""One algorithm per file: keras.Model subclasses that own their train_step/test_step."""

from tfgm.models.char_model import CharModel
from tfgm.models.discreg_vae import DiscRegVAE
from tfgm.models.energy_model import EnergyModel
from tfgm.models.fortified import FortifiedClassifier
from tfgm.models.fortify import fortify, fortify_identity
from tfgm.models.gan import GAN
from tfgm.models.gibbsnet import ALI, GibbsNet
from tfgm.models.joint_gibbsnet import JointGibbsNet
from tfgm.models.mixture_density import MixtureDensity
from tfgm.models.nce import NCE
from tfgm.models.rbm import RBM
from tfgm.models.vae import VAE

__all__ = ["VAE", "DiscRegVAE", "FortifiedClassifier", "fortify", "fortify_identity", "GAN", "ALI", "GibbsNet",
           "JointGibbsNet", "MixtureDensity", "CharModel", "RBM", "NCE", "EnergyModel"]
