"""Shared code of the Fortified Networks recipes (thesis ch. 2; METHODS.md §2).

The image recipes (fortified_mnist, fortified_fashion_mnist, fortified_cifar10) differ only in their
`Config` and `DatasetSpec`: each trains the adversarial-training baseline and the fortified network with
the same attack, budget, seed and initial classifier weights, calibrates the off-manifold threshold on
clean validation data, evaluates (clean, FGSM, PGD, black-box; detection of adversarial and
out-of-distribution inputs with the raw and the chosen score; gradient-masking checks; ε-sweep), writes
PNGs and metrics.json, exports both models and prints a summary table.

The baseline is the same FortifiedClassifier train step (CE on clean + CE on adversarial inputs, smoothed
labels) on the same classifier whose fortified slot is a frozen identity (linear tied autoencoder with
kernel I, no noise, λ = 0): so it is plain adversarial training of the undefended architecture, and it
exports like the fortified model (its reconstruction_error is identically 0).
"""

import dataclasses
import functools
import os
import sys
import time

import numpy as np

from recipes._cli import CommonConfig, parse_config
from recipes._run import export_models, start_run, train_stage
from tfgm.training.figures import pyplot, save_figure

BASELINE, FORTIFIED = "adversarial_training", "fortified"
MODEL_LABELS = {BASELINE: "adv. training", FORTIFIED: "fortified"}


@dataclasses.dataclass
class FortifiedConfig(CommonConfig):
    """Flags of the image recipes; defaults are the release's (METHODS.md §2). Subclasses set data/ε."""

    attack: str = dataclasses.field(default="fgsm", metadata={
        "help": "training attack, fgsm | pgd (the baseline and the fortified net use the same one)"})
    eps: float = dataclasses.field(default=0.0, metadata={
        "help": "L∞ radius of the training attack in [0, 1] pixel units (0: the thesis' ε for --attack)"})
    fgsm_eps: tuple[float, ...] = dataclasses.field(default=(0.3,), metadata={"help": "FGSM ε of the table"})
    pgd_eps: tuple[float, ...] = dataclasses.field(default=(0.1,), metadata={"help": "PGD ε of the table"})
    pgd_step_size: float = dataclasses.field(default=0.01, metadata={"help": "PGD step (training and table)"})
    pgd_steps: int = dataclasses.field(default=40, metadata={"help": "PGD iterations (training, table, sweep)"})
    pgd_restarts: int = dataclasses.field(default=1, metadata={"help": "PGD random restarts in the table"})
    learning_rate: float = dataclasses.field(default=1e-3, metadata={"help": "Adam learning rate"})
    batch_size: int = dataclasses.field(default=128, metadata={"help": "global batch size"})
    train_epochs: int = dataclasses.field(default=10, metadata={"help": "epochs of each model"})
    dae_units: int = dataclasses.field(default=256, metadata={"help": "hidden units of the fortified layer's DAE"})
    dae_activation: str = dataclasses.field(default="leaky_relu", metadata={"help": "DAE encoder activation"})
    noise_stddev: float = dataclasses.field(default=0.1, metadata={"help": "σ of the DAE's training noise"})
    lambda_rec: float = dataclasses.field(default=1.0, metadata={"help": "weight of the clean reconstruction loss"})
    lambda_adv: float = dataclasses.field(default=1.0, metadata={
        "help": "weight of the adversarial reconstruction loss"})
    rec_reduction: str = dataclasses.field(default="mean", metadata={
        "help": "L_rec per example: mean over the fortified state's units (the release) or sum (the thesis' "
                "‖·‖²); the model applies it (FortifiedClassifier rec_reduction)"})
    score: str = dataclasses.field(default="cosine", metadata={
        "help": "off-manifold score of the threshold, the export and the report: cosine | relative | raw "
                "(tfgm.metrics.off_manifold; raw is the thesis' summed error, always reported alongside)"})
    ood_examples: int = dataclasses.field(default=0, metadata={
        "help": "out-of-distribution inputs per set (another built-in dataset, uniform noise); 0: as many as "
                "test examples"})
    label_smoothing: float = dataclasses.field(default=0.1, metadata={"help": "ε of the smoothed labels"})
    false_alarm_rate: float = dataclasses.field(default=0.05, metadata={
        "help": "off-manifold threshold: fraction of clean validation inputs flagged"})
    blackbox: bool = dataclasses.field(default=False, metadata={
        "help": "Papernot black-box attack (substitute from label queries, FGSM at --eps transferred)"})
    blackbox_holdout: int = dataclasses.field(default=150, metadata={"help": "test points the adversary holds"})
    blackbox_rounds: int = dataclasses.field(default=6, metadata={"help": "Jacobian augmentation rounds"})
    blackbox_lambda: float = dataclasses.field(default=0.1, metadata={"help": "augmentation step λ"})
    blackbox_epochs: int = dataclasses.field(default=10, metadata={"help": "substitute epochs per round"})
    sweep_eps: tuple[float, ...] = dataclasses.field(default=(0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8, 1.0),
                                                     metadata={"help": "ε grid of the sweep (fig. 2.5)"})
    sweep_examples: int = dataclasses.field(default=1000, metadata={
        "help": "test examples of the ε-sweep and gradient-masking checks"})
    train_examples: int = dataclasses.field(default=0, metadata={
        "help": "use only this many training examples (0: all)"})
    validation_examples: int = dataclasses.field(default=0, metadata={
        "help": "validation examples (threshold calibration, monitoring; 0: all)"})
    eval_examples: int = dataclasses.field(default=0, metadata={"help": "test examples of the table (0: all)"})

    @staticmethod
    def quick_overrides():
        """--quick: built-in images, a small budget; proves the whole path in minutes on a 2-core CPU."""
        return {"train_examples": 3000, "validation_examples": 500, "eval_examples": 500, "train_epochs": 3,
                "sweep_examples": 200, "blackbox_epochs": 3, "blackbox_rounds": 4,
                "sweep_eps": (0.0, 0.1, 0.3, 0.6, 1.0)}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """What differs between the image recipes besides flag defaults."""

    recipe: str
    net: str  # builder in tfgm.nets.fortified_nets (its FORTIFY_AT slot is fortified)
    input_shape: tuple
    thesis_eps: dict  # attack → the thesis' training ε
    thesis: dict  # (attack, ε) → (adv. training %, fortified %, source)
    net_kwargs: object = None  # callable cfg → extra builder arguments, or None
    ood_data: str = "builtin_objects"  # a built-in dataset the model never sees, scored as out-of-distribution


