"""tfgm.layers.FastConv2D vs Keras' Conv2D, in one process: the ops alone, and train_step.py's steps.

    python benchmarks/fast_conv2d.py --ops                          # the ops alone, per convolution shape
    python benchmarks/fast_conv2d.py pgd40_mnist gibbsnet_svhn      # steps, --rounds 9 --calls 10

`--ops` prints two tables (medians of 15 calls of a compiled function, after 2 warm-ups): `Conv2DBackpropInput` of
each shape with its own padding ("SAME"/"VALID") and with the same padding given as "EXPLICIT", beside the forward
convolution, and which one FastConv2D takes; then convolutions whose kernel covers their input, forward and input
gradient as a convolution and as one matmul. The steps are built twice (same seed, same weights) with the nets'
FastConv2D swapped for Keras' Conv2D and timed alternately round by round: images/s of every round and the ratio
of the medians (fast / keras).
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks import _swap, train_step  # noqa: E402

# (where, batch, size, input channels, filters, kernel, stride, padding)
SHAPES = (
    ("MNIST CNN conv1 (PGD, fortified)", 128, 28, 1, 64, 8, 2, "same"),
    ("same, valid padding", 128, 28, 1, 64, 8, 2, "valid"),
    ("DCGAN / WGAN-GP critic down0, 32×32", 64, 32, 3, 64, 4, 2, "same"),
    ("a 64×64 discriminator's first conv", 64, 64, 3, 64, 4, 2, "same"),
    ("8 input channels", 64, 32, 8, 64, 4, 2, "same"),
    ("16 input channels", 64, 32, 16, 64, 4, 2, "same"),
    ("DCGAN down1 (64 channels)", 64, 16, 64, 128, 4, 2, "same"),
    ("MNIST CNN conv2 (64 channels)", 128, 14, 64, 128, 6, 2, "valid"),
    ("stride 1: EBM first conv", 64, 32, 3, 32, 3, 1, "same"),
    ("stride 1: ResNet stem", 128, 32, 3, 16, 3, 1, "same"),
    ("stride 1: 1 channel", 128, 28, 1, 32, 3, 1, "same"),
    ("stride 1: discreg classifier plain1", 100, 64, 3, 32, 4, 1, "valid"),
)
# (where, batch, size = kernel, input channels, filters): "valid" convolutions with a 1×1 output
WHOLE_INPUT = (
    ("MNIST CNN conv3", 128, 5, 128, 128),
    ("ALI SVHN/CIFAR D x-branch, last conv", 64, 4, 256, 512),
    ("ALI D joint 1×1 conv", 64, 1, 1024, 1024),
)


def _median_ms(fn):
    """Median milliseconds of 15 single calls of `fn` after two warm-ups (train_step.measure)."""
    return 1e3 * train_step.measure(fn, 1, 15)[0]


def time_shape(batch, size, channels, filters, kernel, stride, padding):
    """{"own": ms, "explicit": ms, "forward": ms, "max_abs_diff": of the two input gradients}."""
    import tensorflow as tf

    from tfgm.layers.fast_conv2d import _pads

    x = tf.random.normal([batch, size, size, channels])
    w = 0.1 * tf.random.normal([kernel, kernel, channels, filters])
    dy = tf.random.normal(tf.nn.conv2d(x, w, stride, padding.upper()).shape)
    pads = _pads(size, kernel, stride, padding)
    explicit = [0, 0, *pads, *pads, 0, 0]

    def backprop(pad, **attrs):
        return tf.function(lambda: tf.raw_ops.Conv2DBackpropInput(
            input_sizes=tf.shape(x), filter=w, out_backprop=dy, strides=[1, stride, stride, 1], padding=pad, **attrs))

    own, explicit_fn = backprop(padding.upper()), backprop("EXPLICIT", explicit_paddings=explicit)
    forward = tf.function(lambda: tf.nn.conv2d(x, w, stride, padding.upper()))
    diff = float(tf.reduce_max(tf.abs(own() - explicit_fn())))
    return {"own": _median_ms(own), "explicit": _median_ms(explicit_fn), "forward": _median_ms(forward),
            "max_abs_diff": diff}


def time_whole_input(batch, size, channels, filters):
    """{"conv", "conv_grad", "matmul", "matmul_grad": ms, "max_abs_diff": of the two outputs} of a "valid"
    convolution whose kernel covers its [batch, size, size, channels] input."""
    import tensorflow as tf

    from tfgm.layers.fast_conv2d import conv2d_as_matmul

    x = tf.random.normal([batch, size, size, channels])
    w = 0.05 * tf.random.normal([size, size, channels, filters])
    dy = tf.random.normal([batch, 1, 1, filters])

    def timed(conv):
        def input_grad():
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = conv(x, w)
            return tape.gradient(y, x, output_gradients=dy)

        return _median_ms(tf.function(lambda: conv(x, w))), _median_ms(tf.function(input_grad))

    def keras_conv(x, w):
        return tf.nn.conv2d(x, w, 1, "VALID")

    diff = float(tf.reduce_max(tf.abs(keras_conv(x, w) - conv2d_as_matmul(x, w))))
    (conv, conv_grad), (matmul, matmul_grad) = timed(keras_conv), timed(conv2d_as_matmul)
    return {"conv": conv, "conv_grad": conv_grad, "matmul": matmul, "matmul_grad": matmul_grad, "max_abs_diff": diff}


def print_ops():
    import keras

    from tfgm.layers import FastConv2D

    print("| convolution | batch | input | filters | kernel/stride/padding | input gradient, own padding (ms) | "
          "EXPLICIT (ms) | speed-up | forward (ms) | FastConv2D takes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for where, batch, size, channels, filters, kernel, stride, padding in SHAPES:
        t = time_shape(batch, size, channels, filters, kernel, stride, padding)
        layer = FastConv2D(filters, kernel, strides=stride, padding=padding)
        takes = "EXPLICIT" if layer._explicit_input_grad(keras.KerasTensor((batch, size, size, channels))) else "own"
        print(f"| {where} | {batch} | {size}×{size}×{channels} | {filters} | {kernel}/{stride}/{padding} | "
              f"{t['own']:.2f} | {t['explicit']:.2f} | {t['own'] / t['explicit']:.2f}× | {t['forward']:.2f} | "
              f"{takes} |", flush=True)
        if t["max_abs_diff"] > 1e-3:
            raise SystemExit(f"{where}: the two input gradients differ by {t['max_abs_diff']:.2e}")
    print("\n| convolution over the whole input | batch | input | filters | conv forward / input gradient (ms) | "
          "matmul forward / input gradient (ms) | speed-up of the input gradient |")
    print("|---|---|---|---|---|---|---|")
    for where, batch, size, channels, filters in WHOLE_INPUT:
        t = time_whole_input(batch, size, channels, filters)
        print(f"| {where} | {batch} | {size}×{size}×{channels} | {filters} | {t['conv']:.2f} / {t['conv_grad']:.2f} | "
              f"{t['matmul']:.2f} / {t['matmul_grad']:.2f} | {t['conv_grad'] / t['matmul_grad']:.2f}× |", flush=True)
        if t["max_abs_diff"] > 1e-3:
            raise SystemExit(f"{where}: convolution and matmul differ by {t['max_abs_diff']:.2e}")


def _classes():
    import keras

    from tfgm.layers import FastConv2D

    return {"keras": keras.layers.Conv2D, "fast": FastConv2D}


def _ops_flag(parser):
    parser.add_argument("--ops", action="store_true", help="time the ops alone per shape first")

    def before(args):
        if args.ops:
            print_ops()
        return args.ops

    return before


def main(argv=None):
    _swap.main(argv, __doc__, "FastConv2D", _classes, "conv", extra=_ops_flag)


if __name__ == "__main__":
    main()
