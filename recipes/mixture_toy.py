"""Mixture models (thesis eq. 1.17, q(x) = Σ_k π_k q_k(x)): more modes only by more components.

1. A K-component diagonal Gaussian mixture (tfgm.models.MixtureDensity) fit by maximum likelihood (Adam on the
   mean negative log-likelihood; means started at K data points) to the 2-D mixture of 25 Gaussians (σ = 0.05 on
   the grid {-4, -2, 0, 2, 4}², the GANs' mode-coverage probe, tfgm.data "gaussian_grid_25"), for each
   K in --components (default 1, 5, 25, 50). Scores: test log-likelihood (nats per point, beside the true
   mixture's) and mode coverage of --eval-samples draws (tfgm.metrics.mode_coverage: a draw is high quality
   within 3σ of a centre; a mode is covered with ≥ --mode-min-fraction of its fair share of them).
2. A mixture density network (Bishop 1994) on his 1-D multi-valued regression: t ~ U(0, 1),
   x = t + 0.3 sin(2πt) + U(−0.1, 0.1), predict t from x (up to three t per x). An MLP gives the mixture's
   parameters; --mdn-components K against K = 1 (a Gaussian regression: its mean falls between the branches).
   Scores: test log-likelihood and the share of draws t̂ consistent with their x (|x − t̂ − 0.3 sin 2πt̂| ≤ 0.1).
Writes images/grid_mixtures.png (draws of each K over the modes), images/mdn.png, metrics.json, the models.

    python -m recipes.mixture_toy --quick          # fewer steps, the same K
    python -m recipes.mixture_toy --components 1 25 100
"""

import dataclasses
import math
import os
import sys

from recipes._cli import CommonConfig
from recipes._data_help import GRID25
from recipes._experiment import Experiment
from recipes._mixture_toy_report import mdn_figure, summary_table


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="grid25", metadata={
        "help": f"{GRID25}; the MDN's data are generated too"})
    components: tuple[int, ...] = dataclasses.field(default=(1, 5, 25, 50), metadata={
        "help": "mixture sizes K fit to the grid"})
    std: float = dataclasses.field(default=0.05, metadata={"help": "std σ of each grid Gaussian"})
    train_points: int = dataclasses.field(default=20_000, metadata={"help": "grid training points"})
    batch_size: int = dataclasses.field(default=1000, metadata={"help": "batch of every step"})
    learning_rate: float = dataclasses.field(default=0.02, metadata={"help": "Adam learning rate (both parts)"})
    mixture_epochs: int = dataclasses.field(default=4, metadata={"help": "epochs of each grid mixture"})
    steps_per_epoch: int = dataclasses.field(default=500, metadata={"help": "steps per epoch (both parts)"})
    eval_samples: int = dataclasses.field(default=2500, metadata={"help": "draws scored for mode coverage"})
    test_points: int = dataclasses.field(default=10_000, metadata={"help": "held-out points of each log-likelihood"})
    mode_min_fraction: float = dataclasses.field(default=0.2, metadata={
        "help": "a mode is covered with ≥ this fraction of its fair share (eval_samples/25) of HQ draws"})
    mdn_components: int = dataclasses.field(default=5, metadata={"help": "K of the MDN (compared with K = 1)"})
    mdn_hidden: tuple[int, ...] = dataclasses.field(default=(64, 64), metadata={"help": "MDN's tanh MLP layers"})
    mdn_points: int = dataclasses.field(default=5000, metadata={"help": "MDN training points"})
    mdn_epochs: int = dataclasses.field(default=4, metadata={"help": "epochs of each MDN"})

    @staticmethod
    def quick_overrides():
        """--quick: the same K, 2 × 250 steps each."""
        return {"mixture_epochs": 2, "mdn_epochs": 2, "steps_per_epoch": 250}


def _grid_mixture(cfg, k, points):
    import keras

    from tfgm.models import MixtureDensity

    keras.utils.set_random_seed(cfg.seed)
    model = MixtureDensity(k, 2, seed=cfg.seed, name=f"grid_k{k}")
    model.initialize_from(points)
    model.compile(keras.optimizers.Adam(cfg.learning_rate))
    return model


def _mdn(cfg, k):
    import keras

    from tfgm.losses import gaussian_mixture_head_size
    from tfgm.models import MixtureDensity

    keras.utils.set_random_seed(cfg.seed)
    layers = [keras.Input((1,), name="x")] + [keras.layers.Dense(u, activation="tanh") for u in cfg.mdn_hidden]
    network = keras.Sequential(layers + [keras.layers.Dense(gaussian_mixture_head_size(k, 1))], name=f"mlp_k{k}")
    model = MixtureDensity(k, 1, network=network, seed=cfg.seed, name=f"mdn_k{k}")
    model.compile(keras.optimizers.Adam(cfg.learning_rate / 4))
    return model


def _fit(dataset, cfg, epochs):
    return {"x": dataset.repeat().batch(cfg.batch_size, drop_remainder=True), "epochs": cfg.stage_epochs(epochs),
            "steps_per_epoch": cfg.steps_per_epoch}


