"""The built-in 25-Gaussian grid: geometry, statistics, splits and `tfgm.data.load`."""

import numpy as np
import pytest

import tfgm.data
from tfgm.data import DataError, gaussian_grid


def test_centres_are_the_5x5_grid_x_major():
    centers = gaussian_grid.centers()
    assert centers.shape == (25, 2) and centers.dtype == np.float32
    np.testing.assert_array_equal(centers[18], [2.0, 2.0])
    np.testing.assert_array_equal(centers[1], [-4.0, -2.0])
    assert sorted(set(centers[:, 0])) == [-4.0, -2.0, 0.0, 2.0, 4.0]


def test_samples_fall_evenly_on_the_modes_with_the_given_std():
    points = gaussian_grid.sample(50_000, std=0.05, seed=1)
    centers = gaussian_grid.centers()
    nearest = np.linalg.norm(points[:, None] - centers[None], axis=-1).argmin(axis=1)
    counts = np.bincount(nearest, minlength=25)
    assert counts.min() > 1800 and counts.max() < 2200  # 2000 ± 4.5σ of a binomial
    offsets = points - centers[nearest]
    np.testing.assert_allclose(offsets.std(axis=0), [0.05, 0.05], rtol=0.02)
    np.testing.assert_allclose(offsets.mean(axis=0), [0.0, 0.0], atol=0.002)


def test_load_gives_image_points_per_split_and_seed():
    train = tfgm.data.load("gaussian_grid_25", "train", num_examples=300, seed=4)
    assert train.element_spec["image"].shape == (2,) and train.element_spec["image"].dtype.name == "float32"
    points = np.stack([e["image"] for e in train.as_numpy_iterator()])
    np.testing.assert_array_equal(points, gaussian_grid.sample(300, 0.05, 4))
    test = np.stack([e["image"] for e in gaussian_grid.load("test", seed=4, num_examples=300).as_numpy_iterator()])
    assert not np.allclose(points, test)
    assert int(gaussian_grid.load("validation").cardinality()) == gaussian_grid.SPLIT_SIZES["validation"]
    assert "gaussian_grid_25" in tfgm.data.available_datasets()
    with pytest.raises(DataError, match="split"):
        gaussian_grid.load("dev")
