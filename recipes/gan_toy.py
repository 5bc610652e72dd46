"""GAN variants on the 2-D mixture of 25 Gaussians, the standard mode-coverage probe (METHODS.md §4).

Data: 25 isotropic Gaussians of std σ = 0.05 centred on the grid {-4, -2, 0, 2, 4}², equal weights.
Each variant (DCGAN, WGAN, WGAN-GP, SN-GAN, Roth, instance noise, Jacobian clamping) trains the same MLP
pair with its paper settings (loss, regularizers, n_critic, optimizer), except one learning rate for all
(--learning-rate 1e-3: the image papers' rates need far more than this budget of 10k generator steps; measured
with --learning-rate 0, DCGAN at Adam 2e-4 covers ~3 modes after 10k steps). WGAN-GP keeps the image setting
λ = 10; Gulrajani et al.'s own toy script uses λ = 0.1, 512-unit layers and 100k generator steps
(--variant wgan_gp --regularizer gradient_penalty=0.1 --hidden 512 512 512).
Scores on 2500 samples, with the usual definitions:
  - a sample is high quality if it lies within 3σ of its nearest mode centre;
  - a mode is covered if it receives at least 20% of the high-quality samples a perfect model would give it
    (--mode-min-fraction 0.2 of 2500/25 = 20 samples).
Writes a PNG of samples over the modes per variant and for all together, loss curves, metrics.json
(modes covered and high-quality share, at initialization and after training) and the exported generators.

    python -m recipes.gan_toy --quick                        # every variant, a few hundred steps
    python -m recipes.gan_toy --variant wgan_gp --variant dcgan
"""

import dataclasses
import os
import sys
import time

from recipes._cli import CommonConfig, parse_config
from recipes._run import export_models, start_run, train_stage

RECIPE = "gan_toy"
GRID = (-4.0, -2.0, 0.0, 2.0, 4.0)
ALL_VARIANTS = ("dcgan", "wgan", "wgan_gp", "sngan", "roth", "instance_noise", "jacobian_clamping")


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="grid25", metadata={"help": "grid25: the 25-Gaussian mixture (built in)"})
    variant: tuple[str, ...] = dataclasses.field(default=ALL_VARIANTS, metadata={
        "help": "variants to train, repeatable"})
    loss: str = dataclasses.field(default="", metadata={"help": "override every variant's loss"})
    regularizer: tuple[str, ...] = dataclasses.field(default=(), metadata={
        "help": "name or name=value added to every variant's, repeatable; 'none' drops the variant's"})
    sn: bool = dataclasses.field(default=False, metadata={"help": "spectral normalization in every discriminator"})
    n_critic: int = dataclasses.field(default=0, metadata={"help": "critic steps per generator step (0: variant's)"})
    learning_rate: float = dataclasses.field(default=1e-3, metadata={
        "help": "both learning rates of every variant (0: the variant's image-paper rate, too slow for this budget)"})
    batch_size: int = dataclasses.field(default=256, metadata={"help": "batch of each critic and generator step"})
    latent_dim: int = dataclasses.field(default=2, metadata={"help": "latent dimension"})
    hidden: tuple[int, ...] = dataclasses.field(default=(128, 128, 128), metadata={"help": "MLP hidden layers"})
    std: float = dataclasses.field(default=0.05, metadata={"help": "std σ of each mixture component"})
    variant_epochs: int = dataclasses.field(default=10, metadata={"help": "epochs of each variant"})
    steps_per_epoch: int = dataclasses.field(default=1000, metadata={"help": "generator steps per epoch"})
    eval_samples: int = dataclasses.field(default=2500, metadata={"help": "samples scored for mode coverage"})
    mode_min_fraction: float = dataclasses.field(default=0.2, metadata={
        "help": "a mode is covered with ≥ this fraction of its fair share (eval_samples/25) of HQ samples"})
    seeds: int = dataclasses.field(default=1, metadata={
        "help": "train each variant with seeds seed, seed+1, …; the summary gives mean ± std over them"})

    @staticmethod
    def quick_overrides():
        """--quick: every variant, 2 × 300 steps."""
        return {"variant_epochs": 2, "steps_per_epoch": 300}

    def stage_epochs(self, stage_default):
        return self.epochs or stage_default


def grid_centers():
    """The 25 mode centres [25, 2]."""
    import numpy as np

    return np.array([(x, y) for x in GRID for y in GRID], dtype="float32")


