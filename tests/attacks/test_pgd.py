import numpy as np
import pytest
import tensorflow as tf

from tests.attacks._toy import X, Y, ce, linear, mlp
from tfgm.attacks.fgsm import fgsm
from tfgm.attacks.pgd import pgd


def test_pgd_stays_in_the_eps_ball_and_the_pixel_range():
    model = mlp()
    adv = pgd(model, X, Y, eps=0.1, step_size=0.05, steps=10, seed=1).numpy()
    assert np.max(np.abs(adv - X)) <= 0.1 + 1e-6
    assert adv.min() >= 0.0 and adv.max() <= 1.0
    assert adv.dtype == np.float32 and adv.shape == X.shape


def test_pgd_is_never_worse_than_its_random_start():
    """Large steps make plain PGD oscillate; the per-example best iterate must still beat the start."""
    model = mlp()
    start = pgd(model, X, Y, eps=0.3, steps=0, seed=5).numpy()
    assert np.max(np.abs(start - X)) > 0.1
    for step_size in (0.01, 0.3):
        adv = pgd(model, X, Y, eps=0.3, step_size=step_size, steps=6, seed=5)
        assert np.all(ce(model, adv, Y) >= ce(model, start, Y) - 1e-6)
    no_start = pgd(model, X, Y, eps=0.3, steps=0, random_start=False)
    np.testing.assert_array_equal(no_start, X)


def test_restarts_never_lower_the_per_example_loss_and_same_seed_reproduces():
    model = mlp(seed=2)
    one = pgd(model, X, Y, eps=0.2, step_size=0.02, steps=5, seed=11)
    np.testing.assert_array_equal(one, pgd(model, X, Y, eps=0.2, step_size=0.02, steps=5, seed=11))
    many = pgd(model, X, Y, eps=0.2, step_size=0.02, steps=5, seed=11, restarts=4)
    assert np.all(ce(model, many, Y) >= ce(model, one, Y) - 1e-6)
    assert not np.array_equal(one, pgd(model, X, Y, eps=0.2, step_size=0.02, steps=5, seed=12))


def test_pgd_is_at_least_as_strong_as_fgsm_on_a_nonlinear_model():
    model = mlp(seed=3)
    adv_pgd = pgd(model, X, Y, eps=0.2, step_size=0.02, steps=20, random_start=False)
    adv_fgsm = fgsm(model, X, Y, eps=0.2)
    assert ce(model, adv_pgd, Y).mean() >= ce(model, adv_fgsm, Y).mean() - 1e-4


def test_pgd_on_a_linear_model_reaches_the_fgsm_corner():
    """For a linear model the loss-maximizing L∞ point is the FGSM corner; PGD from x must get there."""
    adv = pgd(linear, X, Y, eps=0.05, step_size=0.01, steps=10, random_start=False)
    np.testing.assert_allclose(adv, fgsm(linear, X, Y, eps=0.05), atol=1e-5)


def test_eot_averages_gradients_of_a_stochastic_model():
    """At x = 0.5 the logit is 0 for every draw, and each call's gradient has the right sign with p≈0.8:
    one sample often goes the wrong way, the average of 64 almost never does."""
    gen = tf.random.Generator.from_seed(0)
    w = np.linspace(0.5, 1.5, 10).astype("float32")

    def stochastic(x):
        factor = 1.0 + gen.normal([tf.shape(x)[0], 1], mean=0.0, stddev=1.2)
        z = 2.0 * tf.reduce_sum((x - 0.5) * w, axis=1, keepdims=True) * factor
        return tf.concat([tf.zeros_like(z), z], axis=1)

    x = np.full((200, 10), 0.5, "float32")
    y = np.zeros(200, "int32")
    kwargs = dict(eps=0.1, step_size=0.1, steps=1, random_start=False)
    right_way = x + 0.1
    single = pgd(stochastic, x, y, eot_samples=1, **kwargs).numpy()
    averaged = pgd(stochastic, x, y, eot_samples=64, **kwargs).numpy()
    frac_single = np.mean(np.all(np.isclose(single, right_way), axis=1))
    frac_avg = np.mean(np.all(np.isclose(averaged, right_way), axis=1))
    assert frac_avg > 0.97 and frac_single < 0.85


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="restarts"):
        pgd(linear, X, Y, restarts=0)


def test_repeated_eager_calls_trace_nothing_new_and_static_settings_get_their_own_trace():
    from tests.attacks.test_fgsm import _Counting

    model = _Counting()
    pgd(model.logits, X, Y, eps=0.1, steps=3, seed=0)
    traced = model.calls
    pgd(model.logits, X, Y, eps=0.2, steps=3, seed=1)
    assert traced >= 1 and model.calls == traced
    pgd(model.logits, X, Y, eps=0.1, steps=4, seed=0)
    assert model.calls > traced
