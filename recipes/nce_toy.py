"""Noise-contrastive estimation against maximum likelihood on a 1-D density whose normalizers can be known exactly
(Gutmann & Hyvärinen 2010; thesis §1.2.2; METHODS.md §4: logistic regression of data against ν noise samples with
logit log p_θ(x) − log(ν p_n(x)), log Z learned).

Data: --train-points draws of the two-Gaussian mixture ½N(−2, 0.5²) + ½N(1.5, 0.8²). For each ν in --noise-ratios
and each of --repeats seeds, an unnormalized model log p(x) = −E(x) − c (E: a tanh MLP of --hidden units plus a
non-negative quadratic term, tfgm.nets.energy_nets.mlp_energy; c learned) is fit by NCE (tfgm.models.NCE) against
a Gaussian noise fitted to the data. The model's true log Z = log ∫ exp(−E) comes from quadrature on a fine grid
(tfgm.metrics.log_partition_on_grid), so the learned c can be checked: NCE's consistency says c → log Z, and its
variance falls toward maximum likelihood's as ν grows. The maximum-likelihood reference is a --ml-components
Gaussian mixture (tfgm.models.MixtureDensity, normalized by construction; the true family) on the same data.
Scores: learned − true log Z, total variation to the true density (the model normalized by its true log Z), test
log-likelihood with the learned c, beside ML's and the true density's. Writes images/nce_log_z.png (log Z error
and total variation against ν; the fitted densities against the truth), metrics.json and the summary table;
exports the largest-ν NCE model of the first seed and the ML mixture.

    python -m recipes.nce_toy --quick                         # one seed per ν, under a minute on a CPU
    python -m recipes.nce_toy --noise-ratios 1 5 25 100 --repeats 5
"""

import dataclasses
import os
import sys

from recipes import _nce_toy_report as report
from recipes._cli import CommonConfig
from recipes._experiment import Experiment
from tfgm.data import bimodal


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="bimodal", metadata={
        "help": "bimodal: ½N(−2, 0.5²) + ½N(1.5, 0.8²), generated in code (the only choice)"})
    noise_ratios: tuple[int, ...] = dataclasses.field(default=(1, 5, 25), metadata={
        "help": "noise samples ν (≥ 1) per data point, one NCE model (per seed) each"})
    repeats: int = dataclasses.field(default=3, metadata={"help": "seeds per ν (seed, seed + 1, ...)", "min": 1})
    train_points: int = dataclasses.field(default=2000, metadata={"help": "training draws", "min": 2})
    test_points: int = dataclasses.field(default=10_000, metadata={"help": "held-out draws", "min": 1})
    hidden: tuple[int, ...] = dataclasses.field(default=(32, 32), metadata={
        "help": "tanh MLP layer widths of E (≥ 1)"})
    ml_components: int = dataclasses.field(default=2, metadata={"help": "Gaussians of the ML mixture", "min": 1})
    batch_size: int = dataclasses.field(default=200, metadata={"help": "data points per step (both methods)"})
    learning_rate: float = dataclasses.field(default=0.01, metadata={"help": "Adam learning rate (both methods)"})
    train_epochs: int = dataclasses.field(default=4, metadata={"help": "epochs of each model", "min": 1})
    steps_per_epoch: int = dataclasses.field(default=500, metadata={"help": "steps per epoch", "min": 1})
    grid_points: int = dataclasses.field(default=4000, metadata={
        "help": "quadrature cells over data mean ± 12 data std", "min": 100})

    @staticmethod
    def quick_overrides():
        """--quick: one seed per ν, 2 × 300 steps."""
        return {"repeats": 1, "train_epochs": 2, "steps_per_epoch": 300}


def _nce(cfg, nu, seed, points):
    import keras

    from tfgm.models import NCE
    from tfgm.nets import energy_nets

    keras.utils.set_random_seed(seed)
    model = NCE(energy_nets.mlp_energy(1, cfg.hidden), noise_ratio=nu, seed=seed, name=f"nce_nu{nu}_s{seed}")
    model.fit_noise(points)
    model.compile(keras.optimizers.Adam(cfg.learning_rate))
    return model


def _ml(cfg, points):
    import keras

    from tfgm.models import MixtureDensity

    keras.utils.set_random_seed(cfg.seed)
    model = MixtureDensity(cfg.ml_components, 1, seed=cfg.seed, name=f"ml_k{cfg.ml_components}")
    model.initialize_from(points)
    model.compile(keras.optimizers.Adam(cfg.learning_rate))
    return model


