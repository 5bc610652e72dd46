"""Architectures only: functional Keras builders, one file per family."""

from tfgm.nets import discgen, fortified_nets
