"""Keras' layer vs tfgm's fast drop-in on the same train step, in one process: FastLeakyReLU (`leaky_relu`),
FastConv2DTranspose (`conv2d_transpose`) or the `fast_leaky_relu` activation of the fortified nets' convolutions
and dense layers (`leaky_relu_activation`, against Keras' "leaky_relu").

Both variants of each benchmark of train_step.py are built (same seed, same weights) with the nets' layer swapped,
then timed alternately round by round, so the machine's drift hits both alike:

    python benchmarks/fast_layers.py leaky_relu wgan_gp dcgan          # --rounds 9 --calls 10
    python benchmarks/fast_layers.py conv2d_transpose dcgan wgan_gp
    python benchmarks/fast_layers.py leaky_relu_activation fortified_mnist_pgd pgd40_mnist

Prints images/s of every round and the ratio of the medians (fast / Keras). FastLeakyReLU gains where a gradient
penalty differentiates twice (wgan_gp); FastConv2DTranspose where a generator writes few channels (DCGAN's
to_pixels); the activation where Keras' own made Grappler's remapper give up on the step (fortified_mnist_*,
pgd40_mnist); the other steps check that the swap costs nothing. (FastConv2D: benchmarks/fast_conv2d.py.)
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import _swap  # noqa: E402

LAYERS = {  # name: (the nets' module attribute, Keras' object, tfgm's object)
    "leaky_relu": ("FastLeakyReLU", "layers.LeakyReLU", "FastLeakyReLU"),
    "conv2d_transpose": ("FastConv2DTranspose", "layers.Conv2DTranspose", "FastConv2DTranspose"),
    "leaky_relu_activation": ("fast_leaky_relu", "activations.leaky_relu", "fast_leaky_relu"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        raise SystemExit(0)
    if not argv or argv[0] not in LAYERS:
        given = repr(argv[0]) if argv else "nothing"
        print(f"fast_layers.py: error: first argument: the layer, one of {sorted(LAYERS)} (got {given}); "
              "then the benchmarks and flags: `fast_layers.py LAYER --help`", file=sys.stderr)
        raise SystemExit(2)
    attr, theirs, ours = LAYERS[argv[0]]

    def classes():
        import keras

        import tfgm.layers

        module, name = theirs.split(".")
        return {"keras": getattr(getattr(keras, module), name), "fast": getattr(tfgm.layers, ours)}

    _swap.main(argv[1:], __doc__, attr, classes, argv[0])


if __name__ == "__main__":
    main()
