import numpy as np
import tensorflow as tf

from tests.attacks._toy import B, W, X, Y, linear
from tfgm.attacks.fgsm import fgsm


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_fgsm_matches_a_hand_computation_on_a_linear_model():
    eps = 0.1
    grad = (_softmax(X @ W + B) - np.eye(3)[Y]) @ W.T
    expected = np.clip(X + eps * np.sign(grad), 0.0, 1.0)
    got = fgsm(linear, X, Y, eps=eps).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert np.any(expected == 0.0) or np.any(expected == 1.0)


def test_fgsm_without_labels_attacks_the_predicted_class_and_clip_none_leaves_range():
    predicted = np.argmax(X @ W + B, axis=1)
    np.testing.assert_array_equal(fgsm(linear, X, eps=0.2), fgsm(linear, X, predicted, eps=0.2))
    unclipped = fgsm(linear, X, Y, eps=0.5, clip=None).numpy()
    np.testing.assert_allclose(np.abs(unclipped - X), 0.5, atol=1e-6)


def test_fgsm_raises_the_loss_and_works_inside_a_tf_function():
    before = tf.nn.sparse_softmax_cross_entropy_with_logits(Y, linear(X)).numpy()
    compiled = tf.function(lambda x, y: fgsm(linear, x, y, eps=0.05))
    adv = compiled(tf.constant(X), tf.constant(Y))
    after = tf.nn.sparse_softmax_cross_entropy_with_logits(Y, linear(adv)).numpy()
    assert np.all(after >= before - 1e-6) and after.mean() > before.mean()
    np.testing.assert_allclose(adv, fgsm(linear, X, Y, eps=0.05), atol=1e-6)


class _Counting:
    """A model as a bound method; counts the Python calls of its logits (one per trace inside tf.function)."""

    def __init__(self):
        self.calls = 0

    def logits(self, x):
        self.calls += 1
        return linear(x)


def test_repeated_eager_calls_on_a_bound_method_trace_nothing_new_and_do_not_keep_it_alive():
    import gc
    import weakref

    model = _Counting()
    first = fgsm(model.logits, X, Y, eps=0.1)
    traced = model.calls
    second = fgsm(model.logits, X, Y, eps=0.1)  # a new bound-method object, same model
    assert traced >= 1 and model.calls == traced
    np.testing.assert_array_equal(first, second)
    fgsm(model.logits, X, Y, eps=0.2)  # ε is a tensor argument: same trace
    assert model.calls == traced
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None
