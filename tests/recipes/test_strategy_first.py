"""Every recipe creates its tf.distribute strategy before it touches data: MultiWorkerMirroredStrategy must be
configured before TensorFlow creates any tensor ("Collective ops must be configured at program startup")."""

import importlib

import pytest

import tfgm.data
import tfgm.training
from tfgm.data import text8

RECIPES = ("discreg_celeba", "fortified_mnist", "fortified_fashion_mnist", "fortified_cifar10", "fortified_detection",
           "fortified_text8", "gan_toy", "gan_mnist", "gan_cifar10", "gibbsnet_mnist", "gibbsnet_mnist2d",
           "gibbsnet_svhn", "gibbsnet_cifar10", "gibbsnet_celeba_attributes")


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
    for reader in ("read_split", "read_npz", "builtin_corpus"):  # fortified_text8's corpus readers
        monkeypatch.setattr(text8, reader, load)
    recipe = importlib.import_module(f"recipes.{name}")
    with pytest.raises(StrategyFirst):
        recipe.main(["--quick", "--out", str(tmp_path)])
