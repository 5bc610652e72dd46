"""tfgm: the generative models of Lamb's thesis on TensorFlow 2.21 / Keras 3."""

__version__ = "0.1.0"
