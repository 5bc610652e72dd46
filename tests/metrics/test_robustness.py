import functools

import numpy as np
import pytest
import tensorflow as tf

from tests.attacks._linear_models import Linear
from tfgm.attacks.autoattack import autoattack
from tfgm.attacks.fgsm import fgsm
from tfgm.metrics import robustness
from tfgm.metrics.robustness import gradient_masking_report, robust_accuracy

rng = np.random.default_rng(0)
X = rng.random((64, 8)).astype("float32")
Y = (X.sum(axis=1) > 4.0).astype("int32")


def linear(x):
    """Logits ±4·(Σx − 4): class 1 iff the pixels sum above 4, i.e. always right on (X, Y)."""
    s = 4.0 * (tf.reduce_sum(x, axis=1, keepdims=True) - 4.0)
    return tf.concat([-s, s], axis=1)


def masked(x):
    """Same decisions, but no gradient reaches the input (a caricature of gradient masking)."""
    return linear(tf.stop_gradient(x))


def _dataset(batch=16):
    return tf.data.Dataset.from_tensor_slices({"image": X, "label": Y}).batch(batch)


def test_robust_accuracy_counts_clean_and_attacked_hits():
    def shift_up(model, x, y):
        return tf.clip_by_value(x + 0.5, 0.0, 1.0)

    result = robust_accuracy(linear, _dataset(), {"up": shift_up, "fgsm": functools.partial(fgsm, eps=0.05)})
    assert result["num_examples"] == 64
    assert result["clean"] == 1.0
    assert result["up"] == pytest.approx(np.mean(Y == 1))
    assert result["fgsm"] < result["clean"]
    pairs = tf.data.Dataset.from_tensor_slices((X, Y)).batch(10)
    assert robust_accuracy(linear, pairs, {})["clean"] == result["clean"]


def test_gradient_masking_report_passes_an_honest_model():
    report = gradient_masking_report(linear, _dataset(), eps=0.1, eps_grid=(0.05, 1.0), steps=10,
                                     blackbox_accuracy=0.9)
    assert report["passed"] is True
    assert report["pgd_accuracy"]["1"] == 0.0
    assert report["checks"]["pgd_vs_fgsm"]["pgd_accuracy"] <= report["fgsm_accuracy"] + 0.01
    assert len(report["lines"]) == 3 and all(line.startswith("PASS") for line in report["lines"])


def test_gradient_masking_report_flags_masked_gradients_and_a_strong_blackbox():
    report = gradient_masking_report(masked, _dataset(), eps=0.1, eps_grid=(1.0,), steps=5, blackbox_accuracy=0.2)
    checks = report["checks"]
    assert report["passed"] is False
    assert checks["unbounded_pgd"]["passed"] is False and checks["unbounded_pgd"]["accuracy"] > 0.3
    assert checks["whitebox_vs_blackbox"]["passed"] is False
    skipped = gradient_masking_report(linear, _dataset(), eps=0.1, eps_grid=(1.0,), steps=5)
    assert skipped["checks"]["whitebox_vs_blackbox"]["passed"] is None and skipped["lines"][2].startswith("SKIP")


def test_gradient_masking_report_compares_pgd_with_square_when_asked():
    """Square needs no gradients: on the masked model it beats PGD and the check fails; on the honest one PGD is
    at least as strong. Without square_queries the report keeps its three checks."""
    flagged = gradient_masking_report(masked, _dataset(), eps=0.1, eps_grid=(1.0,), steps=5, square_queries=200)
    check = flagged["checks"]["whitebox_vs_square"]
    assert check["passed"] is False and check["square_accuracy"] + 0.2 < check["whitebox_accuracy"]
    assert flagged["lines"][3].startswith("FAIL") and "Square" in flagged["lines"][3]
    honest = gradient_masking_report(linear, _dataset(), eps=0.1, eps_grid=(1.0,), steps=10, square_queries=200,
                                     blackbox_accuracy=0.9)
    assert honest["checks"]["whitebox_vs_square"]["passed"] is True and honest["passed"] is True
    assert honest["square_accuracy"] == honest["checks"]["whitebox_vs_square"]["square_accuracy"]
    assert "whitebox_vs_square" not in gradient_masking_report(linear, _dataset(), eps=0.1, eps_grid=(1.0,),
                                                               steps=2)["checks"]


def test_robust_accuracy_accepts_autoattack_entries(monkeypatch):
    seeds = []

    def spy(*args, **kwargs):
        seeds.append(kwargs["seed"])
        return autoattack(*args, **kwargs)

    monkeypatch.setattr(robustness, "autoattack", spy)
    model = Linear(8, 10, seed=0)
    x = np.random.default_rng(1).random((24, 8)).astype("float32")
    y = model.predict(x).astype("int32")
    data = tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).batch(12)
    quick = {"name": "autoattack", "steps": 6, "queries": 30}
    result = robust_accuracy(model, data, [quick, "apgd-ce", {"name": "square", "queries": 30, "eps": 0.5}],
                             eps=0.05, seed=3)
    expected = 0
    for b in range(2):
        _, report = autoattack(model, x[12 * b:12 * (b + 1)], y[12 * b:12 * (b + 1)], eps=0.05, steps=6,
                               queries=30, seed=[3, b])
        expected += 12 * report["robust_accuracy"]
    assert result["autoattack"] == pytest.approx(expected / 24) and result["clean"] == 1.0
    assert seeds == [[3, 0], [3, 0], [3, 0], [3, 1], [3, 1], [3, 1]]  # each batch its own seed, shared by its entries
    assert result["autoattack"] <= result["apgd-ce"] < 1.0 and result["square"] == 0.0
    summary = result["autoattack_reports"]["autoattack"]
    assert summary["num_points"] == 24 and summary["robust_accuracy"] == result["autoattack"]
    assert list(summary["robust_accuracy_after"]) == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert summary["deviations"]["apgd-ce.steps"] == "100 -> 6 (requested)" and summary["seed"] == 3
    assert result["autoattack_reports"]["apgd-ce"]["attacks"] == ["apgd-ce"]


def test_robust_accuracy_rejects_unusable_attack_entries():
    with pytest.raises(ValueError, match="needs an L-inf radius"):
        robust_accuracy(linear, _dataset(), ["autoattack"])
    with pytest.raises(ValueError, match="must be a callable"):
        robust_accuracy(linear, _dataset(), {"x": "deepfool"}, eps=0.1)
    with pytest.raises(ValueError, match="unknown"):
        robust_accuracy(linear, _dataset(), [{"name": "square", "querys": 5}], eps=0.1)
    with pytest.raises(ValueError, match="distinct names"):
        robust_accuracy(linear, _dataset(), ["square", "square"], eps=0.1)
