"""recipes.robustness_eval on a tiny dense classifier of built-in digits, saved as .keras, as a Keras-exported
SavedModel, as a SavedModel returning probabilities, and inside a run directory; its JSON and its errors."""

import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from recipes import robustness_eval
from tfgm.data import load

POINTS = ["--points", "20", "--batch-size", "10"]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """{"keras": .keras path, "savedmodel": Keras-exported folder, "probabilities": a SavedModel returning softmax
    probabilities, "npz": 28×28×1 test digits with labels} of one trained 784-10 classifier."""
    root = tmp_path_factory.mktemp("models")
    batch = next(iter(load("builtin_digits", "train", num_examples=600).batch(600)))
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(batch["image"].numpy(), batch["label"].numpy(), epochs=5, batch_size=60, verbose=0)
    paths = {"keras": str(root / "clf.keras"), "savedmodel": str(root / "clf_savedmodel"),
             "probabilities": str(root / "probs"), "npz": str(root / "digits.npz")}
    model.save(paths["keras"])
    model.export(paths["savedmodel"], verbose=False)
    module = tf.Module()
    module.model = model
    module.classify = tf.function(lambda images: {"probabilities": tf.nn.softmax(model(images)),
                                                  "features": tf.reshape(images, [-1, 784])},
                                  input_signature=[tf.TensorSpec([None, 28, 28, 1], tf.float32, name="images")])
    tf.saved_model.save(module, paths["probabilities"], signatures={"classify": module.classify})
    test = next(iter(load("builtin_digits", "test", num_examples=40).batch(40)))
    np.savez(paths["npz"], x=test["image"].numpy(), y=test["label"].numpy())
    return paths


def _run(target, *flags):
    return robustness_eval.main([target, *flags])


def test_keras_file_gives_a_robustbench_style_json(saved, tmp_path, capsys):
    out = tmp_path / "k.json"
    assert _run(saved["keras"], "--data", "builtin_digits", "--eps", "0.1", *POINTS, "--out", str(out)) == 0
    printed = capsys.readouterr().out
    for i, attack in enumerate(("apgd-ce", "apgd-t", "fab-t", "square")):
        assert f"[{i + 1}/4] {attack}" in printed
    r = json.load(open(out))
    assert {"clean_acc", "autoattack_acc", "robust_acc_after", "eps", "norm", "n_ex", "version", "model", "data",
            "seed", "tfgm_version", "seconds", "hyperparameters", "broken_by"} <= set(r)
    assert (r["norm"], r["threat_model"], r["eps"], r["n_ex"], r["version"], r["seed"]) == (
        "Linf", "Linf", 0.1, 20, "standard", 0)
    assert r["model"]["format"] == "keras" and r["model"]["output_kind"] == "logits"
    assert r["data"]["name"] == "builtin_digits" and r["data"]["first_points"] == 20
    assert list(r["robust_acc_after"]) == r["attacks"] == ["apgd-ce", "apgd-t", "fab-t", "square"]
    assert r["clean_acc"] >= 50.0 and r["autoattack_acc"] == r["robust_acc_after"]["square"] <= r["clean_acc"]
    assert sum(r["broken_by"].values()) == 20 - round(r["autoattack_acc"] * 20 / 100)
    assert r["max_perturbation"] <= 0.1 + 1e-6
    assert r["hyperparameters"]["square"]["queries"] == 5000 and r["tfgm_version"]
    assert set(r["seconds"]) >= {"load", "clean", "apgd-ce", "square", "total"}


def test_savedmodel_matches_the_keras_file_and_writes_beside_the_target(saved, tmp_path):
    assert _run(saved["keras"], "--data", "builtin_digits", "--eps", "0.3", *POINTS, "--out",
                str(tmp_path / "k.json")) == 0
    assert _run(saved["savedmodel"], "--data", "builtin_digits", "--eps", "0.3", *POINTS) == 0
    from_keras = json.load(open(tmp_path / "k.json"))
    r = json.load(open(saved["savedmodel"] + ".robustness_eval.json"))
    assert r["model"]["format"] == "SavedModel" and r["model"]["signature"] == "serving_default"
    assert r["model"]["output_kind"] == "logits" and r["model"]["input_shape"] == [28, 28, 1]
    assert r["clean_acc"] == from_keras["clean_acc"] and r["autoattack_acc"] <= r["clean_acc"]


