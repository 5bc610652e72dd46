"""gibbsnet_celeba_attributes --quick end to end on the built-in faces, shrunk through its flags."""

import json
import os
import zipfile

import numpy as np
import pytest

from recipes import gibbsnet_celeba_attributes as recipe
from recipes._gibbsnet_joint import attribute_panel

TINY = ["--quick", "--train-examples", "64", "--eval-examples", "32", "--epochs", "1", "--batch-size", "16",
        "--long-chain-steps", "4", "--score-samples", "16", "--probe-epochs", "1", "--chain-steps", "2",
        "--width", "0.0625", "--attribute-samples", "2", "--no-export"]


def test_quick_run_trains_joint_ali_and_gibbsnet_and_writes_the_table_and_figures(tmp_path):
    assert recipe.main(TINY + ["--out", str(tmp_path), "--name", "t"]) == 0
    run = os.path.join(tmp_path, "gibbsnet_celeba_attributes", "t")
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    for name in ("ali", "gibbsnet"):
        row = metrics["table"]["this_run"][name]
        assert {key for key, _ in recipe.ROWS} == set(row)
        assert 1.0 <= row["attribute_inception_score_samples"] <= 2.0
        assert all(0.0 <= row[k] <= 1.0 for k in ("attribute_prediction_accuracy", "conditional_generation_agreement",
                                                   "sample_coherence", "latent_probe_accuracy"))
        assert metrics[name]["scores"]["samples"]["count"] == 16
        for image in ("joint_samples_with_attributes.png", "generated_from_test_attributes.png",
                      "joint_samples_epoch001.png", "inpainting_epoch001.png", "long_chain_4_steps.png",
                      "inpainting_left_half_given_4_steps.png", "joint_samples_attributes.txt"):
            assert os.path.isfile(os.path.join(run, "images", f"{name}_{image}")), image
    assert metrics["train_steps"] == {"ali": 1, "gibbsnet": 3}
    assert metrics["gibbsnet_chain_encoder_gradient"] is True
    assert "left half given" in metrics["protocol"]["inpainting"] and "Table 3.1's protocol" in \
        metrics["protocol"]["inpainting"]
    assert os.path.isfile(os.path.join(run, "models", "gibbsnet.keras"))
    # the authors' encoder options by default, for both models, in the saved configs
    assert metrics["encoder_options"]["bounded_sigma"] is True and metrics["encoder_options"]["standardize_z"] is True
    for name in ("ali", "gibbsnet"):
        with zipfile.ZipFile(os.path.join(run, "models", f"{name}.keras")) as saved:
            config = json.loads(saved.read("config.json"))["config"]
        assert config["bounded_sigma"] is True and config["standardize_z"] is True


def test_data_without_attributes_fails_fast_with_exit_code_2(tmp_path, capsys):
    assert recipe.main(TINY + ["--data", "builtin_digits", "--out", str(tmp_path)]) == 2
    assert "attributes" in capsys.readouterr().err


def test_attribute_panel_draws_one_cell_per_attribute():
    probs = np.zeros((2, 40), "float32")
    probs[0, 0] = 1.0
    tiles = attribute_panel(probs, 64)
    assert tiles.shape == (2, 64, 64, 3)
    assert tiles[0, 2, 2, 0] == 1.0 and tiles[1, 2, 2, 0] == 0.0 and tiles[0, 2, 20, 0] == 0.0


def test_help_lists_the_joint_flags(capsys):
    with pytest.raises(SystemExit):
        recipe.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--attribute-samples", "--celeba-dir", "--train-steps", "--chain-steps", "--quick", "--strategy",
                 "--no-bounded-sigma", "--no-standardize-z", "--no-chain-encoder-gradient"):
        assert flag in text


def test_loads_the_authors_celeba_files_as_the_built_in_faces_are_loaded(tmp_path):
    """--celeba-dir: the recipe's data step on the real-data path (zip of JPEGs, attribute and partition files,
    six images) yields the tensors the quick run trains on from the built-in faces."""
    from recipes._cli import parse_config
    from tests.data._files import write_celeba

    values, _ = write_celeba(tmp_path / "celeba", "zip")
    partition = {"000001.jpg": 0, "000002.jpg": 0, "000003.jpg": 2, "000004.jpg": 0, "000005.jpg": 2, "000006.jpg": 1}
    (tmp_path / "celeba" / "list_eval_partition.txt").write_text("".join(f"{f} {p}\n" for f, p in partition.items()))
    args = TINY + ["--celeba-dir", str(tmp_path / "celeba"), "--batch-size", "2"]
    data = recipe.JointGibbs().load(parse_config(recipe.Config, "", args))
    assert data.name == "celeba_local" and len(data.attributes) == 40
    builtin = recipe.JointGibbs().load(parse_config(recipe.Config, "", TINY))
    for split in ("train", "test"):
        for key, spec in getattr(builtin, split).element_spec.items():
            real = getattr(data, split).element_spec[key]
            assert real.dtype == spec.dtype and real.shape[1:] == spec.shape[1:]
    train, test = list(data.train), list(data.test)
    assert [len(b["image"]) for b in train] == [2] and [len(b["image"]) for b in test] == [2]  # 3 train images
    np.testing.assert_array_equal(test[0]["attributes"], [values["000003.jpg"] > 0, values["000005.jpg"] > 0])
    trained = {tuple(values[f] > 0) for f, p in partition.items() if p == 0}
    assert all(tuple(row) in trained for row in np.asarray(train[0]["attributes"]) > 0.5)
    assert 0.0 <= float(np.min(test[0]["image"])) and float(np.max(test[0]["image"])) <= 1.0
