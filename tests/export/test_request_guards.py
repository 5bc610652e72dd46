"""Requests the exported graph refuses (over a limit, negative, NaN/inf) or answers empty (n = 0, batch 0)."""

import os

import numpy as np
import pytest
import tensorflow as tf

from export.limits import DEFAULT_LIMITS, RequestLimits
from export.run import export_model
from tests.export.conftest import tiny_vae
from tests.models._tiny import IMAGE_SHAPE, LATENT

SEED = tf.constant(7, tf.int64)


@pytest.fixture(scope="module")
def vae(exported):
    return tf.saved_model.load(os.path.join(exported[0], "export", "savedmodel", "vae", "1")).signatures


def _refused(signature, match, **inputs):
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        signature(**inputs)
    assert all(part in info.value.message for part in match), info.value.message


def test_limits_are_recorded_per_signature(exported):
    limits = exported[1]["models"]["vae"]["savedmodel"]["limits"]
    assert limits == {"decode": {"max_batch": 1024}, "serving_default": {"max_batch": 1024},
                      "sample": {"max_n": 1024}, "reconstruct": {"max_batch": 1024}, "encode": {"max_batch": 1024}}
    assert exported[1]["settings"]["limit_overrides"] == {} and exported[1]["settings"]["allow_nonfinite"] is False


def test_request_over_a_limit_or_negative_is_refused_naming_signature_input_and_limit(vae):
    _refused(vae["decode"], ["signature decode, input z: batch size must be at most max_batch = 1024",
                             "--max-batch", "1025"], z=tf.zeros((1025, LATENT)))
    _refused(vae["sample"], ["signature sample, input n: must be in [0, 1024]", "max_n", "--max-n", "1025"],
             n=tf.constant(1025), seed=SEED)
    _refused(vae["sample"], ["signature sample, input n: must be in [0, 1024]", "-1"], n=tf.constant(-1), seed=SEED)


def test_nan_and_inf_inputs_are_refused_naming_the_input(vae):
    z = np.zeros((2, LATENT), "float32")
    z[1, 3] = np.nan
    _refused(vae["decode"], ["signature decode, input z: NaN or inf values are refused", "--allow-nonfinite"],
             z=tf.constant(z))
    images = np.full((1,) + IMAGE_SHAPE, 0.5, "float32")
    images[0, 0, 0, 0] = -np.inf
    _refused(vae["encode"], ["signature encode, input images: NaN or inf"], images=tf.constant(images))


def test_images_outside_the_declared_range_are_refused(exported, vae):
    assert exported[1]["models"]["vae"]["savedmodel"]["value_ranges"]["encode"] == {"images": [0.0, 1.0]}
    assert exported[1]["models"]["vae"]["savedmodel"]["value_ranges"]["decode"] == {}
    pixels = np.full((2,) + IMAGE_SHAPE, 255.0, "float32")
    _refused(vae["reconstruct"], ["signature reconstruct, input images: values must be in [0, 1]", "divide by 255",
                                  "255"], images=tf.constant(pixels))
    assert vae["reconstruct"](images=tf.constant(pixels / 255))["images"].shape == (2,) + IMAGE_SHAPE


def test_zero_n_and_empty_batch_return_empty_outputs(vae):
    out = vae["sample"](n=tf.constant(0), seed=SEED)
    assert out["images"].shape == (0,) + IMAGE_SHAPE and out["z"].shape == (0, LATENT)
    assert vae["decode"](z=tf.zeros((0, LATENT)))["images"].shape == (0,) + IMAGE_SHAPE
    assert vae["encode"](images=tf.zeros((0,) + IMAGE_SHAPE))["z_mean"].shape == (0, LATENT)
    one = vae["sample"](n=tf.constant(1), seed=SEED)
    assert one["images"].shape == (1,) + IMAGE_SHAPE  # n = 1 is not cut


def test_limits_and_nonfinite_pass_through_set_at_export(tmp_path):
    entry = export_model(tiny_vae(), "vae", str(tmp_path), onnx=False, batch_sizes=(2,),
                         limits={"max_batch": 3, "max_n": None}, allow_nonfinite=True)
    assert entry["passed"], entry.get("traceback")
    assert entry["savedmodel"]["limits"]["decode"] == {"max_batch": 3}
    assert entry["savedmodel"]["limits"]["sample"] == {"max_n": DEFAULT_LIMITS.max_n}
    served = tf.saved_model.load(os.path.join(tmp_path, "savedmodel", "vae", "1")).signatures
    assert served["decode"](z=tf.zeros((3, LATENT)))["images"].shape[0] == 3
    _refused(served["decode"], ["input z: batch size must be at most max_batch = 3", "4"], z=tf.zeros((4, LATENT)))
    z = np.zeros((1, LATENT), "float32")
    z[0, 0] = np.nan
    assert np.isnan(served["decode"](z=tf.constant(z))["images"].numpy()).all()


def test_model_declared_limits_apply_to_their_endpoint(tmp_path):
    model = tiny_vae()
    model.serving_limits = {"decode": {"max_batch": 2}}
    entry = export_model(model, "vae", str(tmp_path), onnx=False, batch_sizes=(2,))
    assert entry["passed"], entry.get("traceback")
    limits = entry["savedmodel"]["limits"]
    assert limits["decode"] == limits["serving_default"] == {"max_batch": 2}
    assert limits["encode"] == {"max_batch": DEFAULT_LIMITS.max_batch}
    model.serving_limits = {"decoder": {"max_batch": 2}}
    assert "serving_limits names no endpoint: decoder" in export_model(model, "bad", str(tmp_path), onnx=False,
                                                                       batch_sizes=(1,))["error"]


def test_bad_limit_values_are_refused_with_the_flag():
    with pytest.raises(ValueError, match="max_steps must be a positive integer.*--max-steps"):
        RequestLimits(max_steps=0)
    with pytest.raises(ValueError, match="unknown request limit max_size"):
        DEFAULT_LIMITS.updated({"max_size": 3})
