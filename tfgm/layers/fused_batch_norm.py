"""Batch normalization on TensorFlow's fused kernel in training mode: Keras 3's `BatchNormalization`, same
weights, config and results, with the training-mode pass computed by one `FusedBatchNormV3` op (and one gradient
op) instead of Keras' moments, rsqrt and elementwise ops.

Keras 3.15 builds batch norm from generic ops on every backend; on a 2-core CPU that made batch norm about a
tenth of a DCGAN train step. The fused op computes the same function (outputs, input gradients and moving
statistics within float32 round-off of Keras'; tests/layers/test_fused_batch_norm.py) and is faster: DCGAN
train steps +2–11 %, discriminative-regularization steps +15–26 % on a 2-core Zen 4 (BUILD.md, Benchmarks).

Inference mode stays on Keras' ops: there Grappler folds the fused inference kernel into a preceding bias-free
convolution whose fused ReLU maps NaN to 0, so a NaN input would leave a served model as finite pixels, not NaN.
"""

import keras
import tensorflow as tf

_FUSED_DTYPES = ("float16", "bfloat16", "float32")
_MIN_EPSILON = 1.001e-5  # the fused kernel refuses smaller epsilons


@keras.saving.register_keras_serializable(package="tfgm")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` (same arguments) whose training-mode pass on channels-last [B, H, W, C]
    inputs runs the fused kernel; inference mode, frozen layers and any other case (another rank or axis, a mask,
    renorm, `synchronized=True`, epsilon below 1.001e-5, float64) run Keras' own computation.

    As Keras: float16/bfloat16 inputs are normalized in float32 and cast back to the compute dtype; training
    mode normalizes with the batch's mean and biased variance and moves the moving statistics by `momentum`
    (read at call time).
    """

    def _fused(self, inputs, training, mask):
        return (training and self.trainable and mask is None and not self.renorm and not self.synchronized
                and len(inputs.shape) == 4 and self.axis in (-1, 3) and self.epsilon >= _MIN_EPSILON
                and keras.backend.standardize_dtype(inputs.dtype) in _FUSED_DTYPES)

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, tf.float32)
        channels = x.shape[-1]
        gamma = tf.cast(self.gamma, tf.float32) if self.scale else tf.ones([channels], tf.float32)
        beta = tf.cast(self.beta, tf.float32) if self.center else tf.zeros([channels], tf.float32)
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=self.epsilon, is_training=True)
        count = tf.cast(tf.reduce_prod(tf.shape(x)[:3]), tf.float32)
        variance *= (count - 1.0) / tf.maximum(count, 1.0)  # the op's is n/(n−1)·biased; Keras keeps biased
        momentum = self.momentum
        self.moving_mean.assign(self.moving_mean * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(self.moving_variance * momentum + variance * (1.0 - momentum))
        return tf.cast(y, self.compute_dtype)
