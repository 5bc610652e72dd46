"""A deep energy-based model on digits: p(x) ∝ exp(−E(x)), trained by the positive minus the negative phase of the
log-likelihood gradient (thesis §1.2.2, eq. 1.28; METHODS.md §4), its negatives from short-run Langevin dynamics
started in a replay buffer (Du & Mordatch 2019; tfgm.models.EnergyModel).

E is Du & Mordatch's MNIST convnet (tfgm.nets.energy_nets.mnist_energy, --width filters, no spectral norm). Each
update draws --batch-size starting points from a --buffer-size replay buffer (--reinit of them fresh uniform noise),
runs --langevin-steps steps x ← clip(x − --step-size·∇E(x) + N(0, --noise-std²), 0, 1), puts the results back into
the buffer and descends mean E(data) − mean E(negatives) + --alpha·(mean E(data)² + mean E(negatives)²) with Adam
(β1 = 0, β2 = 0.999, as their code). Where METHODS.md is silent the defaults are Du & Mordatch's image settings;
their clip of each Langevin gradient to ±0.01 is not part of tfgm's sampler (the α term keeps gradients small).

Evaluation on --eval-examples test images (real values, or thresholded under --binarize), --eval-samples each of
  - samples: --sample-steps Langevin steps from uniform noise (what the exported `sample` endpoint does);
  - buffer samples: the same number of steps from replay-buffer rows (the persistent chains the model trained on);
  - uniform noise images;
writes their mean energies and the AUROC of the energy separating data from each (tfgm.metrics.detection_auroc:
P(E(other) > E(data)); 1 = the other always has higher energy, 0.5 = indistinguishable, the ideal for samples),
beside a blind baseline energy ‖x − mean training image‖², to metrics.json; images/samples.png (labelled rows) and
images/energy_histogram.png. Du & Mordatch give no MNIST numbers to compare with. Exports the model's `energy` and
`sample(n, steps, seed)` endpoints.

    python -m recipes.ebm_mnist --quick                 # built-in digits, a narrow net, about a minute on a CPU
    python -m recipes.ebm_mnist --train-epochs 20       # TFDS mnist, the paper's net and sampler
"""

import dataclasses
import os
import sys

from recipes import _ebm_mnist_report as report
from recipes._cli import CommonConfig
from recipes._experiment import Experiment


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="mnist", metadata={
        "help": "mnist (TFDS) | builtin_digits | npz (--data-path, x N×28×28[×1] in [0, 1]) | folder"})
    binarize: bool = dataclasses.field(default=False, metadata={
        "help": "threshold pixels at 0.5 (binarized digits) instead of the real values in [0, 1]"})
    width: int = dataclasses.field(default=64, metadata={"help": "filters of the energy net's first strided conv "
                                                                 "(Du & Mordatch: 64)", "min": 1})
    batch_size: int = dataclasses.field(default=128, metadata={"help": "data (and negatives) per update"})
    learning_rate: float = dataclasses.field(default=3e-4, metadata={"help": "Adam learning rate (their code's)"})
    train_epochs: int = dataclasses.field(default=20, metadata={"help": "epochs over the training images", "min": 1})
    train_examples: int = dataclasses.field(default=0, metadata={"help": "training images (0: all)", "min": 0})
    langevin_steps: int = dataclasses.field(default=60, metadata={"help": "Langevin steps per update", "min": 1})
    step_size: float = dataclasses.field(default=10.0, metadata={"help": "Langevin gradient step", "min": 0.0})
    noise_std: float = dataclasses.field(default=0.005, metadata={"help": "Langevin noise std", "min": 0.0})
    alpha: float = dataclasses.field(default=1.0, metadata={"help": "weight of the energy-magnitude regularizer",
                                                            "min": 0.0})
    buffer_size: int = dataclasses.field(default=10000, metadata={"help": "replay-buffer rows", "min": 1})
    reinit: float = dataclasses.field(default=0.05, metadata={
        "help": "share of chains restarted from uniform noise each update (0 to 1)", "min": 0.0})
    eval_examples: int = dataclasses.field(default=1000, metadata={"help": "test images scored (0: all)", "min": 0})
    eval_samples: int = dataclasses.field(default=256, metadata={
        "help": "samples of each kind (and noise images) scored", "min": 16})
    sample_steps: int = dataclasses.field(default=200, metadata={
        "help": "Langevin steps of the scored samples, from noise and from the buffer", "min": 1})

    @staticmethod
    def quick_overrides():
        """--quick: built-in digits, width 16, 20 Langevin steps, 3000 images × 3 epochs of batch 64."""
        return {"data": "builtin_digits", "width": 16, "batch_size": 64, "learning_rate": 1e-3, "train_epochs": 3,
                "train_examples": 3000, "langevin_steps": 20, "buffer_size": 3000, "eval_examples": 500,
                "sample_steps": 60}


