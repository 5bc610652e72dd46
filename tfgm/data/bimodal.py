"""The 1-D two-Gaussian mixture ½N(−2, 0.5²) + ½N(1.5, 0.8²), generated in code: draws and the exact log density
(a density whose normalizer is known, to check estimated ones against)."""

import math

import numpy as np

MIXTURE = {"weights": (0.5, 0.5), "means": (-2.0, 1.5), "stds": (0.5, 0.8)}


def sample(n, seed):
    """n draws [n, 1] float32, from numpy's generator of `seed` (an int or a tuple)."""
    rng = np.random.default_rng(seed)
    k = rng.choice(2, size=n, p=MIXTURE["weights"])
    x = np.asarray(MIXTURE["means"])[k] + np.asarray(MIXTURE["stds"])[k] * rng.standard_normal(n)
    return x[:, None].astype("float32")


def log_density(x):
    """The exact log density: x [B, 1] → [B] float64."""
    x = np.asarray(x, np.float64)[:, 0]
    terms = [math.log(w) - 0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
             for w, m, s in zip(MIXTURE["weights"], MIXTURE["means"], MIXTURE["stds"])]
    return np.logaddexp(*terms)
