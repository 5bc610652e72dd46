"""The GibbsNet recipes' figures: half masks, unclamped and inpainting chains as image rows, the per-epoch
panels, the chain strips written after training (8 chains, the scored inpainting, a long chain) and the inferred
2-D z per class (thesis fig. 3.3)."""

import os

from recipes._gibbsnet_common import HALVES


def half_mask(images, given):
    """Mask [B, H, W, 1] for images [B, H, W, C]: 1 on the `given` half of the columns ("left" | "right")."""
    import numpy as np

    if given not in HALVES:
        raise ValueError(f"given must be one of {HALVES}, got {given!r}")
    mask = np.zeros(images.shape[:3] + (1,), "float32")
    half = images.shape[2] // 2
    if given == "left":
        mask[:, :, :half] = 1.0
    else:
        mask[:, :, half:] = 1.0
    return mask


def chain_rows(model, n, steps, seed, batch_statistics=False):
    """n unclamped chains of `steps` steps from z₀ ~ N(0, I) (stateless in `seed`): [n, steps, H, W, C]."""
    import numpy as np

    chain = model.sample(n, steps=steps, seed=seed, return_chain=True, batch_statistics=batch_statistics)
    return np.swapaxes(np.asarray(chain), 0, 1)


def inpainting_rows(model, images, steps, seed, given="left", batch_statistics=False):
    """Inpainting chains of images [R, H, W, C] with the `given` half ("left" | "right") clamped: per row the
    original, the given half (the other grey), then the chain's `steps` images: [R, 2 + steps, H, W, C]."""
    import numpy as np

    images = np.asarray(images, "float32")
    mask = half_mask(images, given)
    chain = np.asarray(model.inpaint(images, mask, steps=steps, seed=seed, return_chain=True,
                                     batch_statistics=batch_statistics))
    given = np.where(mask > 0.5, images, 0.5)
    return np.concatenate([images[:, None], given[:, None], np.swapaxes(chain, 0, 1)], axis=1)


def chain_panels(cfg, fixed, chains=8, max_steps=10):
    """Per-epoch panels, cheap enough for every epoch: "chain": `chains` unclamped chains of
    min(cfg.chain_steps, max_steps) steps from fixed noise (seed cfg.seed), [chains, steps, H, W, C];
    "inpainting": the inpainting chains (cfg.inpaint_given half given, min(cfg.inpaint_steps, max_steps) steps)
    of the fixed test images `fixed` [R, H, W, C], [R, 2 + steps, H, W, C]. The model needs GibbsNet's `sample`
    and `inpaint`."""
    import numpy as np

    steps = max(1, min(int(cfg.chain_steps), int(max_steps)))
    inpaint_steps = max(1, min(int(cfg.inpaint_steps), int(max_steps)))
    fixed = np.asarray(fixed, "float32")
    bs = cfg.chain_batch_statistics
    return {"chain": lambda model: chain_rows(model, chains, steps, cfg.seed, bs),
            "inpainting": lambda model: inpainting_rows(model, fixed, inpaint_steps, cfg.seed, cfg.inpaint_given, bs)}


def inpainting_png(name, cfg):
    """File name of model `name`'s inpainting strip, which states its protocol."""
    return f"{name}_inpainting_{cfg.inpaint_given}_half_given_{cfg.inpaint_steps}_steps.png"


def chain_figures(run, name, model, fixed, cfg):
    """PNG strips: 8 chains of `chain_steps` from noise, the scored inpainting protocol's chains of the test
    images `fixed`, and a long chain (10 snapshots); returns the long chain's final spread and intensity."""
    import numpy as np

    from tfgm.training import make_grid, save_png

    save_png(os.path.join(run.images_dir, f"{name}_chain_{cfg.chain_steps}_steps.png"),
             make_grid(chain_rows(model, 8, cfg.chain_steps, cfg.seed, cfg.chain_batch_statistics)))
    save_png(os.path.join(run.images_dir, inpainting_png(name, cfg)),
             make_grid(inpainting_rows(model, fixed, cfg.inpaint_steps, cfg.seed, cfg.inpaint_given,
                                       cfg.chain_batch_statistics)))
    snapshots = []
    z = np.random.default_rng(cfg.seed).normal(size=(8, cfg.latent_dim)).astype("float32")
    every = max(1, cfg.long_chain_steps // 10)
    for k in range(0, cfg.long_chain_steps, every):
        x, z, _ = model.run_chain(z, min(every, cfg.long_chain_steps - k), seed=[cfg.seed, k + 1],
                                  batch_statistics=cfg.chain_batch_statistics)
        snapshots.append(np.asarray(x))
    save_png(os.path.join(run.images_dir, f"{name}_long_chain_{cfg.long_chain_steps}_steps.png"),
             make_grid(np.stack(snapshots, 1)))
    return {"long_chain_final_pixel_std_across_chains": float(np.mean(np.std(snapshots[-1], axis=0))),
            "long_chain_final_mean_intensity": float(np.mean(snapshots[-1]))}


def latent_scatter(run, name, model, test, classes):
    """images/<name>_latent_scatter.png: the inferred ẑ (2-D, posterior mean) of the test batches coloured by
    class (labels 0… standing for `classes`; thesis fig. 3.3). Returns the path."""
    import numpy as np

    from tfgm.training import pyplot, save_figure

    z, y = [], []
    for batch in test:
        z.append(np.asarray(model.infer(batch["image"])))
        y.append(np.asarray(batch["label"]))
    z, y = np.concatenate(z), np.concatenate(y)
    fig, ax = pyplot().subplots(figsize=(5, 5))
    for i, c in enumerate(classes):
        ax.scatter(z[y == i, 0], z[y == i, 1], s=4, label=f"digit {c}")
    ax.legend()
    ax.set_title(f"{name}: inferred z (posterior mean) per class")
    return save_figure(fig, os.path.join(run.images_dir, f"{name}_latent_scatter.png"))
