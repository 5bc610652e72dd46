"""Reusable layers: the fortified (denoising-autoencoder) layers of Fortified Networks (thesis ch. 2), a dropout
that draws its mask per replica under tf.distribute, spectral normalization, batch norm on the fused kernel,
convolutions that take TensorFlow's faster kernel where one was measured and a leaky ReLU whose second
derivative skips a zero term (gradient penalties)."""

from tfgm.layers._fortified_base import FortifiedLayer
from tfgm.layers.fortified_conv2d import FortifiedConv2D
from tfgm.layers.fortified_dense import FortifiedDense
from tfgm.layers.fused_batch_norm import FusedBatchNormalization
from tfgm.layers.fast_conv2d import FastConv2D
from tfgm.layers.fast_conv2d_transpose import FastConv2DTranspose
from tfgm.layers.leaky_relu import FastLeakyReLU, fast_leaky_relu
from tfgm.layers.replica_dropout import ReplicaDropout
from tfgm.layers.spectral_norm import SpectralNorm

__all__ = ["FortifiedLayer", "FortifiedDense", "FortifiedConv2D", "FusedBatchNormalization", "FastConv2D",
           "FastConv2DTranspose", "FastLeakyReLU", "fast_leaky_relu", "ReplicaDropout", "SpectralNorm"]