def resolve_eps(cfg, spec):
    """The training ε: --eps, or the thesis' value for --attack."""
    return float(cfg.eps) if cfg.eps > 0 else float(spec.thesis_eps[cfg.attack])


SCORE_CHOICES = ("cosine", "relative", "raw")  # tfgm.metrics.off_manifold.SCORES (checked by a test)


def check_config(cfg):
    """A message for an invalid combination of flags, or None."""
    if cfg.rec_reduction not in ("mean", "sum"):
        return f"--rec-reduction must be mean or sum, got {cfg.rec_reduction!r}"
    if cfg.score not in SCORE_CHOICES:
        return f"--score must be one of {' | '.join(SCORE_CHOICES)}, got {cfg.score!r}"
    if cfg.ood_examples < 0:
        return f"--ood-examples must be >= 0, got {cfg.ood_examples}"
    if cfg.attack not in ("fgsm", "pgd"):
        return f"--attack must be fgsm or pgd, got {cfg.attack!r}"
    if not 0.0 <= cfg.eps <= 1.0 or any(not 0.0 <= e <= 1.0 for e in (*cfg.fgsm_eps, *cfg.pgd_eps, *cfg.sweep_eps)):
        return "every ε must be in [0, 1] (pixel units)"
    if not 0.0 <= cfg.false_alarm_rate < 1.0:
        return f"--false-alarm-rate must be in [0, 1), got {cfg.false_alarm_rate}"
    return None


# ----------------------------------------------------------------------------------------------- data


def load_arrays(dataset, batch=1000):
    """(images, labels) numpy arrays of an unbatched dict dataset."""
    xs, ys = [], []
    for b in dataset.batch(batch):
        xs.append(b["image"].numpy())
        ys.append(b["label"].numpy())
    if not xs:
        from tfgm.data import DataError

        raise DataError("the split yielded no examples; check --data-path or the *-examples flags")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int32)


