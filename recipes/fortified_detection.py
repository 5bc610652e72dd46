"""Fig. 2.4 of the thesis: a DAE in input space vs in hidden space, at several capacities (METHODS.md §2).

For each placement (input: the flattened pixels; hidden: the last of the MLP's 4 × 512 leaky-ReLU layers)
and each DAE width, a fortified MLP is trained with the fortified objective (adversarial examples from
--attack, λ_rec = λ_adv = 1 on the per-unit mean error, σ = 0.1) and evaluated on test data: the ratio of
the mean reconstruction error on adversarial inputs (the same attack, crafted white-box on that model) to
that on clean inputs (the thesis' figure), the detection AUROC of the raw summed error and of the model's
off-manifold score (--score), and clean/adversarial accuracy. Writes images/detection_ratio.png (ratio and
AUROC vs capacity, one line per placement and score) and metrics.json.

    python -m recipes.fortified_detection --quick            # built-in digits, a few minutes on a CPU
    python -m recipes.fortified_detection                    # TFDS mnist, FGSM ε=0.3
"""

import dataclasses
import os
import sys

from recipes._cli import CommonConfig
from recipes._data_help import NPZ_28, data_help
from recipes._experiment import Experiment
from recipes._fortified_detection_figure import detection_figure

RECIPE = "fortified_detection"
PLACEMENTS = ("input", "hidden")


