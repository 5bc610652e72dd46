"""Bishop's (1994) inverse problem, generated in code: t ~ U(0, 1), x = t + 0.3 sin(2πt) + U(−0.1, 0.1); predicting
t from x has up to three answers per x (the mixture density network's probe)."""

import numpy as np


def sample(n, seed):
    """(x [n, 1], t [n, 1]) float32 pairs of the process, from numpy's generator of `seed` (an int or a tuple)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 1, (n, 1))
    x = t + 0.3 * np.sin(2 * np.pi * t) + rng.uniform(-0.1, 0.1, (n, 1))
    return x.astype("float32"), t.astype("float32")


def consistent_share(x, t):
    """Share of pairs (x, t̂) the process could give: |x − t̂ − 0.3 sin(2πt̂)| ≤ 0.1 and t̂ in [0, 1]."""
    x, t = np.asarray(x, "float64"), np.asarray(t, "float64")
    return float(((np.abs(x - t - 0.3 * np.sin(2 * np.pi * t)) <= 0.1) & (t >= 0) & (t <= 1)).mean())
