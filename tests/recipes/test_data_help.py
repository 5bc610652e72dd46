"""Every recipe's --data help comes from `tfgm.data.catalog`, and --help starts no TensorFlow."""

import subprocess
import sys

from recipes import _data_help
from tfgm.data import catalog

RECIPES = ("autoregressive_text8", "fortified_cifar10", "fortified_detection", "fortified_fashion_mnist",
           "fortified_mnist", "fortified_text8", "gan_cifar10", "gan_mnist", "gan_toy", "gibbsnet_celeba_attributes",
           "gibbsnet_cifar10", "gibbsnet_mnist", "gibbsnet_mnist2d", "gibbsnet_svhn", "mixture_toy", "rbm_mnist")

_HELP_WITHOUT_TF = """
import contextlib, importlib, io, sys
helps = {}
for name in sys.argv[1:]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        importlib.import_module(f"recipes.{name}").main(["--help"])
    helps[name] = " ".join(out.getvalue().split())
print("tensorflow" in sys.modules)
print(repr(helps))
"""


def test_help_of_every_recipe_imports_no_tensorflow_and_lists_its_datasets_from_the_catalog():
    result = subprocess.run([sys.executable, "-c", _HELP_WITHOUT_TF, *RECIPES], capture_output=True, text=True,
                            check=True)
    imported, helps = result.stdout.strip().split("\n", 1)
    assert imported == "False"
    helps = eval(helps)  # noqa: S307 - the repr printed above
    for name in ("gan_mnist", "gan_cifar10", "rbm_mnist"):
        for dataset in catalog.names(("image",), images=True):
            assert f"{dataset} (" in helps[name], (name, dataset)
    for name in ("fortified_mnist", "fortified_cifar10", "gibbsnet_svhn", "gibbsnet_mnist", "fortified_detection"):
        assert all(f"{d} (" in helps[name] for d in catalog.names(("image", "label"), images=True))
        assert "celeb_a (" not in helps[name]
    for name in ("fortified_text8", "autoregressive_text8"):
        assert "text8 (" in helps[name] and "builtin_text (" in helps[name] and "npz (1-D token ids" in helps[name]
    assert "builtin_faces_plain (" in helps["gibbsnet_celeba_attributes"]
    assert "gaussian_grid_25" in helps["gan_toy"] and "gaussian_grid_25" in helps["mixture_toy"]


def test_a_dataset_added_to_the_catalog_appears_in_the_help_of_the_recipes_it_fits(monkeypatch):
    extra = catalog.Dataset("stl10", "tfds_source", ("image", "label"), "TFDS: STL-10 96×96×3, 10 classes")
    monkeypatch.setattr(catalog, "DATASETS", catalog.DATASETS + (extra,))
    monkeypatch.setattr(catalog, "BY_NAME", {**catalog.BY_NAME, "stl10": extra})
    assert "stl10 (TFDS: STL-10 96×96×3, 10 classes)" in _data_help.data_help(("image", "label"))
    assert "stl10" not in _data_help.data_help(("tokens",), images=False)
