"""Architectures only: functional Keras builders, one file per family."""

from tfgm.nets import ali_nets, dcgan, discgen, fortified_nets, score_nets
