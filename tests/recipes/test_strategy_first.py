"""Every recipe creates its tf.distribute strategy before it touches data: MultiWorkerMirroredStrategy must be
configured before TensorFlow creates any tensor ("Collective ops must be configured at program startup")."""

import importlib
import pkgutil

import pytest

import recipes

import tfgm.data
import tfgm.training
from tfgm.data import builtin_text, text8

NOT_EXPERIMENTS = ("launch", "robustness_eval", "gan_presets")  # a launcher, an evaluator of exports, a table
RECIPES = tuple(sorted(m.name for m in pkgutil.iter_modules(recipes.__path__)
                       if not m.name.startswith("_") and m.name not in NOT_EXPERIMENTS))


class StrategyFirst(Exception):
    pass


class DataFirst(Exception):
    pass


def test_every_recipe_module_is_checked():
    assert {"discreg_celeba", "ebm_mnist", "nce_toy", "rbm_mnist", "gibbsnet_svhn"} <= set(RECIPES)
    assert len(RECIPES) == 19


@pytest.mark.parametrize("name", RECIPES)
def test_the_strategy_is_created_before_any_data_is_loaded(monkeypatch, tmp_path, name):
    def strategy(*args, **kwargs):
        raise StrategyFirst()

    def load(*args, **kwargs):
        raise DataFirst()

    monkeypatch.setattr(tfgm.training, "strategy", strategy)
    monkeypatch.setattr(tfgm.data, "load", load)
    for module, reader in ((text8, "read_split"), (text8, "read_npz"), (builtin_text, "builtin_corpus")):
        monkeypatch.setattr(module, reader, load)  # fortified_text8's corpus readers
    recipe = importlib.import_module(f"recipes.{name}")
    with pytest.raises(StrategyFirst):
        recipe.main(["--quick", "--out", str(tmp_path)])
