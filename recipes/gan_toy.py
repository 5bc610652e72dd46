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

from recipes import gan_presets
from recipes._cli import CommonConfig
from recipes._data_help import GRID25
from recipes._experiment import Experiment
from recipes._gan_toy_report import over_seeds, panel_title, summary_table

ALL_VARIANTS = tuple(gan_presets.VARIANTS)


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="grid25", metadata={"help": GRID25})
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
    variant_epochs: int = dataclasses.field(default=10, metadata={"help": "epochs of each variant", "min": 1})
    steps_per_epoch: int = dataclasses.field(default=1000, metadata={"help": "generator steps per epoch", "min": 1})
    eval_samples: int = dataclasses.field(default=2500, metadata={"help": "samples scored for mode coverage"})
    mode_min_fraction: float = dataclasses.field(default=0.2, metadata={
        "help": "a mode is covered with ≥ this fraction of its fair share (eval_samples/25) of HQ samples"})
    seeds: int = dataclasses.field(default=1, metadata={
        "help": "train each variant with seeds seed, seed+1, …; the summary gives mean ± std over them"})

    @staticmethod
    def quick_overrides():
        """--quick: every variant, 2 × 300 steps."""
        return {"variant_epochs": 2, "steps_per_epoch": 300}


class GanToy(Experiment):
    recipe, config, description = "gan_toy", Config, __doc__
    stage_flags = {"eval_samples": (), "mode_min_fraction": ()}  # each variant's coverage is scored after its stage

    def epoch_flag(self, stage):
        """Every stage is a variant (with a seed) trained for --variant-epochs."""
        return "variant_epochs"

    def arguments(self, argv):
        return gan_presets.merge_repeated(argv)

    def check(self, cfg):
        if cfg.seeds < 1:
            raise ValueError(f"--seeds must be >= 1, got {cfg.seeds}")
        self.settings = {name: gan_presets.gan_settings(cfg, name) for name in cfg.variant}

    def load(self, cfg):
        """Nothing: the grid's points are drawn per seed in `train`."""
        from tfgm.data import DataError

        if cfg.data != "grid25":
            raise DataError(f"{self.recipe} trains on its built-in 2-D mixture 'grid25', not {cfg.data!r}")

    def train(self, data):
        cfg = self.cfg
        self.results, models, panels = {}, {}, []
        for name, setting in self.settings.items():
            print(f"[{name}] {gan_presets.describe(setting, batch_norm=False)}")
            runs = {}
            for seed in range(cfg.seed, cfg.seed + cfg.seeds):
                runs[seed], model, samples = self._train_variant(name, setting, seed)
                if seed == cfg.seed and model is not None:
                    models[name], shown = model, samples
            self.results[name] = {**runs[cfg.seed], "over_seeds": over_seeds(runs),
                                  "other_seeds": {seed: r for seed, r in runs.items() if seed != cfg.seed}}
            if name in models:
                panels.append((panel_title(name, self.results[name]["over_seeds"], cfg.seed), shown))
        if panels:
            from recipes._gan_callbacks import mode_scatter

            mode_scatter(os.path.join(self.run.images_dir, "all_variants_samples.png"), panels, cfg.std, cfg.seed)
        return models

    def _train_variant(self, name, setting, seed):
        """Train one variant with one seed; returns (result dict, model or None, samples or None)."""
        import numpy as np
        import tensorflow as tf

        from recipes._gan_callbacks import LossCurves, mode_scatter
        from tfgm.data import gaussian_grid
        from tfgm.training import TrainingDiverged

        stage = name if seed == self.cfg.seed else f"{name}_seed{seed}"
        cfg = dataclasses.replace(self.cfg, seed=seed)
        with self.strategy.scope():
            init = self._coverage(_build(cfg, setting).sample(cfg.eval_samples, seed=seed))
        points = gaussian_grid.load("train", seed=cfg.seed, num_examples=200_000, std=cfg.std)
        batches = points.shuffle(50_000, seed=cfg.seed).repeat().batch(cfg.batch_size * setting["n_critic"],
                                                                         drop_remainder=True)
        fit = {"x": batches.prefetch(tf.data.AUTOTUNE), "epochs": cfg.stage_epochs(cfg.variant_epochs),
               "steps_per_epoch": cfg.steps_per_epoch}
        curves = LossCurves(os.path.join(self.run.images_dir, f"{stage}_loss_curves.png"))
        try:
            model = self.stage(stage, lambda: _build(cfg, setting), fit, [curves])
        except TrainingDiverged as exc:
            print(f"\n[{stage}] stopped: {exc}", file=sys.stderr)
            self.diverged = True
            return {"diverged": str(exc), "seed": seed, "init": init, "modes_covered": 0,
                    "high_quality_share": 0.0}, None, None
        samples = np.asarray(model.sample(cfg.eval_samples, seed=seed))
        result = {**self._coverage(samples), "seed": seed, "init": init,
                  "settings": {k: v for k, v in setting.items() if k != "make_optimizers"}}
        mode_scatter(os.path.join(self.run.images_dir, f"{stage}_samples.png"), [(stage, samples)], cfg.std,
                     cfg.seed)
        return result, model, samples

    def _coverage(self, samples):
        import numpy as np

        from tfgm.data import gaussian_grid
        from tfgm.metrics.mode_coverage import mode_coverage

        return mode_coverage(np.asarray(samples), gaussian_grid.centers(), self.cfg.std, self.cfg.mode_min_fraction)

    def evaluate(self, models, data):
        cfg = self.cfg
        return {"variants": self.results, "definitions": {
            "data": f"25 Gaussians, std {cfg.std}, centres {{-4, -2, 0, 2, 4}}²",
            "high_quality": "sample within 3σ of its nearest mode centre",
            "covered": f"mode with ≥ {cfg.mode_min_fraction} × samples/25 high-quality samples",
            "samples": cfg.eval_samples}}

    def summary(self, models, metrics):
        return summary_table(self.results)

    def main(self, argv=None):
        """Exit status 1 when a seed of a variant diverged (the others still trained, scored and exported)."""
        self.diverged = False
        return max(super().main(argv), int(self.diverged))


def _build(cfg, settings):
    import keras

    from tfgm.models.gan import GAN
    from tfgm.nets import dcgan

    keras.utils.set_random_seed(cfg.seed)
    model = GAN(dcgan.mlp_generator(cfg.latent_dim, 2, cfg.hidden),
                dcgan.mlp_discriminator(2, cfg.hidden, spectral_norm=settings["spectral_norm"]),
                loss=settings["loss"], regularizers=settings["regularizers"], n_critic=settings["n_critic"],
                critic_batches="split", total_steps=cfg.stage_epochs(cfg.variant_epochs) * cfg.steps_per_epoch,
                seed=cfg.seed, name=settings["variant"])
    model.compile(*settings["make_optimizers"]())
    return model


main = GanToy().main

if __name__ == "__main__":
    sys.exit(main())
