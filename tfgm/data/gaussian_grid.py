"""The 2-D mixture of 25 Gaussians ("gaussian_grid_25"), the standard mode-coverage probe of GANs.

25 isotropic Gaussians of std σ (default 0.05) centred on the grid {-4, -2, 0, 2, 4}², equal weights
(Gulrajani et al.'s `25gaussians` geometry, not rescaled). Generated in code: no download.

`centers()` gives the 25 centres (the order of `tfgm.metrics.mode_coverage`'s per-mode counts); `sample(n, std,
seed)` n points; `load(split)` a dataset of {"image": float32 [2]} points (the key every GAN trains on; values
are coordinates, not in [0, 1]). Deterministic from (seed, split, count); each split draws its own stream.
"""

import numpy as np
import tensorflow as tf

from tfgm.data._pipeline import check_split
from tfgm.data.registry import register

GRID = (-4.0, -2.0, 0.0, 2.0, 4.0)
STD = 0.05
SPLIT_SIZES = {"train": 200_000, "validation": 10_000, "test": 10_000}
_SPLIT_IDS = {"validation": 1, "test": 2}


def centers():
    """The 25 mode centres, float32 [25, 2], x-major: (x, y) for x in GRID for y in GRID."""
    return np.array([(x, y) for x in GRID for y in GRID], dtype="float32")


def sample(n, std=STD, seed=0):
    """n points float32 [n, 2] of the equal-weight mixture (numpy Generator of `seed`, an int or a sequence)."""
    rng = np.random.default_rng(seed)
    grid = centers()
    return (grid[rng.integers(0, len(grid), n)] + std * rng.normal(size=(n, 2))).astype("float32")


def load(split="train", seed=0, num_examples=None, std=STD):
    """Unbatched dataset of {"image": float32 [2]}: `num_examples` points (default `SPLIT_SIZES[split]`) of
    `split`. The train split of `seed` is `sample(n, std, seed)`; validation and test draw from (seed, 1|2)."""
    check_split(split, "gaussian_grid_25")
    n = SPLIT_SIZES[split] if num_examples is None else int(num_examples)
    points = sample(n, std, seed if split == "train" else (seed, _SPLIT_IDS[split]))
    return tf.data.Dataset.from_tensor_slices({"image": points})


register("gaussian_grid_25", lambda split, seed=0, num_examples=None, **_: load(split, seed, num_examples))
