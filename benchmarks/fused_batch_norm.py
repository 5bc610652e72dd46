"""Keras' BatchNormalization vs tfgm's FusedBatchNormalization on the same train step, in one process.

Both variants of each benchmark of train_step.py are built (same seed, same weights) with the nets' batch norm
swapped, then timed alternately round by round, so the machine's drift hits both alike:

    python benchmarks/fused_batch_norm.py dcgan discreg wgan_gp        # --rounds 9 --calls 10
    python benchmarks/fused_batch_norm.py discreg --batch-size 50 --precision mixed_bfloat16

Prints images/s of every round and the ratio of the medians (fused / Keras).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import _swap  # noqa: E402


def build(name, batch_size, layer_class):
    """(compiled step, images per call) of train_step's benchmark `name` with every net's batch norm =
    `layer_class`."""
    return _swap.build(name, batch_size, "FusedBatchNormalization", layer_class)


def _classes():
    import keras

    from tfgm.layers import FusedBatchNormalization

    return {"keras": keras.layers.BatchNormalization, "fused": FusedBatchNormalization}


def main(argv=None):
    _swap.main(argv, __doc__, "FusedBatchNormalization", _classes, "bn")


if __name__ == "__main__":
    main()