def load_image_data(cfg, spec):
    """{"train": tf.data of {"image", "label"}, "validation"/"test": (x, y) arrays}, num_classes."""
    from recipes._data import load_split
    from tfgm.data import DataError

    size, channels = spec.input_shape[:2], spec.input_shape[2]
    splits = {split: load_split(cfg, split, image_size=size, channels=channels, num_examples=count)
              for split, count in (("train", cfg.train_examples), ("validation", cfg.validation_examples),
                                   ("test", cfg.eval_examples))}
    if "label" not in splits["train"].element_spec:
        raise DataError(f"{spec.recipe} trains a classifier and --data {cfg.data} has no class labels: give an "
                        "npz whose y is N integer labels")
    validation, test = load_arrays(splits["validation"]), load_arrays(splits["test"])
    if getattr(cfg, "blackbox", False) and len(test[0]) <= cfg.blackbox_holdout:
        raise DataError(f"--blackbox holds out the first {cfg.blackbox_holdout} test examples and needs more than "
                        f"that; the test split has {len(test[0])} (raise --eval-examples or use --no-blackbox)")
    num_classes = int(max(validation[1].max(), test[1].max())) + 1
    if min(validation[1].min(), test[1].min()) < 0 or num_classes < 2:
        raise DataError(f"--data {cfg.data}: labels must be integers 0..K-1 with K >= 2")
    train = splits["train"].map(lambda d: {"image": d["image"], "label": d["label"]})
    return {"train": train, "validation": validation, "test": test}, num_classes


