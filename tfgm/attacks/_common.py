"""Helpers shared by the attacks: per-example loss and gradient, labels, seeds, compiled-function cache."""

import types
import weakref

import tensorflow as tf

from tfgm.attacks._runs import loss_gradient_logits

_CACHE = weakref.WeakKeyDictionary()


def as_images(x):
    return tf.convert_to_tensor(x, tf.float32)


def labels_for(model, x, y):
    """y as int32 [B]; y=None uses the model's predicted classes (avoids label leaking)."""
    if y is None:
        return tf.argmax(model(x), axis=-1, output_type=tf.int32)
    return tf.reshape(tf.cast(y, tf.int32), [-1])


def loss_and_gradient(model, x, y, samples=1):
    """Per-example cross-entropy [B] and its gradient wrt x, each averaged over `samples` model calls (EOT)."""
    def cross_entropy(logits):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)

    loss, grad, _ = loss_gradient_logits(model, x, cross_entropy, samples)
    return loss, grad


def as_seed(seed):
    """int / [2] tensor / None → [2] int32 stateless seed (None draws one from TF's global generator)."""
    if seed is None:
        return tf.random.uniform([2], maxval=tf.int32.max, dtype=tf.int32)
    seed = tf.convert_to_tensor(seed)
    if seed.shape.rank == 0:
        seed = tf.stack([seed, tf.zeros_like(seed)])
    return tf.cast(tf.math.floormod(tf.cast(seed, tf.int64), tf.int32.max - 1), tf.int32)


def _owner_and_resolver(model):
    """(cache key object, () → the callable) for `model`, holding the model weakly where it can.

    A bound method (`obj.method`) is a new object at every attribute access, so it is keyed by its
    instance and function: every access of the same method on the same object shares one entry.
    """
    func = getattr(model, "__func__", None)
    owner = getattr(model, "__self__", None)
    if func is not None and owner is not None:
        ref = weakref.ref(owner)
        return owner, func, lambda: types.MethodType(func, ref())
    ref = weakref.ref(model)
    return model, None, ref


def compiled(core, model, static):
    """A tf.function of `core(model, *tensors, **static)`, cached per (model, core, static settings), so a
    repeated eager call with the same shapes traces nothing new.

    Inside a traced function (e.g. a train step) the core runs inline instead.
    """
    try:
        owner, func, resolve = _owner_and_resolver(model)
        per_model = _CACHE.setdefault(owner, {})
    except TypeError:
        func, per_model, resolve = None, {}, lambda: model
    key = (core, func, tuple(sorted(static.items())))
    if key not in per_model:
        per_model[key] = tf.function(_Call(core, resolve, static), reduce_retracing=True)
    return per_model[key]


class _Call:
    """core(model, *tensors, **static) with the model resolved through a weak reference, so the cache does not
    keep it alive. One instance per cache entry: TF counts retracing per Python callable, and a lambda shared
    by every model would make it warn about "retracing" after a few models were attacked once each."""

    def __init__(self, core, resolve, static):
        self.core, self.resolve, self.static = core, resolve, static

    def __call__(self, *tensors):
        return self.core(self.resolve(), *tensors, **self.static)


def run(core, model, tensors, static):
    if tf.inside_function():
        return core(model, *tensors, **static)
    return compiled(core, model, static)(*tensors)
