"""The public entry point: names, arguments, errors."""

import numpy as np
import pytest

import tfgm.data as data
from tfgm.data import DataError, available_datasets, load


def test_public_api():
    public = {"CELEBA_ATTRIBUTES", "DataError", "available_datasets", "celeba_preprocess", "load"}
    assert set(data.__all__) == public
    assert issubclass(DataError, ValueError)
    assert available_datasets() == [
        "mnist", "fashion_mnist", "cifar10", "svhn_cropped", "celeb_a",
        "celeba_local", "npz", "folder", "builtin_faces", "builtin_faces_plain", "builtin_digits", "builtin_objects",
        "text8", "builtin_text", "gaussian_grid_25",
    ]  # fmt: skip


def test_unknown_name_and_split():
    with pytest.raises(DataError, match="builtin_faces"):
        load("imagenet")
    with pytest.raises(DataError, match="validation"):
        load("builtin_faces", "valid")


@pytest.mark.parametrize(
    "kwargs, needle",
    [
        ({"image_size": 32}, "image_size"),
        ({"image_size": (0, 4)}, "image_size"),
        ({"channels": 2}, "channels"),
        ({"num_examples": -1}, "num_examples"),
    ],
)
def test_bad_options(kwargs, needle):
    with pytest.raises(DataError, match=needle):
        load("builtin_faces", **kwargs)


def test_unbatched_dicts_with_options():
    ds = load("builtin_faces", "validation", image_size=(32, 24), channels=1, num_examples=5)
    spec = ds.element_spec
    assert spec["image"].shape == (32, 24, 1) and spec["attributes"].shape == (40,)
    examples = list(ds.as_numpy_iterator())
    assert len(examples) == 5
    assert all(0.0 <= e["image"].min() and e["image"].max() <= 1.0 for e in examples)
    assert np.std([e["image"].mean() for e in examples]) > 0.01