class NceToy(Experiment):
    recipe, config, description = "nce_toy", Config, __doc__
    stage_flags = {"grid_points": (), "test_points": ()}

    def epoch_flag(self, stage):
        """Every stage (an NCE model per ν and seed, the ML mixture) trains --train-epochs."""
        return "train_epochs"

    def check(self, cfg):
        if cfg.learning_rate <= 0:
            raise ValueError(f"--learning-rate {cfg.learning_rate}: must be > 0")
        for flag, values in (("--noise-ratios", cfg.noise_ratios), ("--hidden", cfg.hidden)):
            if min(values) < 1:
                raise ValueError(f"{flag} {' '.join(map(str, values))}: each must be ≥ 1")
        if len(set(cfg.noise_ratios)) != len(cfg.noise_ratios):
            raise ValueError(f"--noise-ratios {' '.join(map(str, cfg.noise_ratios))}: each ν once")
        if cfg.ml_components > cfg.train_points:
            raise ValueError(f"--ml-components {cfg.ml_components}: at most --train-points ({cfg.train_points})")

    def load(self, cfg):
        from tfgm.data import DataError

        if cfg.data != "bimodal":
            raise DataError(f"{self.recipe} fits its built-in 1-D density 'bimodal', not {cfg.data!r}")
        return {"train": bimodal.sample(cfg.train_points, cfg.seed),
                "test": bimodal.sample(cfg.test_points, (cfg.seed, 2))}

    def seeds(self):
        return [self.cfg.seed + r for r in range(self.cfg.repeats)]

    def train(self, data):
        import tensorflow as tf

        cfg, points, models = self.cfg, data["train"], {}

        def fit(key):
            dataset = tf.data.Dataset.from_tensor_slices({key: points}).shuffle(len(points), seed=cfg.seed)
            return {"x": dataset.repeat().batch(cfg.batch_size, drop_remainder=True),
                    "epochs": cfg.stage_epochs(cfg.train_epochs), "steps_per_epoch": cfg.steps_per_epoch}

        for seed in self.seeds():
            for nu in cfg.noise_ratios:
                name = f"nce_nu{nu}_s{seed}"
                models[name] = self.stage(name, lambda nu=nu, seed=seed: _nce(cfg, nu, seed, points), fit("image"))
        name = f"ml_k{cfg.ml_components}"
        models[name] = self.stage(name, lambda: _ml(cfg, points), fit("y"))
        return models

    def exports(self, models):
        cfg = self.cfg
        return {name: models[name] for name in (f"nce_nu{max(cfg.noise_ratios)}_s{cfg.seed}",
                                                f"ml_k{cfg.ml_components}")}

    def evaluate(self, models, data):
        import numpy as np

        from tfgm.metrics import log_densities_on_grid, log_partition_on_grid, total_variation_on_grid

        cfg, test = self.cfg, data["test"]
        center, spread = float(data["train"].mean()), float(data["train"].std())
        box = [(center - 12 * spread, center + 12 * spread)]
        truth, cell = log_densities_on_grid(bimodal.log_density, box, cfg.grid_points)
        runs, curves = {}, {}
        for nu in cfg.noise_ratios:
            runs[str(nu)] = []
            for seed in self.seeds():
                model = models[f"nce_nu{nu}_s{seed}"]
                true_log_z = log_partition_on_grid(model.energy_of, box, cfg.grid_points)
                log_p, _ = log_densities_on_grid(lambda x: -model.energy_of(x).numpy() - true_log_z, box,
                                                 cfg.grid_points)
                runs[str(nu)].append({"seed": seed, "log_z_learned": float(model.log_z),
                                      "log_z_true": true_log_z, "log_z_error": float(model.log_z) - true_log_z,
                                      "total_variation": total_variation_on_grid(log_p, truth, cell),
                                      "test_log_likelihood": float(np.mean(model.log_prob(test))),
                                      "test_log_likelihood_true_z": float(np.mean(-model.energy_of(test)))
                                      - true_log_z})
                curves.setdefault(f"NCE ν = {nu}", log_p)
        ml = models[f"ml_k{cfg.ml_components}"]
        ml_log_p, _ = log_densities_on_grid(lambda x: ml.log_prob(x).numpy(), box, cfg.grid_points)
        curves[f"ML, {cfg.ml_components} Gaussians"] = ml_log_p
        noise_model = models[f"nce_nu{cfg.noise_ratios[0]}_s{cfg.seed}"]
        noise, _ = log_densities_on_grid(lambda x: noise_model.noise_log_prob(x).numpy(), box, cfg.grid_points)
        nce, ml_tv = {nu: report.aggregate(r) for nu, r in runs.items()}, total_variation_on_grid(ml_log_p, truth, cell)
        figure = report.log_z_figure(os.path.join(self.run.images_dir, "nce_log_z.png"), cfg, nce, runs, box, truth,
                                     noise, curves, ml_tv)
        return {"nce": nce, "nce_runs": runs,
                "ml": {"total_variation": ml_tv, "test_log_likelihood": float(np.mean(ml.log_prob(test)))},
                "true_test_log_likelihood": float(np.mean(bimodal.log_density(test))),
                "protocol": {"true_log_z": f"midpoint rule, {cfg.grid_points} cells over [{box[0][0]:.2f}, "
                                           f"{box[0][1]:.2f}] (data mean ± 12 std)",
                             "total_variation": "½∫|p − p_true| on the same grid, NCE normalized by its true log Z",
                             "test_log_likelihood": f"mean nats over {len(test)} held-out draws; NCE with its "
                                                    f"learned c (and _true_z: with its true log Z)",
                             "repeats": cfg.repeats,
                             "steps": cfg.stage_epochs(cfg.train_epochs) * cfg.steps_per_epoch,
                             "train_points": cfg.train_points},
                "images": [os.path.relpath(figure, self.run.path)]}

    def summary(self, models, metrics):
        return report.summary_table(metrics, self.cfg.train_points, self.cfg.repeats)


main = NceToy().main


if __name__ == "__main__":
    sys.exit(main())
