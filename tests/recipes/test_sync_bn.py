"""--sync-bn: every recipe takes it (default off, explained in --help), and an experiment's stages apply it to the
model."""

import dataclasses
import json
import os

import numpy as np
import pytest

import keras
from recipes._cli import CommonConfig, build_parser, parse_config
from recipes._experiment import Experiment
from recipes._run import start_run
from tfgm.training import batch_norm_layers, strategy


@dataclasses.dataclass
class _Config(CommonConfig):
    @staticmethod
    def quick_overrides():
        return {}


def test_sync_bn_flag_defaults_off_and_its_help_says_why():
    assert parse_config(_Config, "", []).sync_bn is False
    assert parse_config(_Config, "", ["--sync-bn"]).sync_bn is True
    assert parse_config(_Config, "", ["--sync-bn", "--no-sync-bn"]).sync_bn is False
    text = " ".join(build_parser(_Config, "").format_help().split())
    help_text = text.split("--sync-bn, --no-sync-bn", 1)[1].split("--seed")[0]
    assert "Default: off" in help_text and "with one replica it changes nothing" in help_text
    assert "all-reduces per BN layer" in help_text


@pytest.mark.parametrize("module", ["discreg_celeba", "fortified_mnist", "gan_toy", "gibbsnet_mnist2d"])
def test_every_recipe_family_has_the_flag(module, capsys):
    import importlib

    recipe = importlib.import_module(f"recipes.{module}")
    with pytest.raises(SystemExit):
        recipe.main(["--help"])
    assert "--sync-bn" in capsys.readouterr().out


def _build():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.BatchNormalization(),
                              keras.layers.Dense(2), keras.layers.BatchNormalization()])
    model.compile(keras.optimizers.SGD(0.01), loss="mse")
    return model


def _experiment(cfg):
    """An Experiment as its `main` sets it up for `train`: config, strategy, run directory."""
    experiment = Experiment(recipe="sync_test", config=_Config)
    experiment.cfg, experiment.strategy = cfg, strategy("default")
    experiment.run = start_run(cfg, "sync_test", experiment.strategy)
    return experiment


@pytest.mark.parametrize("sync_bn", [False, True])
def test_an_experiments_stage_applies_the_runs_sync_bn(tmp_path, capsys, sync_bn):
    experiment = _experiment(_Config(out=str(tmp_path), name="r", sync_bn=sync_bn))
    run = experiment.run
    rng = np.random.default_rng(0)
    fit = {"x": rng.normal(size=(8, 3)).astype("float32"), "y": rng.normal(size=(8, 2)).astype("float32"),
           "batch_size": 4, "epochs": 1}
    model = experiment.stage("net", _build, fit)  # the call every recipe makes
    assert [layer.synchronized for layer in batch_norm_layers(model)] == [sync_bn, sync_bn]
    printed = capsys.readouterr().out
    assert ("[net] synchronized batch norm: 2 BatchNormalization layers" in printed) == sync_bn
    assert json.load(open(os.path.join(run.path, "config.json")))["sync_bn"] is sync_bn  # written by start_run
    reloaded = keras.saving.load_model(run.model_path("net"))
    assert [layer.synchronized for layer in batch_norm_layers(reloaded)] == [sync_bn, sync_bn]


def test_the_stage_keyword_overrides_the_flag(tmp_path):
    experiment = _experiment(_Config(out=str(tmp_path), name="r", sync_bn=False))
    fit = {"x": np.ones((4, 3), "float32"), "y": np.ones((4, 2), "float32"), "batch_size": 4, "epochs": 1}
    model = experiment.stage("net", _build, fit, sync_bn=True)
    assert all(layer.synchronized for layer in batch_norm_layers(model))
