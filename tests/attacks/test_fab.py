import importlib

import numpy as np
import pytest
import tensorflow as tf

from tests.attacks._linear_models import Linear, correctly_classified, linf
from tfgm.attacks.fab import _fab_core, fab, project_linf


def _smallest_step(t, w, b, lo=0.0, hi=1.0, vector=False):
    """‖d‖∞ of the smallest step d onto w·z = b within the box, by bisection (inf if the box cannot reach it);
    with vector=True the step itself (towards the closest box corner when out of reach)."""
    c = t @ w - b
    v = -np.sign(c) * w  # moving along sign(v) lowers |w·z − b|
    room = np.where(v > 0, hi - t, t - lo)
    gain = lambda r: np.sum(np.abs(v) * np.minimum(r, room))  # noqa: E731
    if gain(room.max()) < abs(c):
        e = np.inf
    else:
        a, e = 0.0, room.max()
        for _ in range(60):
            a, e = (a, 0.5 * (a + e)) if gain(0.5 * (a + e)) >= abs(c) else (0.5 * (a + e), e)
    return np.sign(v) * np.minimum(e, room) if vector else e


def test_projection_is_the_smallest_linf_step_onto_the_hyperplane_inside_the_box():
    rng = np.random.default_rng(0)
    t = rng.uniform(0.0, 1.0, (40, 15)).astype("float32")
    w = rng.normal(size=(40, 15)).astype("float32")
    w[:, :4] = 0.0  # coordinates the plane ignores must not move
    b = np.sum(w * t, axis=1) + rng.normal(size=40).astype("float32") * np.linspace(0.1, 8.0, 40).astype("float32")
    d = project_linf(tf.constant(t), tf.constant(w), tf.constant(b), 0.0, 1.0).numpy()
    z = t + d
    assert z.min() >= 0.0 and z.max() <= 1.0 and np.all(d[:, :4] == 0.0)
    best = np.array([_smallest_step(t[i].astype(np.float64), w[i].astype(np.float64), float(b[i])) for i in range(40)])
    reach = np.isfinite(best)
    assert 5 < reach.sum() < 40  # both cases occur
    np.testing.assert_allclose(np.sum(w * z, axis=1)[reach], b[reach], atol=1e-4)
    np.testing.assert_allclose(np.abs(d).max(axis=1)[reach], best[reach], atol=1e-5)
    # out of reach: the box corner that gets closest to the plane
    corner = np.where(-np.sign(np.sum(w * t, axis=1) - b)[:, None] * w > 0, 1.0, 0.0)
    moving = w != 0.0
    np.testing.assert_allclose(z[~reach][moving[~reach]], corner[~reach][moving[~reach]], atol=1e-6)


def _reference_fab_t(model, x, y, target, start, steps, alpha_max=0.1, eta=1.05, beta=0.9):
    """A NumPy port of the authors' FAB loop (fab_base.attack_single_run, L∞, targeted) on a linear model, from
    a given start. Returns (smallest adversarial found or x, its distance or 1e10)."""
    x = x.astype(np.float64)
    x1, adv, dist = start.astype(np.float64), x.copy(), np.full(len(x), 1e10)
    for _ in range(steps):
        for n in range(len(x)):
            v = (model.w[:, target[n]] - model.w[:, y[n]]).astype(np.float64)
            f = x1[n] @ v + model.b[target[n]] - model.b[y[n]]
            plane = -f + v @ x1[n]
            d1, d2 = _smallest_step(x1[n], v, plane, vector=True), _smallest_step(x[n], v, plane, vector=True)
            a1, a2 = max(np.abs(d1).max(), 1e-8), max(np.abs(d2).max(), 1e-8)
            alpha = min(max(a1 / (a1 + a2), 0.0), alpha_max)
            moved = np.clip((x1[n] + eta * d1) * (1 - alpha) + (x[n] + eta * d2) * alpha, 0.0, 1.0)
            x1[n] = moved
            if model.predict(moved[None].astype(np.float32))[0] != y[n]:
                size = np.abs(moved - x[n]).max()
                if size < dist[n]:
                    adv[n], dist[n] = moved, size
                x1[n] = x[n] + beta * (moved - x[n])
    return adv, dist