def mixture(n, std, seed):
    """n points [n, 2] of the equal-weight 25-Gaussian grid mixture."""
    import numpy as np

    rng = np.random.default_rng(seed)
    centers = grid_centers()
    return (centers[rng.integers(0, len(centers), n)] + std * rng.normal(size=(n, 2))).astype("float32")


def mode_coverage(samples, std, min_fraction=0.2):
    """Mode coverage of samples [N, 2]: high quality = within 3σ of the nearest centre; a mode is covered when
    it gets ≥ min_fraction · N/25 high-quality samples."""
    import numpy as np

    centers = grid_centers()
    samples = np.asarray(samples, dtype="float64")
    distances = np.linalg.norm(samples[:, None, :] - centers[None], axis=-1)
    nearest, closest = distances.argmin(axis=1), distances.min(axis=1)
    good = closest <= 3.0 * std
    counts = np.bincount(nearest[good], minlength=len(centers))
    threshold = min_fraction * len(samples) / len(centers)
    return {"modes_covered": int((counts >= threshold).sum()), "modes_total": len(centers),
            "high_quality_share": float(good.mean()), "samples": len(samples),
            "min_high_quality_samples_per_mode": threshold, "per_mode_counts": counts.tolist()}


def _datasets(cfg, n_critic):
    import tensorflow as tf

    points = mixture(200_000, cfg.std, cfg.seed)
    ds = tf.data.Dataset.from_tensor_slices({"image": points}).shuffle(50_000, seed=cfg.seed).repeat()
    return ds.batch(cfg.batch_size * n_critic, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _build(cfg, settings):
    import keras

    from tfgm.models.gan import GAN
    from tfgm.nets import dcgan

    keras.utils.set_random_seed(cfg.seed)
    model = GAN(dcgan.mlp_generator(cfg.latent_dim, 2, cfg.hidden),
                dcgan.mlp_discriminator(2, cfg.hidden, spectral_norm=settings["spectral_norm"]),
                loss=settings["loss"], regularizers=settings["regularizers"], n_critic=settings["n_critic"],
                critic_batches="split", total_steps=cfg.stage_epochs(cfg.variant_epochs) * cfg.steps_per_epoch,
                seed=cfg.seed,
                name=settings["variant"])
    model.compile(*settings["make_optimizers"]())
    return model


def _scatter(ax, samples, cfg, title):
    import matplotlib.pyplot as plt

    real = mixture(2000, cfg.std, cfg.seed + 1)
    ax.scatter(real[:, 0], real[:, 1], s=2, c="0.75", label="data")
    ax.scatter(samples[:, 0], samples[:, 1], s=2, c="tab:blue", alpha=0.5, label="samples")
    for cx, cy in grid_centers():
        ax.add_patch(plt.Circle((cx, cy), 3 * cfg.std, fill=False, lw=0.5, color="tab:red"))
    ax.set_xlim(-6, 6)
    ax.set_ylim(-6, 6)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)


