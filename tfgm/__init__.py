"""tfgm: the generative models of Lamb's thesis on TensorFlow 2.21 / Keras 3.

Importing tfgm before TensorFlow turns on TensorFlow's oneDNN CPU kernels on x86 CPUs where TensorFlow would not
(``TF_ENABLE_ONEDNN_OPTS=1`` unless set; ``tfgm._onednn``).
"""

from tfgm import _onednn

__version__ = "0.1.0"

_onednn.at_import()
