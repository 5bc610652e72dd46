import importlib

import numpy as np
import pytest
import tensorflow as tf

from tests.attacks._linear_models import Linear, correctly_classified, linf
from tfgm.attacks.autoattack import autoattack, plan

QUICK = dict(steps=8, queries=40)


def test_versions_hold_the_published_settings():
    standard, deviations = plan("standard", num_classes=10)
    assert deviations == {}
    assert standard == [
        ("apgd-ce", {"steps": 100, "restarts": 1, "rho": 0.75, "eot_samples": 1}),
        ("apgd-t", {"steps": 100, "restarts": 1, "targets": 9, "rho": 0.75, "eot_samples": 1}),
        ("fab-t", {"steps": 100, "restarts": 1, "alpha_max": 0.1, "eta": 1.05, "beta": 0.9, "targets": 9}),
        ("square", {"queries": 5000, "restarts": 1, "p_init": 0.8})]
    plus = dict(plan("plus", num_classes=10)[0])
    assert list(plus) == ["apgd-ce", "apgd-dlr", "fab", "square", "apgd-t", "fab-t"]
    assert [plus[a]["restarts"] for a in plus] == [5, 5, 5, 1, 1, 1]
    assert plus["apgd-t"]["targets"] == plus["fab-t"]["targets"] == 9 and plus["square"]["queries"] == 5000
    rand = dict(plan("rand", num_classes=10)[0])
    assert list(rand) == ["apgd-ce", "apgd-dlr"] and all(s["eot_samples"] == 20 and s["restarts"] == 1
                                                         for s in rand.values())
    few, notes = plan("standard", num_classes=5, steps=10)
    assert dict(few)["apgd-t"]["targets"] == 4 and notes["fab-t.targets"] == "9 -> 4 (the model has 5 classes)"
    assert notes["apgd-ce.steps"] == "100 -> 10 (requested)"


def test_standard_ensemble_on_a_linear_classifier_matches_the_closed_form():
    """Every correctly classified point with a closed-form minimal perturbation ≤ ε − 1e-3 is broken, none
    beyond ε is; the report accounts for every point."""
    model = Linear(20, 10, seed=0)
    x, y = correctly_classified(model, 40, 20)
    y[:3] = (y[:3] + 1) % 10
    eps = 0.05
    adv, report = autoattack(model, x, y, eps=eps, seed=1, batch_size=16, **QUICK)
    adv = adv.numpy()
    d = model.min_distance(x, y)
    broken = model.predict(adv) != y
    assert np.all(broken[d <= eps - 1e-3]) and not np.any(broken[3:][d[3:] > eps])
    assert 5 <= np.sum(d[3:] > eps) and 10 <= np.sum(d[3:] <= eps - 1e-3)
    assert np.all(linf(adv, x) <= eps + 1e-6) and adv.min() >= 0.0 and adv.max() <= 1.0
    assert report["broken_by"][:3] == ["clean"] * 3 and report["clean_accuracy"] == pytest.approx(37 / 40)
    assert report["robust_accuracy"] == pytest.approx(np.mean(~broken))
    after = list(report["robust_accuracy_after"].values())
    assert list(report["robust_accuracy_after"]) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert after == sorted(after, reverse=True) and after[-1] == report["robust_accuracy"]
    for i, by in enumerate(report["broken_by"]):
        assert (by is None) == (not broken[i])
        if by is None or by == "clean":
            np.testing.assert_array_equal(adv[i], x[i])
    counts = {a: report["broken_by"].count(a) for a in report["attacks"]}
    assert counts["apgd-ce"] > 0 and report["robust_accuracy_after"]["apgd-ce"] == pytest.approx(
        (37 - counts["apgd-ce"]) / 40)
    assert report["deviations"]["square.queries"] == "5000 -> 40 (requested)" and report["seed"] == [1, 0]
    assert set(report["seconds"]) == set(report["cpu_seconds"]) == {"apgd-ce", "apgd-t", "fab-t", "square", "total"}
    assert report["max_perturbation"] <= eps + 1e-6 and report["num_points"] == 40 and report["warnings"] == []
    again, _ = autoattack(model, x, y, eps=eps, seed=1, batch_size=16, **QUICK)
    np.testing.assert_array_equal(again, adv)


class Quantized(Linear):
    def __call__(self, x):
        return super().__call__(tf.round(tf.convert_to_tensor(x, tf.float32) * 4.0) / 4.0)


def test_masked_gradients_fall_to_square_and_are_flagged():
    model = Quantized(20, 10, seed=0)
    x, y = correctly_classified(model, 32, 20)
    with pytest.warns(UserWarning, match="gradient masking"):
        adv, report = autoattack(model, x, y, eps=0.3, seed=0, steps=8, queries=100)
    # Random starts alone break some points (9 of them in APGD-T); Square, using no gradients, breaks the rest.
    assert report["robust_accuracy_after"]["fab-t"] >= report["robust_accuracy"] + 0.15
    assert report["robust_accuracy"] <= 0.1 and any("Square" in w for w in report["warnings"])


def test_rand_version_averages_over_draws_and_standard_warns_on_a_randomized_model(monkeypatch):
    linear = Linear(20, 10, seed=2)
    gen = tf.random.Generator.from_seed(0)

    def noisy(x):
        return linear(x) + gen.normal([tf.shape(x)[0], 10], stddev=0.05)

    x, y = correctly_classified(linear, 16, 20, seed=2)
    with pytest.warns(UserWarning, match="randomized"):
        autoattack(noisy, x, y, eps=0.02, attacks=["apgd-ce"], steps=2, seed=0)
    module = importlib.import_module("tfgm.attacks.autoattack")
    sent, apgd = [], module.apgd
    monkeypatch.setattr(module, "apgd", lambda *args, **kwargs: sent.append(kwargs) or apgd(*args, **kwargs))
    _, report = autoattack(noisy, x, y, eps=0.05, version="rand", steps=5, seed=0)
    assert report["hyperparameters"]["apgd-dlr"]["eot_samples"] == 20 and report["warnings"] == []
    assert sent and all(kwargs["eot_samples"] == 20 for kwargs in sent)  # what APGD received, not only the plan
    assert report["robust_accuracy"] < report["clean_accuracy"]


def test_bad_input_raises_one_clear_error_before_any_work():
    model = Linear(6, 3)
    x = np.full((4, 6), 0.5, np.float32)
    y = np.zeros(4, np.int32)
    with pytest.raises(ValueError, match="apgd-t needs at least 4 classes.*attacks="):
        autoattack(model, x, y, eps=0.1)
    with pytest.raises(ValueError, match="one int label per input"):
        autoattack(model, x, y[:3], eps=0.1, attacks=["apgd-ce"])
    with pytest.raises(ValueError, match="one float"):
        autoattack(model, x, y, eps=[0.1, 0.2], attacks=["apgd-ce"])
    with pytest.raises(ValueError, match="version"):
        autoattack(model, x, y, eps=0.1, version="fast")
    with pytest.raises(ValueError, match="non-empty list"):
        autoattack(model, x, y, eps=0.1, attacks=["pgd"])
    with pytest.raises(ValueError, match=r"must lie in clip"):
        autoattack(model, x * 255.0, y, eps=0.1, attacks=["apgd-ce"])
    with pytest.raises(ValueError, match="add a channel axis"):
        autoattack(model, x.reshape(4, 2, 3), y, eps=0.1, attacks=["apgd-ce", "square"])
