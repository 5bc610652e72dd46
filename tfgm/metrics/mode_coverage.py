"""Mode coverage of a generator on a mixture of known modes (the 2-D grid protocol of VEEGAN / PacGAN).

A sample is high quality when it lies within 3σ of its nearest mode centre; a mode is covered when it gets at
least `min_fraction` of the high-quality samples a perfect model would give it (min_fraction · N / modes).
"""

import numpy as np


def mode_coverage(samples, centers, std, min_fraction=0.2):
    """samples [N, D], centers [K, D] (e.g. `tfgm.data.gaussian_grid.centers()`), std σ of each mode →
    {"modes_covered": int in [0, K], "modes_total": K, "high_quality_share": float in [0, 1], "samples": N,
    "min_high_quality_samples_per_mode": min_fraction · N / K, "per_mode_counts": [K] high-quality samples
    nearest each centre}. Distances in float64."""
    centers = np.asarray(centers)
    samples = np.asarray(samples, dtype="float64")
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=-1)
    nearest, closest = distances.argmin(axis=1), distances.min(axis=1)
    good = closest <= 3.0 * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    threshold = min_fraction * len(samples) / len(centers)
    return {"modes_covered": int((counts >= threshold).sum()), "modes_total": len(centers),
            "high_quality_share": float(good.mean()), "samples": len(samples),
            "min_high_quality_samples_per_mode": threshold, "per_mode_counts": counts.tolist()}
