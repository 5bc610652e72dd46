"""A 2-D transposed convolution whose forward pass takes TensorFlow's faster kernel when it writes few channels:
Keras 3's `Conv2DTranspose`, same weights, config and function.

A transposed convolution's forward pass is `Conv2DBackpropInput`, the kernel `tfgm.layers.FastConv2D` replaces for
a strided convolution with few input channels (its module docstring has the measurements): a generator's last
layer (to 1 or 3 pixel channels, stride 2) is exactly that case, once per generator forward pass. With at most
`FEW_CHANNELS` output channels, a stride, channels-last, static spatial dims, no dilation or output padding and a
float32/64 dtype (`fast_conv2d.takes_explicit`), the forward pass runs that op with its padding given as
"EXPLICIT"; its gradients are written out (input: a convolution of the output gradient; kernel: TensorFlow's
backprop-filter with the layer's own padding), so no EXPLICIT backprop-filter kernel (slower at every shape
measured) is ever run. Any other layer is Keras' own.
"""

import keras
import tensorflow as tf

from tfgm.layers.fast_conv2d import _pads, takes_explicit


def conv2d_transpose_explicit(x, kernel, strides, padding, output_size):
    """`tf.nn.conv2d_transpose` of x [B, H, W, C] with kernel [kh, kw, F, C], padding "same" or "valid", to
    output_size (H', W') → [B, H', W', F], computed by `Conv2DBackpropInput` with EXPLICIT padding. Both gradients
    are differentiable again."""
    (sh, sw), (kh, kw, filters, _), (out_h, out_w) = strides, kernel.shape, output_size
    top, bottom = _pads(out_h, kh, sh, padding)
    left, right = _pads(out_w, kw, sw, padding)
    op_strides = [1, sh, sw, 1]

    @tf.custom_gradient
    def transpose(x, kernel):
        size = tf.stack([tf.shape(x)[0], out_h, out_w, filters])
        y = tf.raw_ops.Conv2DBackpropInput(input_sizes=size, filter=kernel, out_backprop=x, strides=op_strides,
                                           padding="EXPLICIT",
                                           explicit_paddings=[0, 0, top, bottom, left, right, 0, 0])

        def grad(dy):
            dx = tf.nn.conv2d(dy, kernel, op_strides, padding.upper())
            dk = tf.raw_ops.Conv2DBackpropFilter(input=dy, filter_sizes=tf.shape(kernel), out_backprop=x,
                                                 strides=op_strides, padding=padding.upper())
            return dx, dk

        return y, grad

    return transpose(x, kernel)


@keras.saving.register_keras_serializable(package="tfgm")
class FastConv2DTranspose(keras.layers.Conv2DTranspose):
    """`keras.layers.Conv2DTranspose` (same arguments) whose forward pass takes the EXPLICIT-padding kernel in the
    module docstring's case; otherwise it is Keras' `Conv2DTranspose` exactly."""

    def _explicit(self, inputs):
        return self.output_padding is None and takes_explicit(self, inputs, self.filters)

    def call(self, inputs):
        if not self._explicit(inputs):
            return super().call(inputs)
        kernel = tf.cast(tf.convert_to_tensor(self.kernel), inputs.dtype)
        output_size = self.compute_output_shape(inputs.shape)[1:3]  # Keras' own rule, e.g. kernel < stride
        outputs = conv2d_transpose_explicit(inputs, kernel, tuple(self.strides), self.padding, output_size)
        if self.use_bias:
            outputs = outputs + tf.cast(self.bias, outputs.dtype)
        return outputs if self.activation is None else self.activation(outputs)
