import os

import numpy as np
import pytest
import tensorflow as tf

from export.savedmodel import write_savedmodel
from tests.export.conftest import ENDPOINTS
from tests.models._tiny import IMAGE_SHAPE, LATENT, plain_decoder, plain_encoder
from tfgm.models import VAE

INPUT_NAMES = {"decode": {"z"}, "serving_default": {"z"}, "sample": {"n", "seed"},
               "reconstruct": {"images"}, "encode": {"images"}}


def _load(run_dir, model):
    return tf.saved_model.load(os.path.join(run_dir, "export", "savedmodel", model, "1"))


@pytest.mark.parametrize("model", ["vae", "discreg_vae"])
def test_signatures_names_and_layout(exported, model):
    run_dir, _ = exported
    assert os.listdir(os.path.join(run_dir, "export", "savedmodel", model)) == ["1"]
    loaded = _load(run_dir, model)
    assert set(loaded.signatures) == ENDPOINTS
    for name, fn in loaded.signatures.items():
        assert set(fn.structured_input_signature[1]) == INPUT_NAMES[name]
        assert all(spec.dtype == tf.float32 for spec in fn.structured_outputs.values())
    assert set(loaded.signatures["sample"].structured_outputs) == {"images", "z"}
    assert set(loaded.signatures["encode"].structured_outputs) == {"z_mean", "z_log_var"}


@pytest.mark.parametrize("model", ["vae", "discreg_vae"])
def test_reloaded_endpoints_match_keras(exported, loaded_models, model):
    keras_model = loaded_models[model]
    loaded = _load(exported[0], model)
    rng = np.random.default_rng(5)
    z = rng.normal(size=(5, LATENT)).astype("float32")
    x = rng.random((3,) + IMAGE_SHAPE).astype("float32")
    np.testing.assert_allclose(loaded.signatures["decode"](z=z)["images"], keras_model.decode(z), atol=1e-5)
    np.testing.assert_allclose(loaded.signatures["serving_default"](z=z)["images"], keras_model.decode(z), atol=1e-5)
    np.testing.assert_allclose(loaded.signatures["reconstruct"](images=x)["images"], keras_model.reconstruct(x),
                               atol=1e-5)
    np.testing.assert_allclose(loaded.signatures["encode"](images=x)["z_mean"], keras_model.encode(x)[0], atol=1e-5)


def test_sample_is_reproducible_from_its_seed(exported):
    sample = _load(exported[0], "discreg_vae").signatures["sample"]
    a, b, c = (sample(n=tf.constant(3), seed=tf.constant(s, tf.int64)) for s in (7, 7, 8))
    assert a["images"].shape == (3,) + IMAGE_SHAPE and a["z"].shape == (3, LATENT)
    np.testing.assert_array_equal(a["images"], b["images"])
    assert np.max(np.abs(a["images"].numpy() - c["images"].numpy())) > 1e-4
    assert np.max(np.abs(a["z"].numpy() - c["z"].numpy())) > 0.1


@pytest.mark.parametrize("endpoint,inputs,expected", [
    ("decode", {"z": np.zeros((2, LATENT + 1), "float32")}, "[?, 6]"),
    ("serving_default", {"z": np.zeros((2, LATENT, 1), "float32")}, "[?, 6]"),
    ("encode", {"images": np.zeros((2, 32, 32, 1), "float32")}, "[?, 32, 32, 3]"),
    ("sample", {"n": np.array([4], "int32"), "seed": np.array(7, "int64")}, "[]"),
])
def test_wrong_shape_names_endpoint_and_expected_shape(exported, endpoint, inputs, expected):
    signature = _load(exported[0], "vae").signatures[endpoint]
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        signature(**{k: tf.constant(v) for k, v in inputs.items()})
    name = next(iter(inputs)) if endpoint != "sample" else "n"
    message = info.value.message
    assert f"signature {endpoint}, input {name}: expected shape {expected}" in message
    assert str(list(inputs[name].shape)).replace(",", "") in message


def test_wrong_shape_fed_to_the_session_like_tf_serving(exported):
    """TF Serving feeds the signature's placeholders through a C++ session that validates no shapes."""
    path = os.path.join(exported[0], "export", "savedmodel", "vae", "1")
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.Session(graph=graph) as sess:
        meta = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        signature = meta.signature_def["decode"]
        z = graph.get_tensor_by_name(signature.inputs["z"].name)._as_tf_output()
        images = graph.get_tensor_by_name(signature.outputs["images"].name)._as_tf_output()
        ok = sess._call_tf_sessionrun(None, {z: np.zeros((2, LATENT), "float32")}, [images], [], None)
        assert ok[0].shape == (2,) + IMAGE_SHAPE
        expected = r"signature decode, input z: expected shape \[\?, 6\]"
        with pytest.raises(tf.errors.InvalidArgumentError, match=expected):
            sess._call_tf_sessionrun(None, {z: np.zeros((2, LATENT, 1), "float32")}, [images], [], None)


def test_wrong_dtype_is_refused(exported):
    decode = _load(exported[0], "vae").signatures["decode"]
    with pytest.raises(tf.errors.InvalidArgumentError, match="float"):
        decode(z=tf.zeros((2, LATENT), tf.int32))


def test_failed_write_leaves_no_version_keeps_the_previous_one_and_a_rewrite_replaces_it(tmp_path, monkeypatch):
    first, second = (VAE(plain_encoder(), plain_decoder()) for _ in range(2))  # small nets: four exports below
    z = tf.ones((1, LATENT))
    assert np.max(np.abs(first.decode(z) - second.decode(z))) > 1e-4
    base = str(tmp_path / "savedmodel" / "vae")
    result = write_savedmodel(first, base, version=1, batch_sizes=(2,))
    assert result["published"] and not result["replaced_existing_version"]

    def broken_write(archive, path):
        os.makedirs(os.path.join(path, "variables"))
        with open(os.path.join(path, "saved_model.pb"), "wb") as f:
            f.write(b"half")
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr("export.savedmodel._write_archive", broken_write)
        for version in (2, 1):
            with pytest.raises(OSError, match="disk full"):
                write_savedmodel(second, base, version=version, batch_sizes=(2,))
    assert os.listdir(base) == ["1"]
    served = tf.saved_model.load(os.path.join(base, "1")).signatures["decode"]
    np.testing.assert_allclose(served(z=z)["images"], first.decode(z), atol=1e-6)

    result = write_savedmodel(second, base, version=1, batch_sizes=(2,))
    assert result["replaced_existing_version"] and os.listdir(base) == ["1"]
    served = tf.saved_model.load(os.path.join(base, "1")).signatures["decode"]
    np.testing.assert_allclose(served(z=z)["images"], second.decode(z), atol=1e-6)


def test_saved_model_cli_lists_the_signatures(exported):
    """The command README gives: `saved_model_cli show --dir ... --all`."""
    import shutil
    import subprocess
    import sys

    cli = shutil.which("saved_model_cli") or os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    path = os.path.join(exported[0], "export", "savedmodel", "discreg_vae", "1")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    shown = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True, env=env,
                           timeout=180)
    assert shown.returncode == 0, shown.stderr
    for name in ENDPOINTS:
        assert f"signature_def['{name}']" in shown.stdout
    assert "inputs['seed']" in shown.stdout and "outputs['images']" in shown.stdout
