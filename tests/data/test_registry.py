"""tfgm.data.registry: a dataset registered by its module is loadable by name and listed in --help texts."""

import numpy as np
import pytest
import tensorflow as tf

from tfgm import data
from tfgm.data import registry


@pytest.fixture
def scratch(monkeypatch):
    registry.register_catalog()
    monkeypatch.setattr(registry, "_SOURCES", dict(registry._SOURCES))


def test_a_registered_source_is_loaded_by_name_with_the_options_it_takes(scratch):
    seen = {}

    def load(split, seed=0, num_examples=None, **options):
        seen.update(split=split, seed=seed, num_examples=num_examples, **options)
        return tf.data.Dataset.from_tensor_slices({"image": np.full((5, 4, 4, 1), 0.5, "float32")})

    registry.register("tiny", load, ("image",), "five grey squares")
    assert "tiny" in data.available_datasets()
    images = [e["image"].numpy() for e in data.load("tiny", "test", image_size=(2, 2), channels=3, num_examples=3,
                                                     seed=7)]
    assert len(images) == 3 and images[0].shape == (2, 2, 3)  # the image options apply after the source
    assert seen == {"split": "test", "seed": 7, "num_examples": 3, "data_dir": None, "path": None,
                    "image_size": (2, 2)}


def test_names_filter_by_keys_and_kind_and_describe_lists_them(scratch):
    assert data.available_datasets()[:5] == ["mnist", "fashion_mnist", "cifar10", "svhn_cropped", "celeb_a"]
    attributes = registry.names(("image", "attributes"))
    assert attributes == ["celeb_a", "celeba_local", "npz", "builtin_faces", "builtin_faces_plain"]
    assert registry.names(("tokens",)) == ["text8", "builtin_text"]
    assert "gaussian_grid_25" in registry.names(("image",)) and "gaussian_grid_25" not in registry.names(
        ("image",), images=True)
    text = registry.describe(("tokens",), notes={"text8": "give --text8"})
    assert text == "text8 (give --text8) | builtin_text (a text8-like corpus generated in code, 180-character windows)"


def test_a_name_registered_twice_and_an_unknown_name_fail_clearly(scratch):
    with pytest.raises(ValueError, match="'mnist' is registered twice"):
        registry.register("mnist", lambda split, **_: None, ("image",), "again")
    with pytest.raises(data.DataError, match="unknown dataset 'imagenet'; available: mnist, fashion_mnist"):
        data.load("imagenet")
