import importlib

import numpy as np
import pytest
import tensorflow as tf

from tests.attacks._linear_models import Linear, correctly_classified, linf
from tfgm.attacks import _losses, _runs
from tfgm.attacks.apgd import _apgd_core, apgd, checkpoints


def _broken(model, adv, y):
    return model.predict(adv) != y


def test_checkpoints_follow_the_papers_schedule():
    """p_0 = 0, p_1 = 0.22, p_{j+1} = p_j + max(p_j − p_{j−1} − 0.03, 0.06): 0.22, 0.41, 0.57, 0.70, … of 100."""
    assert checkpoints(100) == [22, 41, 57, 70, 80, 87, 93, 99]
    assert checkpoints(20) == [4, 7, 9] + list(range(10, 21))
    assert checkpoints(1) == [1]


def test_dlr_losses_match_a_hand_computation_and_ignore_logit_shift_and_scale():
    logits = tf.constant([[3.0, 1.0, 2.0, 0.0], [0.5, 4.0, 1.0, 2.0]])
    y, target = tf.constant([0, 0]), tf.constant([2, 3])
    # row 0: −(3 − 2) / (3 − 1); row 1: −(0.5 − 4) / (4 − 1)
    np.testing.assert_allclose(_losses.dlr(logits, y), [-0.5, 3.5 / 3.0], rtol=1e-6)
    # row 0: −(3 − 2) / (3 − (1 + 0)/2); row 1: −(0.5 − 2) / (4 − (1 + 0.5)/2)
    np.testing.assert_allclose(_losses.dlr_targeted(logits, y, target), [-0.4, 1.5 / 3.25], rtol=1e-6)
    np.testing.assert_allclose(_losses.dlr(7.0 * logits - 3.0, y), _losses.dlr(logits, y), rtol=1e-5)
    np.testing.assert_array_equal(_losses.ranked_class(logits, 2), [2, 3])


class TanhNet:
    """logits = tanh(x·W1 + b1)·W2 + b2: small, nonlinear (APGD's path matters), with a NumPy gradient."""

    def __init__(self, dims=10, hidden=16, classes=3, seed=0):
        rng = np.random.default_rng(seed)
        self.w1 = (rng.normal(size=(dims, hidden)) * 1.5).astype("float32")
        self.b1 = rng.normal(size=hidden).astype("float32")
        self.w2 = (rng.normal(size=(hidden, classes)) * 2.0).astype("float32")
        self.b2 = rng.normal(size=classes).astype("float32")

    def __call__(self, x):
        return tf.matmul(tf.tanh(tf.matmul(x, self.w1) + self.b1), self.w2) + self.b2

    def loss_grad(self, z, y):
        """Cross-entropy [B] and its gradient wrt z, in NumPy."""
        h = np.tanh(z @ self.w1 + self.b1)
        logits = h @ self.w2 + self.b2
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        onehot = np.eye(p.shape[1], dtype=np.float32)[y]
        return -np.log(np.sum(p * onehot, 1)), (((p - onehot) @ self.w2.T) * (1 - h ** 2)) @ self.w1.T


def _reference_apgd_ce(net, x, y, eps, start, steps, rho=0.75):
    """A line-by-line NumPy port of the authors' L∞ APGD loop (autopgd_base.attack_single_run) with
    cross-entropy, from a given start. Returns (best point, best loss, number of step halvings)."""

    def loss_grad(z):
        return net.loss_grad(z, y)

    x_adv = start.copy()
    loss, grad = loss_grad(x_adv)
    x_best, loss_best, grad_best = x_adv.copy(), loss.copy(), grad.copy()
    history = [loss.copy()]
    step = np.full((len(x), 1), 2.0 * eps, np.float32)
    x_old = x_adv.copy()
    k, k_min, k_shrink = max(int(0.22 * steps), 1), max(int(0.06 * steps), 1), max(int(0.03 * steps), 1)
    counter, best_at_check, reduced_at_check, halvings = 0, loss_best.copy(), np.ones(len(x), bool), 0
    for i in range(steps):
        momentum_term, x_old = x_adv - x_old, x_adv.copy()
        a = 0.75 if i > 0 else 1.0
        z = np.clip(np.clip(x_adv + step * np.sign(grad), x - eps, x + eps), 0.0, 1.0)
        x_adv = np.clip(np.clip(x_adv + (z - x_adv) * a + momentum_term * (1 - a), x - eps, x + eps), 0.0, 1.0)
        loss, grad = loss_grad(x_adv)
        history.append(loss.copy())
        better = loss > loss_best
        x_best[better], grad_best[better], loss_best[better] = x_adv[better], grad[better], loss[better]
        counter += 1
        if counter == k:
            increases = sum((history[-1 - c] > history[-2 - c]).astype(np.float32) for c in range(k))
            halve = (increases <= k * rho) | (~reduced_at_check & (best_at_check >= loss_best))
            reduced_at_check, best_at_check = halve, loss_best.copy()
            step[halve] /= 2.0
            halvings += int(halve.sum())
            x_adv[halve], grad[halve] = x_best[halve], grad_best[halve]
            k, counter = max(k - k_shrink, k_min), 0
    return x_best, loss_best, halvings


