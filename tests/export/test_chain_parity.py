"""Parity of stochastic chains: one step compared value by value, longer chains by their statistics."""

import os

import numpy as np
import pytest
import tensorflow as tf

from export.parity import check_chain_statistics, check_parity
from export.run import export_model
from tests.models.test_gibbsnet import tiny_nets
from tfgm.models.gibbsnet import GibbsNet

CHAIN_SPECS = [tf.TensorSpec([], tf.int32, name="n"), tf.TensorSpec([], tf.int32, name="steps"),
               tf.TensorSpec([], tf.int64, name="seed")]


def _logistic_chain(last_bit=0.0, scale=1.0):
    """A chaotic chain x ← 4x(1 − x) on n × 16 values; ``last_bit`` perturbs the first step as a different
    CPU's rounding would; ``scale`` breaks the chain's output."""

    def run(arrays):
        n, steps, seed = (int(a) for a in arrays)
        x = np.random.default_rng(seed).uniform(0.05, 0.95, (n, 16)).astype(np.float32)
        for i in range(steps):
            x = np.float32(4) * x * (np.float32(1) - x)
            if i == 0:
                x = x + np.float32(last_bit)
        return {"images": x * np.float32(scale)}

    return run


def test_chain_amplifying_last_bits_passes_one_step_parity_and_its_statistics():
    reference, other_cpu = _logistic_chain(), _logistic_chain(last_bit=1e-7)
    long_run = [np.asarray(reference([64, 64, 64])["images"]), np.asarray(other_cpu([64, 64, 64])["images"])]
    assert np.max(np.abs(long_run[0] - long_run[1])) > 0.5  # the chain amplified the last bit
    rows = check_parity(reference, other_cpu, CHAIN_SPECS, (1, 7, 64), atol=1e-4)
    assert [(r["batch_size"], r["steps"], r["passed"]) for r in rows] == [(1, 1, True), (7, 1, True), (64, 1, True)]
    assert max(r["max_abs_error"] for r in rows) < 1e-6
    stats = check_chain_statistics(reference, _logistic_chain(last_bit=1e-7), CHAIN_SPECS, 64, steps=40)
    assert stats["passed"] and stats["steps"] == 40, stats


def test_a_wrong_step_or_a_broken_chain_still_fails():
    rows = check_parity(_logistic_chain(), _logistic_chain(last_bit=1e-3), CHAIN_SPECS, (7,), atol=1e-4)
    assert not rows[0]["passed"]
    broken = check_chain_statistics(_logistic_chain(), _logistic_chain(scale=0.7), CHAIN_SPECS, 64, steps=10)
    assert not broken["passed"] and broken["mean_error"] > 1
    nan = check_chain_statistics(_logistic_chain(), _logistic_chain(last_bit=np.nan), CHAIN_SPECS, 64, steps=10)
    assert not nan["passed"]


def test_deterministic_endpoints_are_still_compared_at_each_batch_size():
    specs = [tf.TensorSpec([None, 3], tf.float32, name="z")]
    rows = check_parity(lambda a: {"y": a[0]}, lambda a: {"y": a[0] + 2e-4 * (len(a[0]) == 7)}, specs, (1, 7),
                        atol=1e-4)
    assert [(r["batch_size"], r["passed"]) for r in rows] == [(1, True), (7, False)] and "steps" not in rows[0]


@pytest.fixture(scope="module")
def gibbsnet_export(tmp_path_factory):
    root = tmp_path_factory.mktemp("gibbsnet")
    model = GibbsNet(*tiny_nets(), train_steps=2, standardize_z=True)
    entry = export_model(model, "gibbsnet", str(root), onnx=False, batch_sizes=(1, 64), limits={"max_steps": 12})
    served = tf.saved_model.load(os.path.join(root, "savedmodel", "gibbsnet", "1")).signatures
    return entry, served


def test_gibbsnet_chains_export_with_one_step_parity_and_chain_statistics(gibbsnet_export):
    entry, _ = gibbsnet_export
    assert entry["passed"], entry.get("traceback") or entry
    saved = entry["savedmodel"]
    assert set(saved["chain_statistics"]) == {"sample", "inpaint", "serving_default"}
    assert all(c["batch_size"] == 64 and c["steps"] == 10 and c["passed"] for c in saved["chain_statistics"].values())
    assert all(r["steps"] == 1 for r in saved["parity"]["sample"] + saved["parity"]["inpaint"])
    assert all("steps" not in r for r in saved["parity"]["decode"])
    assert saved["limits"]["sample"] == {"max_n": 1024, "max_steps": 12}
    assert saved["limits"]["inpaint"] == {"max_batch": 1024, "max_steps": 12}


def test_gibbsnet_steps_out_of_range_are_refused_and_n_zero_is_empty(gibbsnet_export):
    _, served = gibbsnet_export
    seed = tf.constant(3, tf.int64)
    for steps in (0, 13, -5):
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            served["sample"](n=tf.constant(2), steps=tf.constant(steps), seed=seed)
        message = info.value.message
        assert "signature sample, input steps: must be in [1, 12]" in message and "--max-steps" in message
        assert str(steps) in message.split("Received")[-1]
    assert served["sample"](n=tf.constant(0), steps=tf.constant(2), seed=seed)["images"].shape == (0, 32, 32, 3)
    empty = tf.zeros((0, 32, 32, 3))
    assert served["inpaint"](images=empty, mask=empty, steps=tf.constant(2))["images"].shape == (0, 32, 32, 3)
