"""Evaluation of the Fortified Networks image recipes: table accuracies, the fortified model's scores on every
input it sees (clean, attacked, out-of-distribution), gradient-masking checks and the ε-sweep."""

import functools
import time

import numpy as np

from recipes._fortified_attacks import autoattack_entry, blackbox_attack, table_attacks, table_pgd
from recipes._fortified_config import FORTIFIED
from recipes._fortified_data import array_batches, ood_sets


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
    """x → {"scores": {"raw": [N], model.score: [N], "doubt": [N]}, "predictions": [N]} from the fortified model,
    noise-free; "doubt" (1 − max softmax, tfgm.metrics.off_manifold.doubt on the same pass) is the blind baseline:
    the classifier's confidence without any DAE."""
    def scorer(x):
        probs, scores = model.predict_scores(x, batch_size=batch_size)
        return {"scores": {**scores, "doubt": 1.0 - probs.max(-1)}, "predictions": probs.argmax(-1)}

    return scorer


def run_autoattack(cfg, name, model, x, y, eps):
    """AutoAttack (tfgm.metrics.robust_accuracy's "autoattack" entry) and the table's PGD at `eps` on the first
    --autoattack-points of x [N, H, W, C] in [0, 1], y [N]: the AutoAttack report summed over batches with
    "pgd_accuracy" (same points) and "wall_seconds" (the AutoAttack call alone)."""
    from tfgm import metrics

    n = min(cfg.autoattack_points, len(x))
    batches = array_batches(x[:n], y[:n], cfg.batch_size)
    print(f"[{name}] AutoAttack ({cfg.autoattack_version}) at ε={eps:g} on {n} test points ...")
    pgd_accuracy = metrics.robust_accuracy(model, batches, {"pgd": table_pgd(cfg, eps)})["pgd"]
    started = time.perf_counter()
    result = metrics.robust_accuracy(model, batches, {"autoattack": autoattack_entry(cfg)}, eps=eps, seed=cfg.seed)
    report = dict(result["autoattack_reports"]["autoattack"], pgd_accuracy=pgd_accuracy,
                  wall_seconds=time.perf_counter() - started)
    print(f"[{name}] AutoAttack robust accuracy {report['robust_accuracy']:.4f} (PGD on the same points "
          f"{pgd_accuracy:.4f}; clean {report['clean_accuracy']:.4f}) in {report['wall_seconds']:.0f} s")
    return report


def add_autoattack_check(masking, report):
    """Add the check "AutoAttack ≤ PGD" (its line, its verdict) to a gradient-masking report, in place."""
    from tfgm.metrics.robustness import autoattack_vs_pgd

    check, line = autoattack_vs_pgd(report["robust_accuracy"], report["pgd_accuracy"], report["eps"],
                                    report["num_points"], report["version"])
    masking["checks"]["autoattack_vs_pgd"] = check
    masking["lines"].append(line)
    masking["passed"] = masking["passed"] and check["passed"]


def evaluate_models(cfg, spec, models, data, eps):
    """Table accuracies, AutoAttack, detection scores, black-box, gradient-masking reports and the ε-sweep."""
    from tfgm import metrics
    from tfgm.attacks import fgsm

    num_classes = data["num_classes"]
    fortified = models[FORTIFIED]
    x_test, y_test = data["test"]
    holdout = None
    if cfg.blackbox:
        cut = cfg.blackbox_holdout
        holdout, x_test, y_test = x_test[:cut], x_test[cut:], y_test[cut:]
    batches = array_batches(x_test, y_test, cfg.batch_size)
    scorer = make_scorer(fortified, cfg.batch_size)
    out = {"accuracy": {}, "recorders": {}, "masking": {}, "autoattack": {},
           "sweep": {"eps": sorted(set(cfg.sweep_eps) | {eps})}}
    for name, model in models.items():
        print(f"[{name}] evaluating on {len(x_test)} test examples ...")
        substitute = (blackbox_attack(cfg, spec.input_shape, model, holdout, num_classes, eps) if cfg.blackbox
                      else None)
        attacks = table_attacks(cfg, eps, substitute)
        recorders = {row: ScoreRecorder(a, scorer if name == FORTIFIED else None) for row, a in attacks.items()}
        out["accuracy"][name] = metrics.robust_accuracy(model, batches, recorders)
        out["recorders"][name] = recorders
        sweep_batches = array_batches(x_test[:cfg.sweep_examples], y_test[:cfg.sweep_examples], cfg.batch_size)
        blackbox_acc = out["accuracy"][name].get(f"blackbox_fgsm@{eps:g}")
        report = metrics.gradient_masking_report(model, sweep_batches, eps=eps, eps_grid=cfg.sweep_eps,
                                                 steps=cfg.pgd_steps, blackbox_accuracy=blackbox_acc, seed=cfg.seed)
        out["masking"][name] = report
        if cfg.autoattack:
            out["autoattack"][name] = run_autoattack(cfg, name, model, x_test, y_test, eps)
            add_autoattack_check(report, out["autoattack"][name])
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
    out["detection"] = {"score": fortified.score, "score_description": fortified.score_description,
                        **metrics.detection_summary(out["clean"], out["groups"], out["ood"], fortified.score,
                                                    fortified.threshold)}
    return out