def test_probabilities_are_attacked_through_their_log_on_npz_data(saved, tmp_path):
    out = tmp_path / "p.json"
    assert _run(saved["probabilities"], "--data", "npz", "--data-path", saved["npz"], "--eps", "0.3",
                "--version", "rand", *POINTS, "--out", str(out)) == 0
    r = json.load(open(out))
    assert (r["model"]["signature"], r["model"]["output"], r["model"]["output_kind"]) == (
        "classify", "probabilities", "probabilities")
    assert r["attacks"] == ["apgd-ce", "apgd-dlr"] and r["hyperparameters"]["apgd-ce"]["eot_samples"] == 20
    assert r["data"]["path"] == saved["npz"] and r["clean_acc"] >= 50.0 and r["autoattack_acc"] < r["clean_acc"]


def test_run_directory_gives_model_data_and_eps(saved, tmp_path, capsys):
    run = tmp_path / "fortified_mnist" / "r"
    os.makedirs(run / "models")
    shutil.copy(saved["keras"], run / "models" / "fortified.keras")
    json.dump({"data": "builtin_digits", "data_path": "", "data_dir": "", "eps": 0.0}, open(run / "config.json", "w"))
    json.dump({"train_attack": {"name": "fgsm", "eps": 0.3}}, open(run / "metrics.json", "w"))
    assert _run(str(run), *POINTS) == 0
    r = json.load(open(run / "robustness_eval_fortified.json"))
    assert (r["model"]["kind"], r["model"]["run_model"], r["dataset"], r["eps"]) == (
        "run_dir", "fortified", "builtin_digits", 0.3)
    capsys.readouterr()
    assert "its models: fortified (choose with --model)" in _error(capsys, str(run), "--model", "other")


def _error(capsys, *argv):
    status = robustness_eval.main(list(argv))
    err = capsys.readouterr().err
    assert status == 2 and "Traceback" not in err
    return err


def test_bad_targets_and_flags_stop_with_one_message(saved, tmp_path, capsys):
    assert "does not exist" in _error(capsys, str(tmp_path / "none.keras"), "--data", "builtin_digits",
                                      "--eps", "0.3")
    assert "--eps is required" in _error(capsys, saved["keras"], "--data", "builtin_digits")
    assert "--data is required" in _error(capsys, saved["keras"], "--eps", "0.3")
    assert "--eps must be in [0, 1]" in _error(capsys, saved["keras"], "--data", "builtin_digits", "--eps", "8")
    assert "wrong input shape" in _error(capsys, saved["keras"], "--data", "builtin_objects", "--eps", "0.03")
    assert "no class labels" in _error(capsys, saved["keras"], "--data", "builtin_faces", "--eps", "0.03")
    assert "neither saved_model.pb" in _error(capsys, str(tmp_path), "--data", "builtin_digits", "--eps", "0.3")
    with pytest.raises(SystemExit) as stop:
        robustness_eval.main([saved["keras"], "--version", "fast"])
    assert stop.value.code == 2
    assert not list(tmp_path.glob("*.json"))


def test_savedmodel_without_an_image_signature_is_rejected_before_any_attack(tmp_path, capsys):
    module = tf.Module()
    module.w = tf.Variable(tf.zeros([784, 10]))
    module.f = tf.function(lambda x: {"logits": tf.matmul(x, module.w)},
                           input_signature=[tf.TensorSpec([None, 784], tf.float32, name="x")])
    tf.saved_model.save(module, str(tmp_path / "flat"), signatures={"serving_default": module.f})
    err = _error(capsys, str(tmp_path / "flat"), "--data", "builtin_digits", "--eps", "0.3")
    assert "has no image classifier signature" in err and "serving_default(x (None, 784))" in err
    assert not os.path.exists(str(tmp_path / "flat") + ".robustness_eval.json")