class EbmMnist(Experiment):
    recipe, config, description = "ebm_mnist", Config, __doc__
    stage_flags = {"eval_examples": (), "eval_samples": (), "sample_steps": ()}
    epoch_flags = {"ebm": "train_epochs"}

    def check(self, cfg):
        if cfg.reinit > 1.0:
            raise ValueError(f"--reinit {cfg.reinit}: a share, must be in [0, 1]")
        if cfg.step_size <= 0.0 or cfg.learning_rate <= 0.0:
            raise ValueError(f"--step-size {cfg.step_size} and --learning-rate {cfg.learning_rate} must be > 0")
        if cfg.eval_samples > cfg.buffer_size:
            raise ValueError(f"--eval-samples {cfg.eval_samples}: at most --buffer-size ({cfg.buffer_size}), the "
                             f"buffer rows the buffer samples start from")

    def load(self, cfg):
        import numpy as np

        from recipes._data import batched, load_split

        def split(name, count):
            images = load_split(cfg, name, image_size=(28, 28), channels=1, num_examples=count)
            return images.map(lambda d: {"image": _binarized(d["image"]) if cfg.binarize else d["image"]})

        train = split("train", cfg.train_examples)
        test = np.concatenate([b["image"].numpy() for b in split("test", cfg.eval_examples).batch(1000)])
        mean = np.mean([b["image"].numpy().mean(0) for b in train.take(10_000).batch(1000)], axis=0)
        return {"train": batched(train, cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True), "test": test,
                "mean_image": mean}

    def train(self, data):
        import keras

        from tfgm.models import EnergyModel
        from tfgm.nets import energy_nets

        cfg = self.cfg

        def build():
            keras.utils.set_random_seed(cfg.seed)
            model = EnergyModel(energy_nets.mnist_energy(width=cfg.width), buffer_size=cfg.buffer_size,
                                reinit=cfg.reinit, langevin_steps=cfg.langevin_steps, step_size=cfg.step_size,
                                noise_std=cfg.noise_std, alpha=cfg.alpha, seed=cfg.seed, name="ebm")
            model.compile(keras.optimizers.Adam(cfg.learning_rate, beta_1=0.0, beta_2=0.999))
            return model

        return {"ebm": self.stage("ebm", build, {"x": data["train"], "epochs": cfg.stage_epochs(cfg.train_epochs)})}

    def evaluate(self, models, data):
        import numpy as np
        import tensorflow as tf

        from tfgm.metrics import detection_auroc
        from tfgm.models.energy_model import langevin

        cfg, model = self.cfg, models["ebm"]
        n, shape = cfg.eval_samples, data["test"].shape[1:]
        print(f"[ebm] {n} Langevin chains × {cfg.sample_steps} steps from noise and from the buffer ...", flush=True)
        images = {"data": data["test"],
                  "samples": tf.function(model.sample)(n, cfg.sample_steps, cfg.seed).numpy(),
                  "buffer_samples": tf.function(lambda start: langevin(
                      model.energy_of, start, cfg.sample_steps, model.step_size, model.noise_std,
                      tf.constant([cfg.seed, 7]), model.value_range))(model.buffer[:n]).numpy(),
                  "noise": np.random.default_rng(cfg.seed).random((n,) + shape, dtype=np.float32)}
        energy = {k: _energies(model, v) for k, v in images.items()}
        blind = {k: ((v - data["mean_image"]) ** 2).reshape(len(v), -1).sum(1) for k, v in images.items()}
        others = report.GROUPS[1:]
        histogram = report.energy_histogram(os.path.join(self.run.images_dir, "energy_histogram.png"), energy)
        grid = report.sample_rows(os.path.join(self.run.images_dir, "samples.png"), images, cfg.sample_steps)
        return {"energy": {k: {"mean": float(e.mean()), "std": float(e.std()), "count": int(len(e))}
                           for k, e in energy.items()},
                "auroc": {f"data_vs_{k}": detection_auroc(energy["data"], energy[k]) for k in others},
                "baseline_auroc": {f"data_vs_{k}": detection_auroc(blind["data"], blind[k]) for k in others},
                "protocol": {"auroc": "P(E(other) > E(data)) + ½P(tie) (Mann–Whitney), test images vs each group",
                             "baseline": "blind energy ‖x − mean training image‖²", "sample_steps": cfg.sample_steps,
                             "eval_samples": n, "test_images": int(len(data["test"])), "binarized": cfg.binarize},
                "images": [os.path.relpath(p, self.run.path) for p in (grid, histogram)]}

    def summary(self, models, metrics):
        return report.summary_table(metrics)


def _binarized(image):
    import tensorflow as tf

    return tf.cast(image > 0.5, tf.float32)


def _energies(model, images, batch=500):
    """E(x) [N] in batches: images [N, H, W, C]."""
    import numpy as np

    return np.concatenate([model.energy_of(images[i:i + batch]).numpy() for i in range(0, len(images), batch)])


main = EbmMnist().main


if __name__ == "__main__":
    sys.exit(main())