def test_apgd_run_matches_a_port_of_the_authors_loop():
    model = TanhNet(seed=4)
    x = np.random.default_rng(4).random((16, 10)).astype("float32")
    y = np.argmax(model(x).numpy(), axis=1).astype("int32")
    eps, seed = 0.3, tf.constant([3, 9])
    args = (tf.constant(x), tf.constant(y), tf.zeros_like(y), tf.fill([16], eps), seed, 0.0, 1.0)
    start = _apgd_core(model, *args, steps=0, loss="ce", rho=0.75, eot_samples=1)[0].numpy()
    assert 0.1 < linf(start, x).min() and linf(start, x).max() <= eps + 1e-6
    x_best, _, loss_best, _ = _apgd_core(model, *args, steps=30, loss="ce", rho=0.75, eot_samples=1)
    ref_x, ref_loss, halvings = _reference_apgd_ce(model, x, y, eps, start, 30)
    np.testing.assert_allclose(loss_best, ref_loss, rtol=1e-4)
    # Where tanh saturates, different points tie in loss to float precision and the CPU's last bits pick one of them
    # (14 of 16 points equal on Zen 4, 13 on Zen 3): every point that differs must be such a tie.
    same = linf(x_best, ref_x) <= 1e-5
    assert same.sum() >= 12

    def cross_entropy(points):
        return tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(points)).numpy()

    np.testing.assert_allclose(cross_entropy(x_best)[~same], cross_entropy(ref_x)[~same], rtol=1e-6)
    clean = cross_entropy(x)
    assert np.all(ref_loss > clean + 0.05) and halvings > 16  # the schedule was exercised


def test_apgd_t_reaches_the_closed_form_minimal_perturbation_of_a_linear_classifier():
    """10 classes, box constraints active: with ε = (minimal distance + 1e-3) per example, APGD-T over the 9
    targets breaks every point; with ε = (minimal distance − 1e-3) nothing can, which checks the closed form."""
    model = Linear(20, 10, seed=0)
    x, y = correctly_classified(model, 32, 20)
    d = model.min_distance(x, y)
    assert np.all(np.isfinite(d)) and d.max() > 0.05
    adv = apgd(model, x, y, eps=(d + 1e-3).astype("float32"), steps=20, targets=9, seed=0).numpy()
    assert np.all(_broken(model, adv, y)), d[~_broken(model, adv, y)]
    assert np.all(linf(adv, x) <= d + 1e-3 + 1e-6) and adv.min() >= 0.0 and adv.max() <= 1.0
    below = apgd(model, x, y, eps=np.maximum(d - 1e-3, 0.0).astype("float32"), steps=20, targets=9, seed=0)
    assert not np.any(_broken(model, below.numpy(), y))


def test_apgd_ce_reaches_the_closed_form_minimal_perturbation_of_a_binary_linear_classifier():
    model = Linear(20, 2, seed=1)
    x, y = correctly_classified(model, 32, 20, seed=1)
    d = model.min_distance(x, y)
    adv = apgd(model, x, y, eps=(d + 1e-3).astype("float32"), steps=20, seed=0).numpy()
    assert np.all(_broken(model, adv, y)), d[~_broken(model, adv, y)]