class MixtureToy(Experiment):
    recipe, config = "mixture_toy", Config

    def check(self, cfg):
        if not cfg.components or min(cfg.components) < 1 or cfg.mdn_components < 2:
            raise ValueError("--components must be >= 1 each and --mdn-components >= 2 (it is compared with K = 1)")
        if max(cfg.components) > cfg.train_points:
            raise ValueError(f"--train-points ({cfg.train_points}) must be >= the largest --components")
        if cfg.std <= 0 or cfg.eval_samples < 25 or cfg.test_points < 1:
            raise ValueError("--std must be > 0, --eval-samples >= 25 and --test-points >= 1")

    def load(self, cfg):
        """{"grid": (train [N, 2], test [M, 2]), "bishop": ((x, t) train, (x, t) test)}."""
        from tfgm.data import DataError, bishop_inverse, gaussian_grid

        if cfg.data != "grid25":
            raise DataError(f"{self.recipe} fits its built-in 2-D mixture 'grid25', not {cfg.data!r}")
        return {"grid": (gaussian_grid.sample(cfg.train_points, cfg.std, cfg.seed),
                         gaussian_grid.sample(cfg.test_points, cfg.std, (cfg.seed, 2))),
                "bishop": (bishop_inverse.sample(cfg.mdn_points, cfg.seed),
                           bishop_inverse.sample(cfg.test_points, (cfg.seed, 2)))}

    def train(self, data):
        import tensorflow as tf

        cfg, models = self.cfg, {}
        points = data["grid"][0]
        grid = tf.data.Dataset.from_tensor_slices({"y": points}).shuffle(len(points), seed=cfg.seed)
        for k in dict.fromkeys(cfg.components):
            models[f"grid_k{k}"] = self.stage(f"grid_k{k}", lambda k=k: _grid_mixture(cfg, k, points),
                                              _fit(grid, cfg, cfg.mixture_epochs))
        x, t = data["bishop"][0]
        bishop = tf.data.Dataset.from_tensor_slices({"x": x, "y": t}).shuffle(len(x), seed=cfg.seed)
        for k in (1, cfg.mdn_components):
            models[f"mdn_k{k}"] = self.stage(f"mdn_k{k}", lambda k=k: _mdn(cfg, k), _fit(bishop, cfg, cfg.mdn_epochs))
        return models

    def evaluate(self, models, data):
        import numpy as np

        from recipes._gan_callbacks import mode_scatter
        from tfgm.data import gaussian_grid
        from tfgm.data.bishop_inverse import consistent_share
        from tfgm.losses import gaussian_mixture_log_likelihood
        from tfgm.metrics.mode_coverage import mode_coverage

        cfg, test = self.cfg, data["grid"][1]
        centers = gaussian_grid.centers()
        true_ll = gaussian_mixture_log_likelihood(test, np.zeros(25, "float32"), centers,
                                                  np.full((25, 2), math.log(cfg.std), "float32"), None)
        grid, panels = {}, []
        for k in dict.fromkeys(cfg.components):
            model = models[f"grid_k{k}"]
            draws = model.sample(cfg.eval_samples, seed=cfg.seed).numpy()
            coverage = mode_coverage(draws, centers, cfg.std, cfg.mode_min_fraction)
            grid[str(k)] = {"test_log_likelihood": float(np.mean(model.log_prob(test))), **coverage}
            title = f"K = {k}: {coverage['modes_covered']}/25 modes, log-lik {grid[str(k)]['test_log_likelihood']:.2f}"
            panels.append((title, draws))
        scatter = os.path.join(self.run.images_dir, "grid_mixtures.png")
        mode_scatter(scatter, panels, cfg.std, cfg.seed)
        x, t = data["bishop"][1]
        mdn, shown = {}, {}
        for k in (1, cfg.mdn_components):
            model = models[f"mdn_k{k}"]
            draws = model.sample(seed=cfg.seed, x=x).numpy()
            mdn[str(k)] = {"test_log_likelihood": float(np.mean(model.log_prob(t, x))),
                           "consistent_share": consistent_share(x, draws)}
            shown[f"K = {k}: {mdn[str(k)]['consistent_share']:.2f} of draws consistent"] = (x[:2000], draws[:2000])
        mdn_png = mdn_figure(os.path.join(self.run.images_dir, "mdn.png"), x[:2000], t[:2000], shown)
        return {
            "grid": grid, "grid_true_mixture_log_likelihood": float(np.mean(true_ll)),
            "mdn": mdn, "mdn_true_data_consistent_share": consistent_share(x, t),
            "protocol": {"grid": f"25 Gaussians, σ {cfg.std}, centres {{-4, -2, 0, 2, 4}}²; log-likelihood: mean "
                                 f"nats per point over {cfg.test_points} held-out points; coverage: "
                                 f"{cfg.eval_samples} draws, high quality within 3σ, covered with ≥ "
                                 f"{cfg.mode_min_fraction} × draws/25 HQ draws",
                         "mdn": "Bishop (1994): t ~ U(0,1), x = t + 0.3 sin 2πt + U(−0.1, 0.1), p(t | x); consistent "
                                "draw: |x − t̂ − 0.3 sin 2πt̂| ≤ 0.1 and t̂ in [0, 1], one draw per test x",
                         "training": "maximum likelihood (Adam), diagonal Gaussian components"},
            "images": [os.path.relpath(p, self.run.path) for p in (scatter, mdn_png)],
        }

    def summary(self, models, metrics):
        return summary_table(metrics)


main = MixtureToy(description=__doc__).main

if __name__ == "__main__":
    sys.exit(main())
