"""Fast Gradient Sign Method (Goodfellow et al., 2014; thesis eq. 2.6), L∞."""

import tensorflow as tf

from tfgm.attacks import _common


def _fgsm_core(model, x, y, eps, lo, hi):
    _, grad = _common.loss_and_gradient(model, x, y)
    return tf.clip_by_value(x + eps * tf.sign(grad), lo, hi)


def fgsm(model, x, y=None, eps=0.3, clip=(0.0, 1.0)):
    """x̃ = clip(x + ε·sign(∇ₓ CE(y, model(x)))).

    model: any callable images [B, ...] → logits [B, K]. x: float images in [0, 1]. y: int labels [B],
    or None for the model's own predictions. eps: L∞ radius in pixel units. clip: (lo, hi) or None.
    Returns x̃ float32, same shape as x. No gradient flows through the result's construction.
    """
    x = _common.as_images(x)
    y = _common.labels_for(model, x, y)
    lo, hi = (float("-inf"), float("inf")) if clip is None else (float(clip[0]), float(clip[1]))
    tensors = (x, y, tf.constant(float(eps)), tf.constant(lo), tf.constant(hi))
    return tf.stop_gradient(_common.run(_fgsm_core, model, tensors, {}))