@dataclasses.dataclass
class Config(CommonConfig):
    data: str = dataclasses.field(default="mnist", metadata={
        "help": data_help(("image", "label"), notes={"npz": NPZ_28})})
    capacities: tuple[int, ...] = dataclasses.field(default=(32, 64, 128, 256, 512), metadata={
        "help": "DAE hidden units to compare"})
    placements: tuple[str, ...] = dataclasses.field(default=PLACEMENTS, metadata={"help": "input and/or hidden"})
    mlp_hidden: tuple[int, ...] = dataclasses.field(default=(512, 512, 512, 512), metadata={
        "help": "widths of the MLP's hidden layers"})
    attack: str = dataclasses.field(default="fgsm", metadata={"help": "fgsm | pgd: training and measured attack"})
    eps: float = dataclasses.field(default=0.3, metadata={"help": "L∞ radius of the attack (pixel units)"})
    pgd_step_size: float = dataclasses.field(default=0.01, metadata={"help": "PGD step"})
    pgd_steps: int = dataclasses.field(default=40, metadata={"help": "PGD iterations"})
    learning_rate: float = dataclasses.field(default=1e-3, metadata={"help": "Adam learning rate"})
    batch_size: int = dataclasses.field(default=128, metadata={"help": "global batch size"})
    train_epochs: int = dataclasses.field(default=10, metadata={"help": "epochs of each model"})
    noise_stddev: float = dataclasses.field(default=0.1, metadata={"help": "σ of the DAE's training noise"})
    lambda_rec: float = dataclasses.field(default=1.0, metadata={"help": "weight of the clean reconstruction loss"})
    lambda_adv: float = dataclasses.field(default=1.0, metadata={
        "help": "weight of the adversarial reconstruction loss"})
    rec_reduction: str = dataclasses.field(default="mean", metadata={
        "help": "L_rec per example: mean over the state's units (the release) or sum (the thesis' ‖·‖²)"})
    score: str = dataclasses.field(default="cosine", metadata={
        "help": "off-manifold score besides raw: cosine | relative | raw (tfgm.metrics.off_manifold)"})
    label_smoothing: float = dataclasses.field(default=0.1, metadata={"help": "ε of the smoothed labels"})
    train_examples: int = dataclasses.field(default=0, metadata={
        "help": "use only this many training examples (0: all)"})
    validation_examples: int = dataclasses.field(default=0, metadata={"help": "validation examples (0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples (0: all)"})
    export: bool = dataclasses.field(default=False, metadata={"help": "also export every model (SavedModel + ONNX)"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in digits, three capacities, two epochs."""
        return {"data": "builtin_digits", "capacities": (16, 64, 256), "train_examples": 3000,
                "validation_examples": 300, "eval_examples": 500, "train_epochs": 2}


def _builder(cfg, placement, capacity, num_classes):
    import keras

    from recipes._fortified_attacks import train_attack
    from tfgm.models import fortify
    from tfgm.nets import fortified_nets

    def build():
        keras.utils.set_random_seed(cfg.seed)
        net = fortified_nets.mlp((28, 28, 1), hidden=tuple(cfg.mlp_hidden), num_classes=num_classes)
        slot = "flatten" if placement == "input" else f"dense{len(cfg.mlp_hidden)}"
        model = fortify(net, [slot], hidden_units=capacity, conv=False, noise_stddev=cfg.noise_stddev,
                        attack=train_attack(cfg, cfg.eps), lambda_rec=cfg.lambda_rec, lambda_adv=cfg.lambda_adv,
                        rec_reduction=cfg.rec_reduction, score=cfg.score, label_smoothing=cfg.label_smoothing,
                        seed=cfg.seed, name=f"{placement}_{capacity}")
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    return build


def _measure(cfg, model, x, y):
    """Raw error ratio, AUROC (raw and the model's score) and accuracies of one model under its training attack."""
    import numpy as np

    from tfgm import metrics

    attack = model.adversarial_examples
    advs = np.concatenate([attack(x[i:i + cfg.batch_size], y[i:i + cfg.batch_size], seed=cfg.seed).numpy()
                           for i in range(0, len(x), cfg.batch_size)])
    clean_probs, clean_scores = model.predict_scores(x, batch_size=cfg.batch_size)
    adv_probs, adv_scores = model.predict_scores(advs, batch_size=cfg.batch_size)
    clean, adv = clean_scores["raw"], adv_scores["raw"]
    clean_score, adv_score = clean_scores[model.score], adv_scores[model.score]
    return {"error_ratio": metrics.reconstruction_error_ratio(clean, adv),
            "auroc_raw": metrics.detection_auroc(clean, adv),
            "auroc": metrics.detection_auroc(clean_score, adv_score), "score": model.score,
            "clean_mean_error": float(clean.mean()), "adversarial_mean_error": float(adv.mean()),
            "clean_accuracy": float(np.mean(clean_probs.argmax(1) == y)),
            "adversarial_accuracy": float(np.mean(adv_probs.argmax(1) == y))}


class FortifiedDetection(Experiment):
    recipe, config = RECIPE, Config

    def check(self, cfg):
        from recipes._fortified_config import check_objective

        check_objective(cfg)
        if cfg.score == "cosine_confidence":
            raise ValueError("flags: --score cosine_confidence needs a calibrated threshold, which this sweep does not "
                             "set; use cosine, relative or raw")
        if set(cfg.placements) - set(PLACEMENTS) or not cfg.placements:
            raise ValueError(f"flags: --placements takes input and/or hidden, got {' '.join(cfg.placements)}")
        if not cfg.capacities or min(cfg.capacities) < 1 or not cfg.mlp_hidden:
            raise ValueError("flags: --capacities and --mlp-hidden need positive integers")

    def load(self, cfg):
        from recipes._fortified_data import load_image_data

        return load_image_data(cfg, RECIPE, (28, 28, 1))

    def train(self, data):
        from recipes._fortified_data import fit_data

        cfg = self.cfg
        train, validation = fit_data(cfg, data)
        fit = {"x": train, "validation_data": validation, "epochs": cfg.stage_epochs(cfg.train_epochs)}
        return {f"{placement}_{capacity}": self.stage(f"{placement}_{capacity}",
                                                      _builder(cfg, placement, capacity, data["num_classes"]), fit)
                for placement in cfg.placements for capacity in cfg.capacities}

    def evaluate(self, models, data):
        from recipes._fortified_attacks import train_attack

        cfg, (x_test, y_test) = self.cfg, data["test"]
        results = {}
        for name, model in models.items():
            placement, capacity = name.split("_")
            results.setdefault(placement, {})[capacity] = _measure(cfg, model, x_test, y_test)
        image = detection_figure(os.path.join(self.run.images_dir, "detection_ratio.png"), results, cfg)
        return {
            "data": cfg.data, "results": results,
            "protocol": {"attack": train_attack(cfg, cfg.eps), "test_examples": len(x_test),
                         "mlp_hidden": list(cfg.mlp_hidden), "input_space": "DAE on the flattened pixels (784-d)",
                         "hidden_space": f"DAE on dense{len(cfg.mlp_hidden)} (the release's slot, before the logits)",
                         "score": "error_ratio and auroc_raw: per-example Σ‖D(E(h)) − h‖²; auroc: the "
                                  f"'{cfg.score}' score (tfgm.metrics.off_manifold); noise-free; adversarial inputs "
                                  "crafted white-box on each model with its training attack",
                         "epochs": cfg.stage_epochs(cfg.train_epochs),
                         "reconstruction_loss": {"reduction": cfg.rec_reduction, "lambda_rec": cfg.lambda_rec,
                                                 "lambda_adv": cfg.lambda_adv}},
            "thesis_reference": {"figure": "fig. 2.4", "note": "the thesis plots this ratio for a DAE in input space "
                                 "vs hidden space over capacities; METHODS.md gives no numbers, compare the shape"},
            "images": [os.path.relpath(image, self.run.path)],
        }

    def summary(self, models, metrics):
        results = metrics["results"]
        header = "".join(f"{p + ' ratio':>14s} {p + ' AUROC raw':>17s} {p + ' AUROC ' + self.cfg.score:>20s}"
                         for p in results)
        lines = [f"{'DAE units':>9s} " + header]
        for capacity in self.cfg.capacities:
            lines.append(f"{capacity:9d} " + "".join(f"{results[p][str(capacity)]['error_ratio']:14.3f} "
                                                     f"{results[p][str(capacity)]['auroc_raw']:17.3f} "
                                                     f"{results[p][str(capacity)]['auroc']:20.3f}" for p in results))
        return "\n".join(lines)


main = FortifiedDetection(description=__doc__).main


if __name__ == "__main__":
    sys.exit(main())