def test_fab_run_matches_a_port_of_the_authors_loop():
    model = Linear(12, 4, seed=6)
    x, y = correctly_classified(model, 12, 12, seed=6)
    target = np.argsort(-model(x).numpy(), axis=1)[:, 1].astype("int32")
    eps, seed = 0.2, tf.constant([0, 5])
    args = (tf.constant(x), tf.constant(y), tf.constant(target), tf.fill([12], eps), seed, 0.0, 1.0)
    settings = dict(steps=6, targeted=True, alpha_max=0.1, eta=1.05, beta=0.9)
    for random_start in (False, True):
        start = x
        if random_start:  # the authors' restart: uniform noise scaled to L∞ norm ε/2 around x, clipped
            noise = tf.random.stateless_uniform(x.shape, seed, -1.0, 1.0).numpy()
            start = np.clip(x + 0.5 * eps * noise / np.abs(noise).max(axis=1, keepdims=True), 0.0, 1.0)
        adv, dist = _fab_core(model, *args, random_start=random_start, **settings)
        ref_adv, ref_dist = _reference_fab_t(model, x, y, target, start, 6)
        assert np.all(ref_dist < 1.0)
        np.testing.assert_allclose(dist, ref_dist, atol=2e-5)
        np.testing.assert_allclose(adv, ref_adv, atol=2e-5)


def _check_minimal(model, x, y, adv, eps):
    """Every point whose closed-form minimal distance is ≤ ε − 1e-3 is broken at most 1e-3 beyond it; the others
    come back unchanged or broken within ε."""
    d = model.min_distance(x, y)
    broken = model.predict(adv) != y
    reachable = d <= eps - 1e-3
    assert reachable.sum() >= 10 and (~reachable).sum() >= 3
    assert np.all(broken[reachable]), d[reachable & ~broken]
    assert np.all(linf(adv, x)[broken] <= d[broken] + 1e-3)
    assert np.all(linf(adv, x) <= eps + 1e-6) and adv.min() >= 0.0 and adv.max() <= 1.0
    np.testing.assert_array_equal(adv[~broken], x[~broken])


def test_fab_finds_the_minimal_perturbation_of_a_multiclass_linear_classifier():
    """Inside the box (no face in reach) the closest linearized boundary is the true one: untargeted FAB must
    land within 1e-3 of the closed-form minimum."""
    model = Linear(20, 10, seed=1)
    x, y = correctly_classified(model, 32, 20, seed=1, lo=0.3, hi=0.7)
    adv = fab(model, x, y, eps=0.1, targeted=False, steps=10, seed=0).numpy()
    _check_minimal(model, x, y, adv, 0.1)


def test_fab_t_finds_the_minimal_perturbation_when_the_box_binds():
    """Two classes, inputs anywhere in [0, 1]: the projection must handle the box faces exactly."""
    model = Linear(20, 2, seed=4)
    x, y = correctly_classified(model, 32, 20, seed=4)
    adv = fab(model, x, y, eps=0.15, targets=1, steps=10, seed=0).numpy()
    _check_minimal(model, x, y, adv, 0.15)
    assert np.any((adv == 0.0) | (adv == 1.0))


def test_fab_t_over_nine_targets_breaks_every_point_within_eps():
    model = Linear(20, 10, seed=3)
    x, y = correctly_classified(model, 32, 20, seed=3)
    d = model.min_distance(x, y)
    adv = fab(model, x, y, eps=0.08, steps=10, seed=0).numpy()
    broken = model.predict(adv) != y
    assert np.all(broken[d <= 0.08 - 1e-3]) and not np.any(broken[d > 0.08])
    assert np.all(linf(adv, x) <= 0.08 + 1e-6)


def test_fab_restarts_start_at_random_and_seed_reproduces():
    model = Linear(20, 10, seed=3)
    x, y = correctly_classified(model, 16, 20, seed=3)
    kwargs = dict(eps=0.05, targeted=False, steps=4, restarts=3)
    one = fab(model, x, y, seed=5, **kwargs).numpy()
    np.testing.assert_array_equal(one, fab(model, x, y, seed=5, **kwargs))
    single = fab(model, x, y, eps=0.05, targeted=False, steps=4, seed=5).numpy()
    assert np.all((model.predict(one) != y) >= (model.predict(single) != y))


def test_bad_settings_raise():
    model = Linear(6, 3)
    x = np.full((2, 6), 0.5, np.float32)
    with pytest.raises(ValueError, match="at least 10 classes"):
        fab(model, x, eps=0.1, targets=9)
    with pytest.raises(ValueError, match="eta"):
        fab(model, x, eps=0.1, targets=2, eta=0.5)


def test_restarts_after_the_first_start_at_random_on_the_points_left_unbroken(monkeypatch):
    module = importlib.import_module("tfgm.attacks.fab")
    calls, run = [], module._common.run

    def spy(core, model, tensors, static):
        calls.append((int(tensors[0].shape[0]), static["random_start"], tuple(np.asarray(tensors[-3]))))
        return run(core, model, tensors, static)

    monkeypatch.setattr(module._common, "run", spy)
    model = Linear(20, 10, seed=3)
    x, y = correctly_classified(model, 16, 20, seed=3)
    fab(model, x, y, eps=0.01, targeted=False, steps=4, restarts=3, seed=5)
    assert [random for _, random, _ in calls] == [False, True, True]
    assert calls[0][0] == 16 and calls[1][0] <= 16 and calls[2][0] <= calls[1][0]