def test_apgd_stays_in_the_ball_and_box_and_returns_unattackable_points_unchanged():
    model = Linear(12, 4, seed=2)
    x, y = correctly_classified(model, 24, 12, seed=2)
    y[:3] = (y[:3] + 1) % 4  # misclassified from the start: left alone
    eps = np.full(24, 0.2, np.float32)
    eps[3:6] = 0.0  # no room at all
    for kwargs in ({}, {"loss": "dlr", "restarts": 2}, {"targets": 3}):
        adv = apgd(model, x, y, eps=eps, steps=8, seed=1, **kwargs).numpy()
        assert adv.dtype == np.float32 and adv.shape == x.shape
        assert np.all(linf(adv, x) <= eps + 1e-6) and adv.min() >= 0.0 and adv.max() <= 1.0
        np.testing.assert_array_equal(adv[:6], x[:6])


def test_same_seed_reproduces_and_restarts_never_help_less():
    model = Linear(12, 4, seed=3)
    x, y = correctly_classified(model, 32, 12, seed=3)
    one = apgd(model, x, y, eps=0.04, steps=5, seed=7).numpy()
    np.testing.assert_array_equal(one, apgd(model, x, y, eps=0.04, steps=5, seed=7))
    assert not np.array_equal(one, apgd(model, x, y, eps=0.04, steps=5, seed=8))
    many = apgd(model, x, y, eps=0.04, steps=5, seed=7, restarts=3).numpy()
    assert np.all(_broken(model, many, y) >= _broken(model, one, y))


def test_apgd_inside_a_tf_function_equals_eager():
    model = Linear(12, 4, seed=5)
    x, y = correctly_classified(model, 16, 12, seed=5)
    compiled = tf.function(lambda a, b: apgd(model, a, b, eps=0.05, steps=6, restarts=2, seed=3))
    np.testing.assert_allclose(compiled(tf.constant(x), tf.constant(y)),
                               apgd(model, x, y, eps=0.05, steps=6, restarts=2, seed=3), atol=1e-6)


def test_eot_averages_the_gradient_over_draws_of_a_stochastic_model():
    """Each draw's gradient has the right sign with p ≈ 0.8; the mean of 64 draws almost always does."""
    gen = tf.random.Generator.from_seed(0)
    w = np.linspace(0.5, 1.5, 10).astype("float32")

    def stochastic(x):
        z = tf.reduce_sum((x - 0.5) * w, axis=1, keepdims=True) * (1.0 + gen.normal([tf.shape(x)[0], 1], stddev=1.2))
        return tf.concat([tf.zeros_like(z), z], axis=1)

    x = tf.fill([200, 10], 0.5)
    loss, grad, logits = _runs.loss_gradient_logits(stochastic, x, lambda z: z[:, 1], 64)
    assert loss.shape == [200] and grad.shape == [200, 10] and logits.shape == [200, 2]
    right = [np.mean(_runs.loss_gradient_logits(stochastic, x, lambda z: z[:, 1], n)[1].numpy()[:, 0] > 0)
             for n in (1, 64)]
    assert right[0] < 0.85 and right[1] > 0.97


def test_bad_settings_raise_before_any_work():
    model = Linear(6, 3)
    x = np.full((2, 6), 0.5, np.float32)
    with pytest.raises(ValueError, match="targeted DLR"):
        apgd(model, x, eps=0.1, targets=1, loss="ce")
    with pytest.raises(ValueError, match="at least 4 classes"):
        apgd(model, x, eps=0.1, targets=1)
    with pytest.raises(ValueError, match="at least 3 classes"):
        apgd(Linear(6, 2), x, eps=0.1, loss="dlr")
    with pytest.raises(ValueError, match="eps must be >= 0"):
        apgd(model, x, eps=-0.1)
    with pytest.raises(ValueError, match="restarts"):
        apgd(model, x, eps=0.1, restarts=0)
    with pytest.raises(ValueError, match="clip"):
        apgd(model, x, eps=0.1, clip=None)


def test_restarts_run_again_on_the_points_left_unbroken_each_with_its_own_seed(monkeypatch):
    module = importlib.import_module("tfgm.attacks.apgd")
    calls, run = [], module._common.run

    def spy(core, model, tensors, static):
        calls.append((int(tensors[0].shape[0]), tuple(np.asarray(tensors[4]))))
        return run(core, model, tensors, static)

    monkeypatch.setattr(module._common, "run", spy)
    model = Linear(12, 4, seed=3)
    x, y = correctly_classified(model, 32, 12, seed=3)
    apgd(model, x, y, eps=0.04, steps=5, seed=7, restarts=3)
    assert len(calls) == 3 and len({seed for _, seed in calls}) == 3
    assert calls[0][0] == 32 and calls[1][0] == calls[2][0] < 32  # restarts attack only what run 1 left
