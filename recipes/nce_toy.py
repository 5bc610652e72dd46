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
import math
import os
import sys

from recipes._cli import CommonConfig
from recipes._experiment import Experiment

MIXTURE = {"weights": (0.5, 0.5), "means": (-2.0, 1.5), "stds": (0.5, 0.8)}  # the true density


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


def sample_data(n, seed):
    """n draws of the true mixture: [n, 1] float32."""
    import numpy as np

    rng = np.random.default_rng(seed)
    k = rng.choice(2, size=n, p=MIXTURE["weights"])
    return (np.asarray(MIXTURE["means"])[k] + np.asarray(MIXTURE["stds"])[k] * rng.standard_normal(n))[:, None] \
        .astype("float32")


def true_log_density(x):
    """log of the true mixture density: x [B, 1] → [B] float64."""
    import numpy as np

    x = np.asarray(x, np.float64)[:, 0]
    terms = [math.log(w) - 0.5 * ((x - m) / s) ** 2 - math.log(s * math.sqrt(2 * math.pi))
             for w, m, s in zip(MIXTURE["weights"], MIXTURE["means"], MIXTURE["stds"])]
    return np.logaddexp(*terms)


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
        return {"train": sample_data(cfg.train_points, cfg.seed), "test": sample_data(cfg.test_points, (cfg.seed, 2))}

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
        truth, cell = log_densities_on_grid(true_log_density, box, cfg.grid_points)
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
        nce, ml_tv = {nu: _aggregate(r) for nu, r in runs.items()}, total_variation_on_grid(ml_log_p, truth, cell)
        figure = _plot(os.path.join(self.run.images_dir, "nce_log_z.png"), cfg, nce, runs, box, truth, noise, curves,
                       ml_tv)
        return {"nce": nce, "nce_runs": runs,
                "ml": {"total_variation": ml_tv, "test_log_likelihood": float(np.mean(ml.log_prob(test)))},
                "true_test_log_likelihood": float(np.mean(true_log_density(test))),
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
        lines = [f"NCE on ½N(−2, 0.5²) + ½N(1.5, 0.8²), {self.cfg.train_points} points, mean ± std over "
                 f"{self.cfg.repeats} seed(s)",
                 f"{'model':16s} {'learned − true log Z':>22s} {'|error|':>8s} {'total var.':>11s} "
                 f"{'test LL, true Z':>16s} {'learned c':>10s}"]
        for nu, r in metrics["nce"].items():
            lines.append(f"{'NCE ν = ' + nu:16s} {r['log_z_error_mean']:+11.4f} ± {r['log_z_error_std']:.4f} "
                         f"{r['log_z_abs_error_mean']:8.4f} {r['total_variation_mean']:11.4f} "
                         f"{r['test_log_likelihood_true_z_mean']:16.4f} {r['test_log_likelihood_mean']:10.4f}")
        ml = metrics["ml"]
        lines.append(f"{'ML mixture':16s} {'(normalized)':>22s} {'':8s} {ml['total_variation']:11.4f} "
                     f"{ml['test_log_likelihood']:16.4f}")
        lines.append(f"{'true density':16s} {'':22s} {'':8s} {0.0:11.4f} {metrics['true_test_log_likelihood']:16.4f}")
        lines.append("(test LL in nats per point; with the learned c it is off by exactly the log Z error)")
        return "\n".join(lines)


def _aggregate(runs):
    """Mean and std over seeds of each score of one ν."""
    import numpy as np

    out = {}
    for key in ("log_z_error", "total_variation", "test_log_likelihood", "test_log_likelihood_true_z"):
        values = np.array([r[key] for r in runs])
        out[f"{key}_mean"], out[f"{key}_std"] = float(values.mean()), float(values.std())
    out["log_z_abs_error_mean"] = float(np.mean([abs(r["log_z_error"]) for r in runs]))
    return out


def _plot(path, cfg, nce, runs, box, truth, noise, curves, ml_tv):
    """Left: |learned − true log Z| and total variation against ν (each seed, and the mean); right: densities."""
    import numpy as np

    from tfgm.metrics import box_grid
    from tfgm.training import pyplot, save_figure

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11.5, 4.2))
    nus = [int(nu) for nu in nce]
    for key, label, color in (("log_z_error", "|learned − true log Z| (nats)", "tab:blue"),
                              ("total_variation", "total variation to the truth", "tab:orange")):
        for nu in nus:
            left.scatter([nu] * len(runs[str(nu)]), [abs(r[key]) for r in runs[str(nu)]], color=color, s=12,
                         alpha=0.5)
        means = [np.mean([abs(r[key]) for r in runs[str(nu)]]) for nu in nus]
        left.plot(nus, means, "o-", color=color, label=f"{label}, mean of {cfg.repeats} seed(s)")
    left.axhline(ml_tv, color="tab:orange", ls="--", lw=1, label="total variation of the ML mixture")
    left.set(xscale="log", yscale="log", xlabel="noise ratio ν (noise samples per data point)",
             ylabel="error", title="NCE: learned log Z against the model's true log Z")
    left.set_xticks(nus, [str(nu) for nu in nus])
    left.legend(fontsize=8)
    x = box_grid(box, cfg.grid_points)[0][:, 0]
    keep = (x > -5) & (x < 5)
    right.plot(x[keep], np.exp(truth[keep]), color="black", lw=2.5, label="true density")
    right.plot(x[keep], np.exp(noise[keep]), color="0.6", ls=":", label="NCE noise (fitted Gaussian)")
    for label, log_p in curves.items():
        right.plot(x[keep], np.exp(log_p[keep]), ls="--" if label.startswith("ML") else "-", lw=1.2, label=label)
    right.set(xlabel="x", ylabel="density", title="Fitted densities (NCE normalized by its true log Z)")
    right.legend(fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


main = NceToy().main


if __name__ == "__main__":
    sys.exit(main())
