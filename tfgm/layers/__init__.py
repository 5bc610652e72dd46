"""Reusable layers: the fortified (denoising-autoencoder) layers of Fortified Networks (thesis ch. 2)."""

from tfgm.layers._fortified_base import FortifiedLayer
from tfgm.layers.fortified_conv2d import FortifiedConv2D
from tfgm.layers.fortified_dense import FortifiedDense

__all__ = ["FortifiedLayer", "FortifiedDense", "FortifiedConv2D"]
