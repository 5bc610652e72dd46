"""Every recipe creates its tf.distribute strategy before it touches data: MultiWorkerMirroredStrategy must be
configured before TensorFlow creates any tensor ("Collective ops must be configured at program startup")."""

import importlib

import pytest

import tfgm.data
import tfgm.training
from tfgm.data import builtin_text, text8

RECIPES = ("discreg_celeba", "fortified_mnist", "fortified_fashion_mnist", "fortified_cifar10", "fortified_detection",
           "fortified_text8", "gan_toy", "gan_mnist", "gan_cifar10", "gibbsnet_mnist", "gibbsnet_mnist2d",
           "gibbsnet_svhn", "gibbsnet_cifar10", "gibbsnet_celeba_attributes", "autoregressive_text8", "mixture_toy",
           "rbm_mnist")


class StrategyFirst(Exception):
    pass


class DataFirst(Exception):
    pass


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
