import functools

import numpy as np
import pytest
import tensorflow as tf

from tfgm.attacks.fgsm import fgsm
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