def _figure(path, panels, cfg):
    """panels: [(title, samples [N, 2])] → one PNG with a scatter per panel."""
    import math

    from tfgm.training import pyplot

    plt = pyplot()

    from tfgm.training.atomic import atomic_path

    cols = min(4, len(panels))
    rows = math.ceil(len(panels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, (title, samples) in zip(axes.ravel(), panels):
        _scatter(ax, samples, cfg, title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)


def _mean_std(values):
    import numpy as np

    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "values": [float(v) for v in values]}


def over_seeds(runs):
    """{seed: result} of one variant → modes covered and high-quality share as mean ± std (population std) over
    the seeds that finished (a diverged seed counts as 0 modes, 0 high-quality share)."""
    return {"seeds": sorted(runs), "modes_covered": _mean_std([r["modes_covered"] for r in runs.values()]),
            "high_quality_share": _mean_std([r["high_quality_share"] for r in runs.values()]),
            "diverged_seeds": sorted(seed for seed, r in runs.items() if "diverged" in r)}


def panel_title(name, stats, shown_seed):
    """Title of a variant's scatter: modes and high-quality share (mean ± std when several seeds)."""
    modes, hq = stats["modes_covered"], stats["high_quality_share"]
    if len(modes["values"]) == 1:
        return f"{name}: {modes['mean']:.0f}/25 modes, HQ {hq['mean']:.2f}"
    return (f"{name}: {modes['mean']:.1f} ± {modes['std']:.1f}/25 modes, HQ {hq['mean']:.2f} ± {hq['std']:.2f}\n"
            f"({len(modes['values'])} seeds; seed {shown_seed} shown)")


def summary_table(results):
    lines = [f"{'variant':20s} {'modes (init)':>12s} {'modes':>12s} {'HQ share':>13s}  seeds", "-" * 68]
    for name, r in results.items():
        modes, hq = r["over_seeds"]["modes_covered"], r["over_seeds"]["high_quality_share"]
        lines.append(f"{name:20s} {r['init']['modes_covered']:12d} {modes['mean']:6.1f} ± {modes['std']:<4.1f} "
                     f"{hq['mean']:6.3f} ± {hq['std']:.3f}  {len(modes['values'])}")
    return "\n".join(lines)


def _train_variant(cfg, run, strat, name, setting, seed):
    """Train one variant with one seed; returns (result dict, model or None, samples or None)."""
    import numpy as np

    from recipes._gan_common import loss_curves_callback
    from tfgm.training import TrainingDiverged

    stage = name if seed == cfg.seed else f"{name}_seed{seed}"
    cfg = dataclasses.replace(cfg, seed=seed)
    with strat.scope():
        init = mode_coverage(np.asarray(_build(cfg, setting).sample(cfg.eval_samples, seed=seed)), cfg.std,
                             cfg.mode_min_fraction)
    curves = loss_curves_callback(os.path.join(run.images_dir, f"{stage}_loss_curves.png"))
    fit = {"x": _datasets(cfg, setting["n_critic"]), "epochs": cfg.stage_epochs(cfg.variant_epochs),
           "steps_per_epoch": cfg.steps_per_epoch}
    try:
        model = train_stage(run, strat, stage, lambda: _build(cfg, setting), fit, [curves])
    except TrainingDiverged as exc:
        print(f"\n[{stage}] stopped: {exc}", file=sys.stderr)
        diverged = {"diverged": str(exc), "seed": seed, "init": init, "modes_covered": 0, "high_quality_share": 0.0}
        return diverged, None, None
    samples = np.asarray(model.sample(cfg.eval_samples, seed=seed))
    result = {**mode_coverage(samples, cfg.std, cfg.mode_min_fraction), "seed": seed, "init": init,
              "settings": {k: v for k, v in setting.items() if k != "make_optimizers"}}
    _figure(os.path.join(run.images_dir, f"{stage}_samples.png"), [(stage, samples)], cfg)
    return result, model, samples


def main(argv=None):
    from recipes._gan_common import merge_repeated

    cfg = parse_config(Config, __doc__, merge_repeated(sys.argv[1:] if argv is None else argv))
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    from recipes._gan_common import describe, gan_settings
    from tfgm.training import set_seed, strategy

    started = time.time()
    if cfg.data != "grid25":
        print(f"\ndata: {RECIPE} trains on its built-in 2-D mixture 'grid25', not {cfg.data!r}", file=sys.stderr)
        return 2
    if cfg.seeds < 1:
        print(f"\n--seeds must be >= 1, got {cfg.seeds}", file=sys.stderr)
        return 2
    try:
        settings = {name: gan_settings(cfg, name) for name in cfg.variant}
    except ValueError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 2
    set_seed(cfg.seed, cfg.deterministic)
    strat = strategy(cfg.strategy)
    run = start_run(cfg, RECIPE, strat)
    results, models, panels = {}, {}, []
    for name, setting in settings.items():
        print(f"[{name}] {describe(setting, batch_norm=False)}")
        runs = {}
        for seed in range(cfg.seed, cfg.seed + cfg.seeds):
            runs[seed], model, samples = _train_variant(cfg, run, strat, name, setting, seed)
            if seed == cfg.seed and model is not None:
                models[name], shown = model, samples
        results[name] = {**runs[cfg.seed], "over_seeds": over_seeds(runs),
                         "other_seeds": {seed: r for seed, r in runs.items() if seed != cfg.seed}}
        if name in models:
            panels.append((panel_title(name, results[name]["over_seeds"], cfg.seed), shown))
    if panels:
        _figure(os.path.join(run.images_dir, "all_variants_samples.png"), panels, cfg)
    run.write_metrics({"variants": results, "definitions": {
        "data": f"25 Gaussians, std {cfg.std}, centres {{-4, -2, 0, 2, 4}}²",
        "high_quality": "sample within 3σ of its nearest mode centre",
        "covered": f"mode with ≥ {cfg.mode_min_fraction} × samples/25 high-quality samples",
        "samples": cfg.eval_samples}})
    status = 1 if any(r["over_seeds"]["diverged_seeds"] for r in results.values()) else 0
    if cfg.export and models and run.is_chief:
        status = max(status, export_models(run, models))
    print()
    print(summary_table(results))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status


if __name__ == "__main__":
    sys.exit(main())
