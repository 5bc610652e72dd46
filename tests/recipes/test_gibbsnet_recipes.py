"""gibbsnet_mnist / _svhn / _cifar10 --quick end to end on built-in data, shrunk through their flags."""

import json
import os

import pytest

from recipes import gibbsnet_cifar10, gibbsnet_mnist, gibbsnet_svhn

RECIPES = {"gibbsnet_mnist": gibbsnet_mnist, "gibbsnet_svhn": gibbsnet_svhn, "gibbsnet_cifar10": gibbsnet_cifar10}

TINY = ["--quick", "--train-examples", "128", "--eval-examples", "64", "--epochs", "1", "--long-chain-steps", "10",
        "--score-samples", "32", "--probe-epochs", "1", "--chain-steps", "3", "--width", "0.0625", "--no-export"]


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_quick_run_trains_both_models_and_writes_table_3_1(tmp_path, recipe):
    assert RECIPES[recipe].main(TINY + ["--out", str(tmp_path), "--name", "t"]) == 0
    run = os.path.join(tmp_path, recipe, "t")
    metrics = json.load(open(os.path.join(run, "metrics.json")))
    for name in ("ali", "gibbsnet"):
        row = metrics["table_3_1"]["this_run"][name]
        assert set(row) == {"inception_score_samples", "inception_score_inpainting", "fid_samples", "fid_inpainting",
                            "latent_probe_accuracy"}
        assert metrics[name]["scores"]["samples"]["count"] == 32
        assert os.path.isfile(os.path.join(run, "images", f"{name}_long_chain_10_steps.png"))
        for panel in ("chain", "inpainting"):  # the per-epoch grids of training
            assert os.path.isfile(os.path.join(run, "images", f"{name}_{panel}_epoch001.png"))
    assert metrics["table_3_1"]["thesis"]["gibbsnet"]["inception_score_inpainting"] == 6.15


@pytest.mark.parametrize("recipe", sorted(RECIPES))
def test_help_lists_the_recipe_flags(capsys, recipe):
    with pytest.raises(SystemExit):
        RECIPES[recipe].main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--train-steps", "--loss", "--bounded-sigma", "--standardize-z", "--noise-dim", "--long-chain-steps",
                 "--quick", "--resume", "--seed"):
        assert flag in text
