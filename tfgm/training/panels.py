"""Image-grid panels for latent-variable models (duck-typed: `sample(n, seed)`, `encode`, `decode`)."""

import numpy as np


def latent_model_panels(fixed_images, seed=0, num_samples=64, interpolation_steps=8):
    """Panels for `ImageGridCallback`: {"samples", "reconstructions", "interpolations"}.

    fixed_images: float32 [N, H, W, C] in [0, 1] (N even, e.g. 8–16) reused every epoch, so grids compare.
    samples: [num_samples, H, W, C] from a fixed seed. reconstructions: [2, N, H, W, C] (originals above
    reconstructions). interpolations: [N/2, steps, H, W, C], linear paths between the posterior means of
    image pairs (first and last columns are reconstructions, as in thesis fig. 4.4).
    """
    fixed = np.asarray(fixed_images, dtype="float32")

    def samples(model):
        return np.asarray(model.sample(num_samples, seed=seed))

    def reconstructions(model):
        return np.stack([fixed, np.asarray(model.reconstruct(fixed))])

    def interpolations(model):
        z = np.asarray(model.encode(fixed)[0])
        start, end = z[0::2], z[1::2]
        t = np.linspace(0.0, 1.0, interpolation_steps, dtype="float32")[None, :, None]
        path = start[:, None] * (1.0 - t) + end[:, None] * t  # [pairs, steps, D]
        images = np.asarray(model.decode(path.reshape(-1, z.shape[-1])))
        return images.reshape((len(start), interpolation_steps) + images.shape[1:])

    return {"samples": samples, "reconstructions": reconstructions, "interpolations": interpolations}
