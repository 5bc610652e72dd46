"""The Fortified Networks image experiment (thesis ch. 2; METHODS.md §2), shared by fortified_mnist,
fortified_fashion_mnist and fortified_cifar10, which differ only in their `Config` and `DatasetSpec`.

Each trains the adversarial-training baseline and the fortified network with the same attack, budget, seed and
initial classifier weights, calibrates the off-manifold threshold on clean validation data, evaluates (clean,
FGSM, PGD, black-box; detection of adversarial and out-of-distribution inputs with the raw and the chosen score;
gradient-masking checks; ε-sweep), writes PNGs and metrics.json, exports both models and prints a summary table.

The baseline is the same FortifiedClassifier train step (CE on clean + CE on adversarial inputs, smoothed labels)
on the same classifier whose fortified slot is a frozen identity (`tfgm.models.fortify.fortify_identity`): plain
adversarial training of the undefended architecture, exported like the fortified model (its reconstruction_error
is identically 0).
"""

import os

from recipes._experiment import Experiment
from recipes._fortified_attacks import train_attack
from recipes._fortified_config import BASELINE, FORTIFIED, check_config, resolve_eps
from recipes._fortified_data import fit_data, load_image_data


def builders(cfg, spec, num_classes, eps):
    """(build_baseline, build_fortified): same classifier, same initial weights (seeded), same attack."""
    import keras

    from tfgm.models import fortify
    from tfgm.models.fortify import fortify_identity
    from tfgm.nets import fortified_nets

    slot = fortified_nets.FORTIFY_AT[spec.net]
    common = {"attack": train_attack(cfg, eps), "label_smoothing": cfg.label_smoothing, "seed": cfg.seed}

    def classifier():
        keras.utils.set_random_seed(cfg.seed)
        extra = spec.net_kwargs(cfg) if spec.net_kwargs else {}
        return getattr(fortified_nets, spec.net)(spec.input_shape, num_classes=num_classes, **extra)

    def build_baseline():
        model = fortify_identity(classifier(), slot, name=BASELINE, **common)
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    def build_fortified():
        model = fortify(classifier(), [slot], hidden_units=cfg.dae_units, activation=cfg.dae_activation,
                        noise_stddev=cfg.noise_stddev, lambda_rec=cfg.lambda_rec, lambda_adv=cfg.lambda_adv,
                        rec_reduction=cfg.rec_reduction, score=cfg.score, name=FORTIFIED, **common)
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    return build_baseline, build_fortified


class FortifiedImages(Experiment):
    """An image recipe: `config` (a FortifiedConfig) and `spec` (a DatasetSpec; its `recipe` names the run)."""

    spec = None

    @property
    def recipe(self):
        return self.spec.recipe

    def check(self, cfg):
        check_config(cfg)

    def load(self, cfg):
        return load_image_data(cfg, self.spec.recipe, self.spec.input_shape)

    def train(self, data):
        cfg = self.cfg
        train, validation = fit_data(cfg, data)
        fit = {"x": train, "validation_data": validation, "epochs": cfg.stage_epochs(cfg.train_epochs)}
        build_baseline, build_fortified = builders(cfg, self.spec, data["num_classes"], resolve_eps(cfg, self.spec))
        models = {name: self.stage(name, build, fit)
                  for name, build in ((BASELINE, build_baseline), (FORTIFIED, build_fortified))}
        threshold = models[FORTIFIED].calibrate_threshold(validation, false_alarm_rate=cfg.false_alarm_rate)
        self.run.save_model(models[FORTIFIED], FORTIFIED)
        print(f"off-manifold threshold {threshold:.4g} (false-alarm rate {cfg.false_alarm_rate:g} on "
              f"{len(data['validation'][0])} clean validation examples)")
        return models

    def evaluate(self, models, data):
        from recipes._fortified_eval import evaluate_models
        from recipes._fortified_plots import plot_detection, plot_sweep, save_adversarial_grid
        from recipes._fortified_report import run_metrics

        cfg, spec, images_dir = self.cfg, self.spec, self.run.images_dir
        eps = resolve_eps(cfg, spec)
        results = evaluate_models(cfg, spec, models, data, eps)
        fortified = models[FORTIFIED]
        title = spec.recipe.replace("fortified_", "")
        images = [plot_sweep(os.path.join(images_dir, "eps_sweep.png"), results["sweep"], title)]
        images += plot_detection(images_dir, results["clean"], results["groups"], results["ood"], fortified.threshold,
                                 fortified.score, f"{cfg.attack}@{eps:g}", title)
        images.append(save_adversarial_grid(os.path.join(images_dir, "adversarial_examples.png"),
                                            results["first_clean"], results["recorders"][FORTIFIED]))
        return run_metrics(cfg, spec, eps, data, results, fortified,
                           [os.path.relpath(p, self.run.path) for p in images])

    def summary(self, models, metrics):
        from recipes._fortified_report import summary_table

        detection = metrics["detection"]
        return summary_table(metrics["table"], detection, metrics["gradient_masking"], detection["threshold"],
                             self.cfg)