def array_batches(x, y, batch_size):
    """[(x_batch, y_batch), ...] of numpy arrays."""
    return [(x[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(x), batch_size)]


def dict_dataset(x, y, batch_size):
    """Batched {"image", "label"} tf.data from arrays (in order)."""
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices({"image": x, "label": y}).batch(batch_size)


# ------------------------------------------------------------------------------------------- training


def train_attack(cfg, eps):
    """The FortifiedClassifier attack config of the training attack."""
    if cfg.attack == "fgsm":
        return {"name": "fgsm", "eps": eps}
    return {"name": "pgd", "eps": eps, "step_size": cfg.pgd_step_size, "steps": cfg.pgd_steps}


def builders(cfg, spec, num_classes, eps):
    """(build_baseline, build_fortified): same classifier, same initial weights (seeded), same attack."""
    import keras

    from tfgm.models import fortify
    from tfgm.nets import fortified_nets

    slot = fortified_nets.FORTIFY_AT[spec.net]
    common = {"attack": train_attack(cfg, eps), "label_smoothing": cfg.label_smoothing, "seed": cfg.seed}

    def classifier():
        keras.utils.set_random_seed(cfg.seed)
        extra = spec.net_kwargs(cfg) if spec.net_kwargs else {}
        return getattr(fortified_nets, spec.net)(spec.input_shape, num_classes=num_classes, **extra)

    def build_baseline():
        net = classifier()
        width = int(net.get_layer(slot).output.shape[-1])
        model = fortify(net, [slot], hidden_units=width, activation="linear", noise_stddev=0.0, lambda_rec=0.0,
                        lambda_adv=0.0, score="raw", name=BASELINE, **common)
        identity = model.network.get_layer(f"fortified_{slot}")
        identity.kernel.assign(np.eye(width, dtype="float32"))
        identity.trainable = False
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    def build_fortified():
        model = fortify(classifier(), [slot], hidden_units=cfg.dae_units, activation=cfg.dae_activation,
                        noise_stddev=cfg.noise_stddev, lambda_rec=cfg.lambda_rec, lambda_adv=cfg.lambda_adv,
                        rec_reduction=cfg.rec_reduction, score=cfg.score, name=FORTIFIED, **common)
        model.compile(keras.optimizers.Adam(cfg.learning_rate))
        return model

    return build_baseline, build_fortified


# ----------------------------------------------------------------------------------------- evaluation


class ScoreRecorder:
    """Wraps an attack (model, x, y) → x̃ for `robust_accuracy`, keeping what `scorer` returns for each x̃
    (the fortified model's off-manifold scores and predictions), the labels, and the first few x̃ (image grid)."""

    def __init__(self, attack, scorer, keep=8):
        self.attack, self.scorer, self.keep = attack, scorer, keep
        self.records, self.labels, self.examples = [], [], []

    def __call__(self, model, x, y):
        adv = self.attack(model, x, y)
        if self.scorer is not None:
            self.records.append(self.scorer(adv))
            self.labels.append(np.asarray(y))
        if sum(len(e) for e in self.examples) < self.keep:
            self.examples.append(adv.numpy()[: self.keep])
        return adv

    def result(self):
        """{"scores": {name: [N]}, "predictions": [N], "labels": [N]} over every batch seen."""
        return merge_records(self.records, np.concatenate(self.labels))


def merge_records(records, labels):
    """Concatenate the scorer's per-batch outputs: {"scores": {name: [N]}, "predictions": [N], "labels": [N]}."""
    names = records[0]["scores"]
    return {"scores": {n: np.concatenate([r["scores"][n] for r in records]) for n in names},
            "predictions": np.concatenate([r["predictions"] for r in records]), "labels": labels}


def make_scorer(model, batch_size):
    """x → {"scores": {"raw": [N], model.score: [N]}, "predictions": [N]} from the fortified model, noise-free."""
    names = list(dict.fromkeys(["raw", model.score]))

    def scorer(x):
        outputs = {n: model.predict_with_score(x, batch_size=batch_size, score=n) for n in names}
        return {"scores": {n: out[1] for n, out in outputs.items()},
                "predictions": outputs[model.score][0].argmax(-1)}

    return scorer


def table_attacks(cfg, eps, blackbox=None):
    """{row name: attack callable} of the thesis-style table: white-box FGSM/PGD at the table's ε plus the
    training attack at its ε, then the black-box attack if given."""
    from tfgm.attacks import fgsm, pgd

    fgsm_eps, pgd_eps = list(dict.fromkeys(cfg.fgsm_eps)), list(dict.fromkeys(cfg.pgd_eps))
    for attack, grid in (("fgsm", fgsm_eps), ("pgd", pgd_eps)):
        if cfg.attack == attack and eps not in grid:
            grid.append(eps)
    attacks = {f"fgsm@{e:g}": functools.partial(fgsm, eps=e) for e in fgsm_eps}
    for e in pgd_eps:
        attacks[f"pgd@{e:g}"] = functools.partial(pgd, eps=e, step_size=cfg.pgd_step_size, steps=cfg.pgd_steps,
                                                  restarts=cfg.pgd_restarts, seed=cfg.seed)
    if blackbox is not None:
        attacks[f"blackbox_fgsm@{eps:g}"] = blackbox
    return attacks


def blackbox_attack(cfg, spec, model, holdout, num_classes, eps):
    """FGSM at `eps` crafted on a Papernot substitute of `model` (trained from its labels on `holdout`)."""
    import keras

    from tfgm.attacks import blackbox_substitute, fgsm, transfer
    from tfgm.nets import fortified_nets

    def substitute():
        keras.utils.set_random_seed(cfg.seed + 1)
        return fortified_nets.mlp(spec.input_shape, hidden=(200, 200), num_classes=num_classes, name="substitute")

    sub = blackbox_substitute(model, substitute, holdout, rounds=cfg.blackbox_rounds, lmbda=cfg.blackbox_lambda,
                              epochs_per_round=cfg.blackbox_epochs)
    return transfer(sub, fgsm, eps=eps)


def evaluate(cfg, spec, models, data, num_classes, eps):
    """Table accuracies, detection scores, black-box, gradient-masking reports and the ε-sweep."""
    from tfgm import metrics
    from tfgm.attacks import fgsm

    fortified = models[FORTIFIED]
    x_test, y_test = data["test"]
    holdout = None
    if cfg.blackbox:
        cut = cfg.blackbox_holdout
        holdout, x_test, y_test = x_test[:cut], x_test[cut:], y_test[cut:]
    batches = array_batches(x_test, y_test, cfg.batch_size)
    scorer = make_scorer(fortified, cfg.batch_size)
    out = {"accuracy": {}, "recorders": {}, "masking": {}, "sweep": {"eps": sorted(set(cfg.sweep_eps) | {eps})}}
    for name, model in models.items():
        print(f"[{name}] evaluating on {len(x_test)} test examples ...")
        substitute = blackbox_attack(cfg, spec, model, holdout, num_classes, eps) if cfg.blackbox else None
        attacks = table_attacks(cfg, eps, substitute)
        recorders = {row: ScoreRecorder(a, scorer if name == FORTIFIED else None) for row, a in attacks.items()}
        out["accuracy"][name] = metrics.robust_accuracy(model, batches, recorders)
        out["recorders"][name] = recorders
        sweep_batches = array_batches(x_test[:cfg.sweep_examples], y_test[:cfg.sweep_examples], cfg.batch_size)
        blackbox_acc = out["accuracy"][name].get(f"blackbox_fgsm@{eps:g}")
        report = metrics.gradient_masking_report(model, sweep_batches, eps=eps, eps_grid=cfg.sweep_eps,
                                                 steps=cfg.pgd_steps, blackbox_accuracy=blackbox_acc, seed=cfg.seed)
        out["masking"][name] = report
        fgsm_acc = metrics.robust_accuracy(model, sweep_batches,
                                           {f"{e:g}": functools.partial(fgsm, eps=e) for e in out["sweep"]["eps"]})
        out["sweep"][name] = {"pgd": [report["pgd_accuracy"][f"{e:g}"] for e in out["sweep"]["eps"]],
                              "fgsm": [fgsm_acc[f"{e:g}"] for e in out["sweep"]["eps"]]}
    out["sweep"]["num_examples"] = out["masking"][FORTIFIED]["num_examples"]
    out["clean"] = merge_records([scorer(x_test)], y_test)
    out["ood"] = {name: merge_records([scorer(x)], None) for name, x in ood_sets(cfg, spec, len(x_test)).items()}
    out["first_clean"] = x_test[:8]
    out["num_test"] = len(x_test)
    out["groups"] = {row: rec.result() for row, rec in out["recorders"][FORTIFIED].items()}
    out["detection"] = detection_summary(fortified, out["clean"], out["groups"], out["ood"])
    return out


def ood_sets(cfg, spec, count):
    """{"<built-in dataset>": images, "uniform_noise": images}: `count` (or --ood-examples) inputs of the test
    images' shape the model never saw: the spec's other built-in dataset converted to that shape, and pixels
    drawn uniformly in [0, 1] (seeded)."""
    from tfgm.data import load

    n = cfg.ood_examples or count
    height, width, channels = spec.input_shape
    other = load(spec.ood_data, "test", image_size=(height, width), channels=channels, num_examples=n,
                 seed=cfg.seed)
    images = np.concatenate([b["image"].numpy() for b in other.batch(1000)])
    noise = np.random.default_rng(cfg.seed).random((n, *spec.input_shape)).astype(np.float32)
    return {spec.ood_data: images, "uniform_noise": noise}


def _group_summary(clean, group, score, threshold):
    """AUROC of `score` and raw, ratio of raw means, alarm rate at the threshold, for one group of inputs."""
    from tfgm import metrics

    values, raw = group["scores"][score], group["scores"]["raw"]
    result = {"auroc": metrics.detection_auroc(clean["scores"][score], values),
              "auroc_raw": metrics.detection_auroc(clean["scores"]["raw"], raw),
              "error_ratio": metrics.reconstruction_error_ratio(clean["scores"]["raw"], raw),
              "detection_rate": float(np.mean(values > threshold)),
              "mean_score": float(np.mean(values)), "mean_raw_error": float(np.mean(raw)),
              "num_examples": int(len(values))}
    if group["labels"] is not None:  # adversarial inputs, aligned with the clean test inputs
        hit = clean["predictions"] == clean["labels"]
        fooled = hit & (group["predictions"] != group["labels"])
        result["attack_success_rate"] = float(np.sum(fooled) / max(np.sum(hit), 1))
        result["auroc_successful_only"] = (metrics.detection_auroc(clean["scores"][score][hit], values[fooled])
                                           if hit.any() and fooled.any() else None)
    return result


def detection_summary(model, clean, groups, ood):
    """Detection of each table attack and each out-of-distribution set against clean test inputs, with the
    model's score (threshold, AUROC) and the raw summed error (AUROC, error ratio) side by side."""
    threshold, score = model.threshold, model.score
    return {"score": score, "score_description": model.score_description,
            "clean_false_alarm_rate": float(np.mean(clean["scores"][score] > threshold)),
            "clean_mean_score": float(np.mean(clean["scores"][score])),
            "clean_mean_error": float(np.mean(clean["scores"]["raw"])),
            "attacks": {row: _group_summary(clean, g, score, threshold) for row, g in groups.items()},
            "out_of_distribution": {name: _group_summary(clean, g, score, threshold) for name, g in ood.items()}}


# ---------------------------------------------------------------------------------------------- plots


def plot_sweep(path, sweep, title):
    """Fig. 2.5: accuracy vs ε under PGD and FGSM for both models."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, color in ((BASELINE, "tab:blue"), (FORTIFIED, "tab:red")):
        ax.plot(sweep["eps"], sweep[name]["pgd"], "-o", color=color, label=f"{MODEL_LABELS[name]}, PGD")
        ax.plot(sweep["eps"], sweep[name]["fgsm"], "--s", color=color, label=f"{MODEL_LABELS[name]}, FGSM")
    ax.set(xlabel="ε (L∞, pixel units)", ylabel="test accuracy", ylim=(-0.02, 1.02),
           title=f"{title}: accuracy vs ε ({sweep['num_examples']} test examples)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


SCORE_AXIS = {"raw": "raw: Σ‖D(E(h)) − h‖²", "relative": "relative: ‖D(E(h)) − h‖² / ‖h‖²",
              "cosine": "cosine: 1 − cos∠(D(E(h)), h)"}


def plot_detection(images_dir, clean, groups, ood, threshold, score, main_row, title):
    """detection_histogram.png and detection_roc.png, each with two panels side by side: the raw summed error
    (the thesis' score) and the model's `score` (its threshold drawn); clean test inputs vs the `main_row`
    attack and the out-of-distribution sets."""
    from tfgm.metrics import detection_auroc, roc_curve

    plt = pyplot()
    panels = list(dict.fromkeys(["raw", score]))
    shown = {"clean test": clean, main_row: groups[main_row], **ood}
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4), squeeze=False)
    for ax, name in zip(axes[0], panels):
        values = {label: g["scores"][name] for label, g in shown.items()}
        everything = np.concatenate(list(values.values()))
        upper = np.percentile(everything, 99.5)
        if name == score:
            upper = max(upper, threshold * 1.05)
        bins = np.linspace(min(0.0, everything.min()), upper, 50)
        for label, v in values.items():
            ax.hist(np.clip(v, None, upper), bins=bins, alpha=0.5, density=True, label=f"{label} (n={len(v)})")
        if name == score:
            ax.axvline(threshold, color="k", linestyle="--", label=f"threshold {threshold:.3g} (calibrated)")
        kind = "model's score" if name == score else "thesis' score"
        ax.set(xlabel=SCORE_AXIS[name] + " (values above the axis end in the last bin)", ylabel="density",
               title=f"{title}: {name} ({kind})")
        ax.legend(fontsize=7)
    hist = save_figure(fig, os.path.join(images_dir, "detection_histogram.png"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 5), squeeze=False)
    curves = {**{row: g for row, g in groups.items()}, **ood}
    for ax, name in zip(axes[0], panels):
        for label, g in curves.items():
            fpr, tpr = roc_curve(clean["scores"][name], g["scores"][name])
            auroc = detection_auroc(clean["scores"][name], g["scores"][name])
            ax.plot(fpr, tpr, label=f"{label} (AUROC {auroc:.3f})")
        ax.plot([0, 1], [0, 1], ":", color="gray")
        ax.set(xlabel="false-alarm rate (clean test)", ylabel="detection rate", title=f"{title}: ROC, {name} score")
        ax.legend(fontsize=7)
    return hist, save_figure(fig, os.path.join(images_dir, "detection_roc.png"))


def save_adversarial_grid(path, clean, recorders):
    """Rows: clean test images, then each table attack's x̃ on the fortified model."""
    from tfgm.training import make_grid, save_png

    rows = [clean[:8]] + [np.concatenate(rec.examples)[:8] for rec in recorders.values()]
    n = min(len(r) for r in rows)
    save_png(path, make_grid(np.stack([r[:n] for r in rows])))
    return path


# -------------------------------------------------------------------------------------------- reports


def row_label(row):
    """"fgsm@0.3" → "FGSM ε=0.3"."""
    kind, eps = row.rsplit("@", 1)
    return {"clean": "clean", "fgsm": "FGSM", "pgd": "PGD", "blackbox_fgsm": "black-box FGSM"}[kind] + f" ε={eps}"


def thesis_for(spec, row):
    """(adv. training %, fortified %, source) the thesis reports for a table row, or None."""
    kind, _, eps = row.partition("@")
    return spec.thesis.get((kind, float(eps))) if eps else None


def table_rows(spec, accuracy):
    """Rows of the thesis-style table: measured accuracies and, where the thesis has one, its number."""
    rows = []
    for row in [r for r in accuracy[FORTIFIED] if r != "num_examples"]:
        thesis = thesis_for(spec, row)
        rows.append({"row": row, "label": "clean" if row == "clean" else row_label(row),
                     BASELINE: accuracy[BASELINE][row], FORTIFIED: accuracy[FORTIFIED][row],
                     "thesis_reference_percent": None if thesis is None else
                     {BASELINE: thesis[0], FORTIFIED: thesis[1], "source": thesis[2]}})
    return rows


def thesis_reference(spec, cfg, eps):
    """The thesis' numbers for this dataset, labeled as a reference (metrics.json "thesis_reference")."""
    return {
        "note": "numbers reported in the thesis (Lamb, ch. 2), NOT measured in this run; percent test accuracy. "
                "Each comes from models adversarially trained with that row's attack and ε on the full dataset; "
                "this run trained once, with the attack in train_attack",
        "units": "percent",
        "rows": [{"attack": k[0], "eps": k[1], BASELINE: v[0], FORTIFIED: v[1], "source": v[2],
                  "same_training_attack_as_this_run": (k[0], k[1]) == (cfg.attack, eps)}
                 for k, v in spec.thesis.items()],
    }


def summary_table(rows, detection, masking, threshold, cfg):
    """Plain-text summary: the table (percent), detection and the gradient-masking lines."""
    lines = [f"{'test accuracy (%)':26s} {'adv. training':>13s} {'fortified':>10s}   thesis adv./fort. (reference)",
             "-" * 86]
    for r in rows:
        ref = r["thesis_reference_percent"]
        ref_text = "" if ref is None else f"{ref[BASELINE]:.2f} / {ref[FORTIFIED]:.2f} ({ref['source']})"
        lines.append(f"{r['label']:26s} {100 * r[BASELINE]:13.2f} {100 * r[FORTIFIED]:10.2f}   {ref_text}")
    score = detection["score"]
    lines += ["", f"off-manifold detection (fortified; score {score}; threshold {threshold:.4g} at "
                  f"{cfg.false_alarm_rate:.0%} false alarms on validation, {detection['clean_false_alarm_rate']:.1%} "
                  "on clean test):",
              f"  {'inputs':24s} {'AUROC ' + score:>14s} {'successful':>10s} {'AUROC raw':>10s} {'raw ratio':>10s} "
              f"{'flagged':>8s}"]
    named = [(row_label(row), d) for row, d in detection["attacks"].items()]
    named += [(f"OOD {name}", d) for name, d in detection["out_of_distribution"].items()]
    for label, d in named:
        successful = d.get("auroc_successful_only")
        lines.append(f"  {label:24s} {d['auroc']:14.3f} {'-' if successful is None else f'{successful:.3f}':>10s} "
                     f"{d['auroc_raw']:10.3f} {d['error_ratio']:10.2f} {d['detection_rate']:8.1%}")
    lines.append("  (successful: only inputs whose correct prediction the attack changed, against correctly classified "
                 "clean inputs)")
    lines.append("")
    for name, report in masking.items():
        lines.append(f"gradient-masking checks, {MODEL_LABELS[name]}:")
        lines += [f"  {line}" for line in report["lines"]]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ main


def run_image_recipe(config_cls, spec, description, argv=None):
    """The whole image recipe; returns the process exit status."""
    cfg = parse_config(config_cls, description, argv)
    problem = check_config(cfg)
    if problem:
        print(f"\nflags: {problem}", file=sys.stderr)
        return 2
    from tfgm.training import quiet_tensorflow

    quiet_tensorflow(cfg.verbose)
    from tfgm.data import DataError
    from tfgm.training import TrainingDiverged, set_seed, strategy

    started = time.time()
    set_seed(cfg.seed, cfg.deterministic)
    strat = strategy(cfg.strategy)
    eps = resolve_eps(cfg, spec)
    try:
        data, num_classes = load_image_data(cfg, spec)
    except DataError as exc:
        print(f"\ndata: {exc}", file=sys.stderr)
        return 2
    run = start_run(cfg, spec.recipe, strat)
    from recipes._data import batched

    train = batched(data["train"], cfg.batch_size, shuffle_seed=cfg.seed, drop_remainder=True)
    validation = dict_dataset(*data["validation"], cfg.batch_size)
    epochs = cfg.epochs or cfg.train_epochs
    build_baseline, build_fortified = builders(cfg, spec, num_classes, eps)
    models = {}
    try:
        for name, build in ((BASELINE, build_baseline), (FORTIFIED, build_fortified)):
            fit = {"x": train, "validation_data": validation, "epochs": epochs}
            models[name] = train_stage(run, strat, name, build, fit)
    except TrainingDiverged as exc:
        print(f"\nstopped: {exc}", file=sys.stderr)
        return 1
    fortified = models[FORTIFIED]
    threshold = fortified.calibrate_threshold(validation, false_alarm_rate=cfg.false_alarm_rate)
    run.save_model(fortified, FORTIFIED)
    print(f"off-manifold threshold {threshold:.4g} (false-alarm rate {cfg.false_alarm_rate:g} on "
          f"{len(data['validation'][0])} clean validation examples)")

    results = evaluate(cfg, spec, models, data, num_classes, eps)
    main_row = f"{cfg.attack}@{eps:g}"
    title = spec.recipe.replace("fortified_", "")
    images = [plot_sweep(os.path.join(run.images_dir, "eps_sweep.png"), results["sweep"], title)]
    detection_rows = results["recorders"][FORTIFIED]
    images += plot_detection(run.images_dir, results["clean"], results["groups"], results["ood"], threshold,
                             fortified.score, main_row, title)
    images.append(save_adversarial_grid(os.path.join(run.images_dir, "adversarial_examples.png"),
                                        results["first_clean"], detection_rows))
    rows = table_rows(spec, results["accuracy"])
    run.write_metrics({
        "data": cfg.data, "num_classes": num_classes,
        "train_attack": train_attack(cfg, eps),
        "accuracy": results["accuracy"],
        "table": rows,
        "thesis_reference": thesis_reference(spec, cfg, eps),
        "detection": {**results["detection"], "threshold": threshold, "false_alarm_rate_target": cfg.false_alarm_rate,
                      "calibration_examples": len(data["validation"][0]),
                      "protocol": "fortified model's noise-free scores per example: `auroc`/`threshold`/"
                                  "`detection_rate` use `score`, `auroc_raw`/`error_ratio` the thesis' summed error "
                                  "Σ_k ‖D_k(E_k(h_k)) − h_k‖²; attacks crafted white-box on the fortified model, "
                                  "AUROC against all clean test inputs (`auroc_successful_only`: inputs whose correct "
                                  "prediction the attack changed, against correctly classified clean inputs); "
                                  "out_of_distribution: inputs of another built-in dataset converted to the test "
                                  "shape, and uniform noise"},
        "gradient_masking": results["masking"],
        "eps_sweep": results["sweep"],
        "protocol": {
            "test_examples": results["num_test"],
            "pgd": {"step_size": cfg.pgd_step_size, "steps": cfg.pgd_steps, "restarts": cfg.pgd_restarts,
                    "random_start": True},
            "sweep_pgd": "step 2.5·ε/steps (tfgm.metrics.gradient_masking_report)",
            "blackbox": None if not cfg.blackbox else {
                "holdout": cfg.blackbox_holdout, "rounds": cfg.blackbox_rounds, "lambda": cfg.blackbox_lambda,
                "epochs_per_round": cfg.blackbox_epochs, "substitute": "MLP 200-200 (tfgm.nets mlp)",
                "attack": f"FGSM ε={eps:g} crafted on the substitute, transferred",
                "note": "the adversary's holdout points are the first test examples, excluded from every number"},
            "reconstruction_loss": {"reduction": fortified.rec_reduction, "lambda_rec": fortified.lambda_rec,
                                    "lambda_adv": fortified.lambda_adv},
            "baseline": "same classifier and train step with the fortified slot a frozen identity (λ = 0, σ = 0): "
                        "CE(clean) + CE(adversarial)",
            "epochs": epochs, "batch_size": cfg.batch_size, "seed": cfg.seed,
        },
        "images": [os.path.relpath(p, run.path) for p in images],
    })
    status = export_models(run, models) if cfg.export and run.is_chief else 0
    print()
    print(summary_table(rows, results["detection"], results["masking"], threshold, cfg))
    print(f"\nrun directory: {run.path}  ({time.time() - started:.0f} s)")
    return status
