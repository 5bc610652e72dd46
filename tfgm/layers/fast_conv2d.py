"""A 2-D convolution that takes TensorFlow's faster kernel where measurement found one: Keras 3's `Conv2D`, same
weights, config and function, for the two cases below; any other convolution is Keras' own.

1. **Input gradient of a strided convolution on few channels.** With oneDNN on (tfgm turns it on for every x86
   CPU), `Conv2DBackpropInput` with padding "SAME"/"VALID" runs oneDNN's backward-data kernel, slow when the
   convolution has few input channels and a stride: on the fortified recipes' MNIST CNN (1 → 64 channels, 8×8,
   stride 2, batch 128) 8.8–15 ms against 0.9–1.4 ms for the forward pass. The same op with the same padding given
   as "EXPLICIT" takes another kernel: 2.0–3.3 ms. On a 2-core Zen 5 (`python benchmarks/fast_conv2d.py --ops`,
   BUILD.md): 4.4–5.6× faster with 1 input channel, 2.5–2.9× with 3, 1.3× with 8; slower from 16 channels on
   (0.8×; 0.2–0.3× with 64) and mixed at stride 1. So strided convolutions with at most `FEW_CHANNELS` input
   channels take it: the first layers of discriminators, critics and attacked classifiers, whose input gradient
   every generator update, gradient penalty and attack step needs.
2. **A "valid" convolution whose kernel covers its whole input** (output 1×1: the MNIST CNN's conv3, 5×5 on 5×5;
   ALI's last x-branch and 1×1 joint convolutions) is a dense layer over the flattened input, and runs as one
   matmul: forward 1.6–2.7 → 0.4–0.6 ms, input gradient 2.3–2.4 → 0.5–0.8 ms for the MNIST CNN's conv3 at
   batch 128.
"""

import keras
import tensorflow as tf

FEW_CHANNELS = 8
_EXPLICIT_DTYPES = ("float32", "float64")


def _pads(size, kernel, stride, padding):
    """(before, after) zero padding of one spatial axis that TensorFlow's `padding` ("same"/"valid") applies."""
    if padding == "valid":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def takes_explicit(layer, inputs, channels):
    """Whether a Keras convolution `layer` at `inputs` is case (1)'s measured shape: channels-last, no dilation,
    static spatial dims, a stride, at most FEW_CHANNELS `channels` (the side the backprop-input kernel writes),
    float32/64 (FastConv2D's input gradient, FastConv2DTranspose's forward pass)."""
    return (layer.data_format == "channels_last" and tuple(layer.dilation_rate) == (1, 1)
            and None not in inputs.shape[1:3] and max(layer.strides) > 1 and channels <= FEW_CHANNELS
            and keras.backend.standardize_dtype(inputs.dtype) in _EXPLICIT_DTYPES)


def conv2d_explicit_input_grad(x, kernel, strides, padding):
    """`tf.nn.conv2d(x, kernel, strides, padding.upper())` (x [B, H, W, C] with static H, W; kernel [kh, kw, C, F])
    whose input gradient runs `Conv2DBackpropInput` with the same padding as "EXPLICIT". The kernel's gradient is
    TensorFlow's own; both gradients are differentiable again (gradient penalties)."""
    (sh, sw), (kh, kw) = strides, kernel.shape[:2]
    top, bottom = _pads(x.shape[1], kh, sh, padding)
    left, right = _pads(x.shape[2], kw, sw, padding)
    explicit = [0, 0, top, bottom, left, right, 0, 0]
    op_strides = [1, sh, sw, 1]

    @tf.custom_gradient
    def conv(x, kernel):
        def grad(dy):
            dx = tf.raw_ops.Conv2DBackpropInput(input_sizes=tf.shape(x), filter=kernel, out_backprop=dy,
                                                strides=op_strides, padding="EXPLICIT", explicit_paddings=explicit)
            dk = tf.raw_ops.Conv2DBackpropFilter(input=x, filter_sizes=tf.shape(kernel), out_backprop=dy,
                                                 strides=op_strides, padding=padding.upper())
            return dx, dk

        return tf.nn.conv2d(x, kernel, op_strides, padding.upper()), grad

    return conv(x, kernel)


def conv2d_as_matmul(x, kernel):
    """x [B, H, W, C] (static H, W, C) ⊛ kernel [H, W, C, F], "valid": [B, 1, 1, F] as one matmul."""
    h, w, c, f = kernel.shape
    y = tf.matmul(tf.reshape(x, [-1, h * w * c]), tf.reshape(kernel, [h * w * c, f]))
    return tf.reshape(y, [-1, 1, 1, f])


@keras.saving.register_keras_serializable(package="tfgm")
class FastConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` (same arguments) that takes the faster kernel of the module docstring's two cases
    (channels-last, static spatial dims, no dilation or groups); otherwise it is Keras' `Conv2D` exactly."""

    def _plain(self, inputs):
        return (self.data_format == "channels_last" and self.groups == 1 and tuple(self.dilation_rate) == (1, 1)
                and None not in inputs.shape[1:])

    def _as_matmul(self, inputs):
        return self._plain(inputs) and self.padding == "valid" and tuple(inputs.shape[1:3]) == tuple(self.kernel_size)

    def _explicit_input_grad(self, inputs):
        return self.groups == 1 and takes_explicit(self, inputs, inputs.shape[-1])

    def convolution_op(self, inputs, kernel):
        if self._as_matmul(inputs):
            return conv2d_as_matmul(inputs, tf.cast(tf.convert_to_tensor(kernel), inputs.dtype))
        if self._explicit_input_grad(inputs):
            kernel = tf.cast(tf.convert_to_tensor(kernel), inputs.dtype)
            return conv2d_explicit_input_grad(inputs, kernel, tuple(self.strides), self.padding)
        return super().convolution_op(inputs, kernel)
