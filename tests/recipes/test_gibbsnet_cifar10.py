"""gibbsnet_cifar10 --quick end to end on built-in data, shrunk through its flags."""

import json
import os

import pytest

from recipes import gibbsnet_cifar10

TINY = ["--quick", "--train-examples", "128", "--eval-examples", "64", "--epochs", "1", "--long-chain-steps", "10",
        "--score-samples", "32", "--probe-epochs", "1", "--chain-steps", "3", "--width", "0.0625", "--no-export"]


def test_quick_run_trains_both_models_and_writes_table_3_1(tmp_path):
    assert gibbsnet_cifar10.main(TINY + ["--out", str(tmp_path), "--name", "t"]) == 0
    run = os.path.join(tmp_path, "gibbsnet_cifar10", "t")
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    for name in ("ali", "gibbsnet"):
        row = metrics["table_3_1"]["this_run"][name]
        assert set(row) == {"inception_score_samples", "inception_score_inpainting", "fid_samples", "fid_inpainting",
                            "latent_probe_accuracy"}
        assert metrics[name]["scores"]["samples"]["count"] == 32
        assert os.path.isfile(os.path.join(run, "images", f"{name}_long_chain_10_steps.png"))
    assert metrics["table_3_1"]["thesis"]["gibbsnet"]["inception_score_inpainting"] == 6.15


def test_help_lists_the_recipe_flags(capsys):
    with pytest.raises(SystemExit):
        gibbsnet_cifar10.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--train-steps", "--loss", "--bounded-sigma", "--standardize-z", "--noise-dim", "--long-chain-steps",
                 "--quick", "--resume", "--seed"):
        assert flag in text
