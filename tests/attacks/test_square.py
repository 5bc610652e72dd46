import numpy as np
import pytest
import tensorflow as tf

from tests.attacks._linear_models import Linear, correctly_classified, linf
from tfgm.attacks.apgd import apgd
from tfgm.attacks.pgd import pgd
from tfgm.attacks.square import square, square_fraction


class NoGradient(Linear):
    """A linear model whose gradient raises: an attack that asks for one fails."""

    def __call__(self, x):
        @tf.custom_gradient
        def guarded(v):
            def grad(_):
                raise AssertionError("the attack asked for a gradient")
            return tf.identity(v), grad

        return super().__call__(guarded(tf.convert_to_tensor(x, tf.float32)))


class Quantized(Linear):
    """A linear model behind a quantizing input layer (4 levels per unit): gradients are zero almost everywhere."""

    def __call__(self, x):
        return super().__call__(tf.round(tf.convert_to_tensor(x, tf.float32) * 4.0) / 4.0)


def test_square_fraction_halves_on_the_published_schedule():
    got = [float(square_fraction(i)) for i in (0, 10, 11, 50, 51, 201, 501, 1001, 2001, 4001, 6001, 8001, 9999)]
    np.testing.assert_allclose(got, 0.8 / np.array([1, 1, 2, 2, 4, 8, 16, 32, 64, 128, 256, 512, 512]), rtol=1e-6)


def test_square_breaks_an_undefended_linear_model_without_gradients():
    """Every point lies within 0.6·ε of the boundary (closed form); Square breaks them all, asking no gradient.
    (It stops as soon as every point is broken, typically after a few hundred queries.)"""
    model = NoGradient(8 * 8 * 3, 10, seed=0)
    x = np.random.default_rng(0).uniform(0.0, 1.0, (16, 8, 8, 3)).astype("float32")
    y = model.predict(x)
    assert model.min_distance(x, y).max() <= 0.06
    with pytest.raises(AssertionError, match="asked for a gradient"):
        apgd(model, x, y, eps=0.1, steps=2)
    adv = square(model, x, y, eps=0.1, queries=1000, seed=0).numpy()
    assert np.all(model.predict(adv) != y)
    assert np.all(linf(adv, x) <= 0.1 + 1e-6) and adv.min() >= 0.0 and adv.max() <= 1.0


def test_square_succeeds_where_masked_gradients_stop_apgd_and_pgd():
    model, honest = Quantized(20, 10, seed=0), Linear(20, 10, seed=0)
    x, y = correctly_classified(model, 48, 20)
    accuracy = lambda m, adv: np.mean(m.predict(adv) == y)  # noqa: E731
    for attack in (lambda m: apgd(m, x, y, eps=0.3, steps=10, seed=0),
                   lambda m: pgd(m, x, y, eps=0.3, step_size=0.03, steps=10, seed=0)):
        assert accuracy(honest, attack(honest)) == 0.0 and accuracy(model, attack(model)) >= 0.5
    adv = square(model, x, y, eps=0.3, queries=100, seed=0).numpy()
    assert accuracy(model, adv) <= 0.1
    assert np.all(linf(adv, x) <= 0.3 + 1e-6) and adv.min() >= 0.0 and adv.max() <= 1.0


def test_square_starts_from_vertical_stripes_and_keeps_them_when_nothing_improves():
    """A constant model never rewards a window, so the result is the start: ±ε per column and channel."""
    def constant(x):
        return tf.tile(tf.constant([[1.0, 0.0]]), [tf.shape(x)[0], 1])

    x = np.full((4, 6, 5, 2), 0.5, np.float32)
    adv = square(constant, x, np.zeros(4, np.int32), eps=0.1, queries=5, seed=3).numpy()
    delta = adv - x
    np.testing.assert_allclose(np.abs(delta), 0.1, atol=1e-6)
    np.testing.assert_array_equal(delta, np.broadcast_to(delta[:, :1], delta.shape))
    assert len(np.unique(np.sign(delta[:, 0]))) == 2


def test_square_on_vectors_keeps_every_entry_at_a_vertex_of_the_ball():
    """Vectors [B, D] are searched with segments of about p·D entries; start and windows set entries to x ± ε,
    so away from the box faces every entry of the result sits at a vertex."""
    model = Linear(30, 3, seed=5)
    x, y = correctly_classified(model, 12, 30, seed=5, lo=0.2, hi=0.8)
    adv = square(model, x, y, eps=0.01, queries=40, seed=0).numpy()
    assert np.all(linf(adv, x) <= 0.01 + 1e-6)
    assert np.all(np.isclose(np.abs(adv - x), 0.01, atol=1e-6))  # every entry at a vertex of the ball


def test_same_seed_reproduces_and_bad_input_raises():
    model = Linear(20, 4, seed=1)
    x, y = correctly_classified(model, 8, 20, seed=1)
    np.testing.assert_array_equal(square(model, x, y, eps=0.05, queries=20, seed=4),
                                  square(model, x, y, eps=0.05, queries=20, seed=4))
    with pytest.raises(ValueError, match=r"\[B, H, W, C\]"):
        square(model, x.reshape(8, 4, 5), y, eps=0.05)
    with pytest.raises(ValueError, match="p_init"):
        square(model, x, y, eps=0.05, p_init=0.0)
