"""A fortified classifier exported by `export_run`: the served off_manifold flag is predict_with_score's decision."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.export.conftest import make_run_dir
from tfgm.models import fortify

rng = np.random.default_rng(0)
# Inputs in the calibration range and far outside it, so both decisions occur.
X = np.concatenate([rng.random((40, 20)), rng.normal(0.5, 1.5, (40, 20))]).astype("float32")


def _fortified(score="cosine"):
    keras.utils.set_random_seed(0)
    x_in = keras.Input((20,), name="x")
    h = keras.layers.Dense(12, activation="leaky_relu", name="h1")(x_in)
    h = keras.layers.Dense(12, activation="leaky_relu", name="h2")(h)
    net = keras.Model(x_in, keras.layers.Dense(3, name="logits")(h), name="toy")
    return fortify(net, ["h1", "h2"], hidden_units=6, noise_stddev=0.3, seed=0, score=score)


@pytest.fixture(scope="module", params=["cosine", "cosine_confidence"])
def exported(tmp_path_factory, request):
    from export import export_run

    model = _fortified(request.param)
    calibration = rng.random((64, 20)).astype("float32")
    model.calibrate_threshold(tf.data.Dataset.from_tensor_slices(calibration).batch(32), false_alarm_rate=0.5)
    run_dir = make_run_dir(tmp_path_factory.mktemp("fortified"), {"fortified": model})
    return run_dir, export_run(run_dir, batch_sizes=(1, 7), atol=1e-4)


def test_served_off_manifold_flag_and_score_equal_predict_with_score(exported):
    import onnxruntime

    run_dir, report = exported
    assert report["passed"], report["models"]["fortified"]
    keras_model = keras.saving.load_model(os.path.join(run_dir, "models", "fortified.keras"))
    assert keras_model.score in ("cosine", "cosine_confidence") and keras_model.threshold is not None
    _, scores = keras_model.predict_with_score(X, batch_size=32)
    decision = scores > keras_model.threshold
    assert 0 < decision.sum() < len(X)
    served = tf.saved_model.load(os.path.join(run_dir, "export", "savedmodel", "fortified", "1"))
    out = served.signatures["serving_default"](images=tf.constant(X))
    np.testing.assert_array_equal(out["off_manifold"].numpy(), decision)
    np.testing.assert_allclose(out["off_manifold_score"].numpy(), scores, rtol=1e-5, atol=1e-6)
    session = onnxruntime.InferenceSession(os.path.join(run_dir, "export", "onnx", "fortified_classify.onnx"),
                                           providers=["CPUExecutionProvider"])
    names = [o.name.removesuffix(":0") for o in session.get_outputs()]
    onnx_out = dict(zip(names, session.run(None, {session.get_inputs()[0].name: X})))
    np.testing.assert_array_equal(onnx_out["off_manifold"], decision)
